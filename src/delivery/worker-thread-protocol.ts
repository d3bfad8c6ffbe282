import type { Config } from '../config/config.js';
import type { MetricsJson } from '../metrics.js';
import type { HandedOff, HandoffLease } from '../store/events.js';
import type { HandoffTenant } from './worker.js';

/** What `serve` gives its worker thread at start. */
export interface WorkerThreadData {
  config: Config;
}

/** Messages from the publishing (main) thread; `seq` numbers them. */
export type ToWorker =
  | { t: 'accept'; seq: number; lease: HandoffLease; tenant: HandoffTenant; handed: HandedOff }
  | { t: 'abandon'; seq: number; lease: HandoffLease }
  | { t: 'notify'; seq: number }
  | { t: 'metrics'; seq: number }
  | { t: 'stop'; seq: number };

/** Messages from the worker thread. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'failed'; message: string }
  /** Room for hand-offs (Worker.handoffRoom) after the main thread's messages up to `seen`. */
  | { t: 'room'; room: number; seen: number }
  | { t: 'metrics'; seq: number; metrics: MetricsJson }
  | { t: 'stopped' };
