/**
 * The worker thread of `herald serve` on PostgreSQL: a Worker with its own
 * connections, HTTP dispatcher and metrics, driven by messages from the
 * thread that serves the API (threaded-worker.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PgDb } from '../db/pg.js';
import { createLogger } from '../logger.js';
import { Metrics } from '../metrics.js';
import { secretBoxFor, startWorker, type StartedWorker } from '../runtime.js';
import { transformPoolFor } from '../transform/pool.js';
import type { FromWorker, ToWorker, WorkerThreadData } from './worker-thread-protocol.js';

const port = parentPort!;
const { config } = workerData as WorkerThreadData;
const logger = createLogger(config.logLevel);
const post = (m: FromWorker) => port.postMessage(m);

/**
 * Tells the main thread the room for hand-offs when it moved by a
 * sixteenth of the slots or more (a message per freed slot would cost more
 * than it tells), or to or from none; at most once per turn of the event
 * loop. Each report says which of the main thread's messages it reflects
 * (`seen`): the main thread takes what it handed over since off the room
 * (threaded-worker.ts). A hand-off counts as seen once its deliveries are
 * taken, so a report always follows one.
 */
class RoomReports {
  private sent = 0;
  private seen = 0;
  /** The next report goes whatever the room (a hand-off was taken: the main thread waits to hear it). */
  private force = false;
  private scheduled = false;
  private worker: StartedWorker['worker'] | null = null;

  constructor(private readonly step: number) {}

  attach(worker: StartedWorker['worker']): void {
    this.worker = worker;
    this.changed();
  }

  /** The main thread's message `seq` (a hand-off, or an abandoned one) is taken into the room. */
  spent(seq: number): void {
    this.seen = Math.max(this.seen, seq);
    this.force = true;
    this.changed();
  }

  changed(): void {
    if (this.scheduled || !this.worker) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const room = this.worker!.handoffRoom();
      if (!this.force && Math.abs(room - this.sent) < this.step && (room === 0) === (this.sent === 0)) return;
      this.force = false;
      this.sent = room;
      post({ t: 'room', room, seen: this.seen });
    });
  }
}

async function main(): Promise<void> {
  const metrics = new Metrics({ processMetrics: false });
  // a small pool for the key check; the worker opens its own (runtime.ts)
  const db = new PgDb({ connectionString: config.databaseUrl!, logger, max: 2 });
  const reports = new RoomReports(Math.max(1, Math.floor(config.workerConcurrency / 16)));
  // this thread's own transformation threads (the API's thread has its own for the test route)
  const transforms = transformPoolFor(config);
  let started: StartedWorker;
  try {
    const secrets = await secretBoxFor(config, db, logger);
    started = await startWorker({ config, logger, metrics, db, secrets, transforms, onRoomChanged: () => reports.changed() });
  } catch (err) {
    await transforms.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    post({ t: 'failed', message: (err as Error).message });
    return;
  }
  const { worker } = started;
  reports.attach(worker);
  port.on('message', (m: ToWorker) => {
    switch (m.t) {
      case 'accept':
        void worker.accept(m.lease, m.tenant, m.handed).then(() => reports.spent(m.seq));
        break;
      case 'abandon':
        worker.abandon(m.lease);
        reports.spent(m.seq);
        break;
      case 'notify':
        worker.notify();
        break;
      case 'metrics':
        void metrics.registry.getMetricsAsJSON().then((json) => post({ t: 'metrics', seq: m.seq, metrics: json }));
        break;
      case 'stop':
        void started
          .close()
          .then(() => transforms.close())
          .then(() => db.close())
          .catch((err: Error) => logger.error({ err: err.message }, 'worker thread: stop failed'))
          .finally(() => {
            post({ t: 'stopped' });
            port.close();
          });
        break;
    }
  });
  post({ t: 'ready' });
}

void main();
