import type { Db } from '../db/db.js';
import type { Logger } from '../logger.js';
import { applyRetention } from '../store/retention.js';

/** Runs retention every `intervalSeconds` in a worker process (one at a time across processes). */
export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly retentionSeconds: number,
    private readonly intervalSeconds: number,
  ) {}

  start(): void {
    if (this.retentionSeconds <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.intervalSeconds * 1000);
    this.timer.unref();
  }

  runOnce(): Promise<void> {
    this.running ??= applyRetention(this.db, this.retentionSeconds)
      .then((r) => {
        if (r.events + r.auditEntries > 0) this.logger.info(r, 'retention removed old rows');
      })
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'retention pass failed; will try again'))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
