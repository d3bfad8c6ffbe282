import type { Db } from '../db/db.js';
import type { Logger } from '../logger.js';
import { applyRetention, autovacuumRuns, deleteStaleWorkers, vacuumRetentionTables } from '../store/retention.js';

export type RetentionVacuum = 'auto' | 'always' | 'never';

export interface RetentionJobOptions {
  /** Age after which rows go, in seconds; 0 = keep forever. */
  retentionSeconds: number;
  /** Time between passes, in seconds. */
  intervalSeconds: number;
  /**
   * VACUUM the tables after a pass that deleted rows: `auto` = only when
   * nothing else does (autovacuum off, or PGlite). (Default: auto)
   */
  vacuum?: RetentionVacuum;
  /** Rows per delete statement. (Default: 5000) */
  batch?: number;
  /** Batches per burst before the job pauses briefly. (Default: 100) */
  maxBatches?: number;
}

/** Pause between bursts of a pass that is catching up, in milliseconds. */
const BURST_PAUSE_MS = 100;

/**
 * Runs retention every `intervalSeconds` in a worker process (one at a
 * time across processes). A pass goes on, in bursts of `maxBatches`
 * batches, until nothing old is left: a fixed cap per interval (it was
 * 100 × 5,000 rows per 300 s, 1,667 events/s) would fall behind any
 * intake faster than that and let the tables grow without bound.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  private readonly vacuum: RetentionVacuum;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly o: RetentionJobOptions,
  ) {
    this.vacuum = o.vacuum ?? 'auto';
  }

  start(): void {
    if (this.o.retentionSeconds <= 0 || this.timer) return;
    this.stopping = false;
    this.timer = setInterval(() => void this.runOnce(), this.o.intervalSeconds * 1000);
    this.timer.unref();
  }

  runOnce(): Promise<void> {
    this.running ??= this.pass()
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'retention pass failed; will try again'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    const started = Date.now();
    let events = 0;
    let auditEntries = 0;
    let bursts = 0;
    for (;;) {
      const r = await applyRetention(this.db, this.o.retentionSeconds, this.o.batch, this.o.maxBatches);
      events += r.events;
      auditEntries += r.auditEntries;
      bursts++;
      if (!r.more || this.stopping) break;
      await new Promise((res) => setTimeout(res, BURST_PAUSE_MS));
    }
    const deleteMs = Date.now() - started;
    await deleteStaleWorkers(this.db);
    if (events + auditEntries === 0) return;
    // a VACUUM can take a while on big tables; a shutting-down worker leaves it to the next pass
    if (this.stopping) return;
    let vacuumMs: number | null = null;
    if (this.vacuum === 'always' || (this.vacuum === 'auto' && !(await autovacuumRuns(this.db)))) {
      const t = Date.now();
      await vacuumRetentionTables(this.db);
      vacuumMs = Date.now() - t;
    }
    this.logger.info({ events, auditEntries, bursts, deleteMs, vacuumMs, durationMs: Date.now() - started }, 'retention removed old rows');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
