/**
 * Group commit: items added while a write is under way are written together
 * by the next one. An idle system writes each item at once (lowest latency);
 * a busy one writes in batches of up to `maxBatch` (highest throughput),
 * with no timer to tune.
 */
export class BatchWriter<T> {
  private pending: T[] = [];
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly write: (batch: T[]) => Promise<void>,
    private readonly maxBatch: number,
  ) {}

  /** Resolves once the item is written; rejects if its batch failed after retries. */
  add(item: T): Promise<void> {
    this.pending.push(item);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.running) this.running = this.drain();
    return done;
  }

  /** Waits until everything added so far is written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        const waiters = this.waiters.splice(0, batch.length);
        try {
          await this.writeWithRetry(batch);
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.running = null;
    }
  }

  /**
   * A failed write (database restarting) is retried with backoff for about
   * half a minute; past that the items' leases expire and other workers
   * redo them, which at-least-once delivery allows.
   */
  private async writeWithRetry(batch: T[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.write(batch);
        return;
      } catch (err) {
        if (attempt >= 8) throw err;
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }
}
