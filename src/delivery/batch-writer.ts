/** A per-item failure inside a batch that otherwise succeeded (see BatchWriter). */
export class ItemFailure {
  constructor(readonly error: unknown) {}
}

/** A caller waiting for its item's write. */
interface Waiter<R> {
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: items added while a write is under way are written together
 * by the next one. An idle system writes each item at once (lowest latency);
 * a busy one writes in batches of up to `maxBatch` (highest throughput).
 * A writer whose callers do not wait on the write may `linger` for a
 * bigger batch. `write` may return one result per item (an
 * ItemFailure rejects that item alone).
 */
export class BatchWriter<T, R = void, P = T[]> {
  private pending: T[] = [];
  /** What the pending items weigh (by `budget.weigh`; 0 without a budget). */
  private pendingBytes = 0;
  private waiters: Waiter<R>[] = [];
  private running: Promise<void> | null = null;
  /** Ends the current linger early (enough items came, or a flush). */
  private lingering: (() => void) | null = null;
  /** Flushes under way: they write at once, without lingering. */
  private flushing = 0;

  constructor(
    private readonly write: (batch: P) => Promise<(R | ItemFailure)[] | void>,
    private readonly maxBatch: number,
    /** Attempts at a failing write before its items are rejected. (Default: 9) */
    private readonly attempts = 9,
    /**
     * Bytes a batch may carry at most (by `weigh`), besides `maxBatch` items;
     * a single item heavier than that is still written, alone.
     */
    private readonly budget: { maxBytes: number; weigh: (item: T) => number } | null = null,
    /**
     * Before writing fewer than `items` (or less than the byte budget), wait
     * up to `ms` for more (a write of 50 rows cost the outcome statement a
     * quarter more per row than one of 200). Off by default: the publish
     * path writes at once.
     */
    private readonly linger: { items: number; ms: number } | null = null,
    /**
     * Turns a batch into what `write` takes (and retries), once, before the
     * write: the items themselves are then no longer held while it runs.
     * (Default: the batch as it is; P must then be T[].)
     */
    private readonly prepare: ((batch: T[]) => P) | null = null,
  ) {}


  /** Resolves once the item is written; rejects if its batch failed after retries. */
  add(item: T): Promise<R> {
    this.pending.push(item);
    if (this.budget) this.pendingBytes += this.budget.weigh(item);
    const done = new Promise<R>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.lingering && this.full()) this.lingering();
    if (!this.running) this.running = this.drain();
    return done;
  }

  /** Waits until everything added so far is written (at once: no lingering). */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      while (this.running) {
        this.lingering?.();
        await this.running;
      }
    } finally {
      this.flushing--;
    }
  }


  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        if (this.linger && this.flushing === 0 && !this.full()) await this.lingerFor(this.linger.ms);
        const taken = this.next();
        if (!taken) continue;
        const { prepared, waiters } = taken;
        try {
          const results = await this.writeWithRetry(prepared);
          waiters.forEach((w, i) => {
            const r = results ? results[i] : undefined;
            if (r instanceof ItemFailure) w.reject(r.error);
            else w.resolve(r as R);
          });
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.running = null;
    }
  }

  /**
   * Takes the next batch off the pending items, prepared for its write, with
   * its callers. The batch itself is not kept past this call (see `prepare`).
   * Null when `prepare` threw: the batch's callers got its error.
   */
  private next(): { prepared: P; waiters: Waiter<R>[] } | null {
    const batch = this.pending.splice(0, this.takeable());
    if (this.budget) for (const item of batch) this.pendingBytes -= this.budget.weigh(item);
    const waiters = this.waiters.splice(0, batch.length);
    try {
      return { prepared: this.prepare ? this.prepare(batch) : (batch as unknown as P), waiters };
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return null;
    }
  }

  /** Whether a lingering batch has enough: `linger.items` items, or a byte budget's worth. */
  private full(): boolean {
    return (this.linger !== null && this.pending.length >= this.linger.items) || (this.budget !== null && this.pendingBytes >= this.budget.maxBytes);
  }

  /** Waits `ms`, or less if enough items come (see `linger`). */
  private lingerFor(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.lingering = null;
        resolve();
      }, ms);
      this.lingering = () => {
        clearTimeout(t);
        this.lingering = null;
        resolve();
      };
    });
  }

  /** How many pending items the next batch takes: up to maxBatch, and within the byte budget. */
  private takeable(): number {
    const n = Math.min(this.maxBatch, this.pending.length);
    if (!this.budget) return n;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      bytes += this.budget.weigh(this.pending[i] as T);
      if (bytes > this.budget.maxBytes) return Math.max(1, i);
    }
    return n;
  }

  /**
   * A failed write (database restarting) is retried with backoff for about
   * half a minute; past that the items' leases expire and other workers
   * redo them, which at-least-once delivery allows.
   */
  private async writeWithRetry(batch: P): Promise<(R | ItemFailure)[] | void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write(batch);
      } catch (err) {
        if (attempt >= this.attempts) throw err;
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** (attempt - 1))));
      }
    }
  }
}
