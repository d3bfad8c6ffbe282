import { randomUUID } from 'node:crypto';
import { Worker as Thread } from 'node:worker_threads';
import type { Config } from '../config/config.js';
import type { LocalWorker } from '../intake/publisher.js';
import type { Logger } from '../logger.js';
import type { Metrics, MetricsJson } from '../metrics.js';
import type { HandedOff, HandoffLease } from '../store/events.js';
import { threadEntry } from '../thread-entry.js';
import { smallestHandoff, type HandoffTenant } from './worker.js';
import type { FromWorker, ToWorker, WorkerThreadData } from './worker-thread-protocol.js';

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;

/** How long a stopping worker thread may take beyond its shutdown timeout before it is terminated. */
const STOP_GRACE_MS = 5_000;

/**
 * `herald serve`'s worker in a thread of its own (worker-thread.ts), seen
 * from the thread that serves the API: the LocalWorker that publishes hand
 * their deliveries to, by message.
 *
 * Why a thread: in one thread the API, the publishes' group commit and the
 * deliveries share one event loop and one heap; the deliveries' garbage
 * (response bodies, outcomes) makes every full GC mark the API's heap too,
 * and a busy worker delays the API's answers. A thread lets one process use
 * a second core and keeps the hand-off. Opt-in (HERALD_WORKER_THREAD): on
 * the 2-core bench machine, where PostgreSQL, the receiver and the
 * publishers already use every core, it delivered no more than one thread
 * (steady state, alternated runs) and held ~50 MB more RSS (a second heap).
 *
 * The hand-off crosses threads as it did within one: `reserve` leases the
 * room the thread last reported, less what was handed over since (sent,
 * and not yet reflected in a report) and what leases under way may still
 * bring; `accept` sends the deliveries once the publish committed. So
 * several publishes may hand over between two reports, as they do within
 * one thread: with one lease out until the next report, three quarters of
 * the steady state's deliveries went through the queue and a claim
 * (docs/benchmarks.md, 21st pass). Whatever a stale report lets through
 * beyond the worker's room waits in its hold or goes back to the queue
 * (Worker.accept).
 */
export class ThreadedWorker implements LocalWorker {
  private seq = 0;
  /** Room for hand-offs, as the thread last reported it. */
  private reported = 0;
  /** Hand-offs sent (message seq, deliveries) that the last report did not yet reflect. */
  private unreported: { seq: number; n: number }[] = [];
  /** What the leases out (publishes under way) may still hand over. */
  private reserved = 0;
  private leases = 0;
  private readonly tokenPrefix = `t${randomUUID().slice(0, 8)}`;
  private readonly metricsWaiting = new Map<number, (m: MetricsJson) => void>();
  private notifyQueued = false;
  private stopping: Promise<void> | null = null;
  /** Resolves when the thread has ended, for whatever reason. */
  readonly exited: Promise<number>;

  private constructor(
    private readonly thread: Thread,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.exited = new Promise((resolve) => thread.once('exit', resolve));
    thread.on('message', (m: FromWorker) => this.onMessage(m));
  }

  /** Starts the thread and waits until its worker runs (rejects with the reason it could not start). */
  static async start(config: Config, logger: Logger, metrics: Metrics): Promise<ThreadedWorker> {
    const thread = new Thread(threadEntry('delivery/worker-thread.js'), { workerData: { config } satisfies WorkerThreadData });
    const w = new ThreadedWorker(thread, config, logger);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.t === 'ready') done(null);
        else if (m.t === 'failed') done(new Error(`the worker thread could not start: ${m.message}`));
      };
      const onError = (err: Error) => done(err);
      const onExit = (code: number) => done(new Error(`the worker thread exited with code ${code} while starting`));
      const done = (err: Error | null) => {
        thread.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (err) void thread.terminate().then(() => reject(err));
        else resolve();
      };
      thread.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    thread.on('error', (err) => logger.error({ err: err.message, stack: err.stack }, 'the worker thread failed'));
    metrics.addSource(() => w.metrics());
    return w;
  }

  reserve(): HandoffLease | null {
    if (this.stopping) return null;
    let limit = this.reported - this.reserved;
    for (const u of this.unreported) limit -= u.n;
    if (limit < smallestHandoff(this.config.claimBatchSize, this.config.workerConcurrency)) return null;
    this.reserved += limit;
    return { token: `${this.tokenPrefix}:h${++this.leases}`, leaseSeconds: this.config.leaseSeconds, limit };
  }

  accept(lease: HandoffLease, tenant: HandoffTenant, handed: HandedOff): void {
    this.reserved -= lease.limit;
    // the events' Map crosses as it is (structured clone)
    const seq = this.send({ t: 'accept', lease, tenant, handed });
    this.unreported.push({ seq, n: handed.deliveries.length });
  }

  abandon(lease: HandoffLease): void {
    this.reserved -= lease.limit;
    this.send({ t: 'abandon', lease });
  }

  noneHanded(lease: HandoffLease): void {
    this.reserved -= lease.limit;
  }

  /** News of work in the queue, passed on once per turn of the event loop. */
  notify(): void {
    if (this.notifyQueued || this.stopping) return;
    this.notifyQueued = true;
    setImmediate(() => {
      this.notifyQueued = false;
      this.send({ t: 'notify' });
    });
  }

  /** The worker's metrics (none if it does not answer within a second). */
  private metrics(): Promise<MetricsJson> {
    if (this.stopping) return Promise.resolve([]);
    const seq = this.send({ t: 'metrics' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.metricsWaiting.delete(seq);
        resolve([]);
      }, 1_000);
      this.metricsWaiting.set(seq, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  /** Stops the worker (in-flight deliveries finish within the shutdown timeout), then the thread. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.send({ t: 'stop' });
      const timer = setTimeout(() => {
        this.logger.warn('the worker thread did not stop in time; terminating it');
        void this.thread.terminate();
      }, this.config.shutdownTimeoutMs + STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    })();
    return this.stopping;
  }

  private send(m: WithoutSeq<ToWorker>): number {
    const seq = ++this.seq;
    this.thread.postMessage({ ...m, seq } as ToWorker);
    return seq;
  }

  private onMessage(m: FromWorker): void {
    if (m.t === 'room') {
      this.reported = m.room;
      while (this.unreported.length > 0 && this.unreported[0]!.seq <= m.seen) this.unreported.shift();
    } else if (m.t === 'stopped') {
      // everything is closed; a thread that lingers past this (a stray timer) is ended
      setTimeout(() => void this.thread.terminate(), 1_000).unref();
    } else if (m.t === 'metrics') {
      this.metricsWaiting.get(m.seq)?.(m.metrics);
      this.metricsWaiting.delete(m.seq);
    }
  }
}
