import type { Db } from '../db/db.js';
import type { Logger } from '../logger.js';
import { vacuumFanouts, writeOutFanouts } from './queue/fanout.js';

/**
 * Batches (fanouts rows) taken by one statement: one, so that a statement
 * writes no more than the batch's own publish would have (a batch of 1,000
 * events to 100 endpoints lists 100,000 deliveries).
 */
export const BATCHES_PER_STATEMENT = 1;
/** Batches written out between two vacuums of the fanouts table. */
const VACUUM_EVERY = 64;

/**
 * A worker's writer of deferred deliveries (migration 0033): poked by the
 * batch route's NOTIFY, by its heartbeat when rows wait (a NOTIFY lost to a
 * crash or a reconnect), and at start; it then writes batches out until
 * none is left, one statement at a time, and tells the worker each time
 * (`written`), which then claims them like any other delivery.
 */
export class FanoutWriter {
  private due = false;
  private running: Promise<void> | null = null;
  private stopped = false;
  private sinceVacuum = 0;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly written: (deliveries: number) => void,
  ) {}

  /** Rows may wait: write them out (a poke during a run makes that run look again). */
  poke(): void {
    this.due = true;
    if (this.running || this.stopped) return;
    this.running = this.run().finally(() => {
      this.running = null;
    });
  }

  private async run(): Promise<void> {
    while (this.due && !this.stopped) {
      this.due = false;
      let n: { batches: number; deliveries: number };
      try {
        n = await writeOutFanouts(this.db, BATCHES_PER_STATEMENT);
      } catch (err) {
        // database away: the next heartbeat that finds rows waiting pokes again
        this.logger.warn({ err: (err as Error).message }, 'writing out deferred deliveries failed');
        return;
      }
      if (n.batches === 0) continue;
      this.due = true; // more may wait
      if (n.deliveries > 0) this.written(n.deliveries);
      this.sinceVacuum += n.batches;
      if (this.sinceVacuum >= VACUUM_EVERY) {
        this.sinceVacuum = 0;
        await vacuumFanouts(this.db).catch((err: Error) => this.logger.warn({ err: err.message }, 'vacuum of fanouts failed'));
      }
    }
  }

  /** Lets a statement under way finish; nothing starts after. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
