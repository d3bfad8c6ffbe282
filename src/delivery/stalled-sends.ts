/**
 * Sends whose answer is overdue stop taking one of the worker's slots.
 *
 * A worker has a fixed number of slots (HERALD_WORKER_CONCURRENCY) and each
 * endpoint a cap of its own. A receiver that stops answering holds its
 * endpoint's whole cap of slots until each request times out (10 s by
 * default), and AIMD (throttle.ts) only lowers the cap once those time out:
 * one such endpoint took 32 of 256 slots, eight took them all, and every
 * other tenant's deliveries waited behind them.
 *
 * So a send still unanswered `afterMs` after it started is "stalled": it
 * keeps counting against its endpoint's cap, but its worker slot goes to
 * the next delivery. At most `max` sends are stalled at once (beyond that
 * they keep their slots), so a worker never has more than its slots plus
 * `max` requests open, and memory stays bounded.
 */
/** The most requests a worker with `concurrency` slots has open: its slots, and as many stalled sends. */
export const mostOpenSends = (concurrency: number): number => 2 * concurrency;

export class StalledSends {
  /** Sends not (yet) stalled, by id, in the order they started. */
  private readonly running = new Map<string, number>();
  private readonly stalled = new Set<string>();

  constructor(
    private readonly afterMs: number,
    private readonly max: number,
  ) {}

  get count(): number {
    return this.stalled.size;
  }

  started(id: string, now: number): void {
    this.running.set(id, now);
  }

  ended(id: string): void {
    if (!this.running.delete(id)) this.stalled.delete(id);
  }

  /** Marks the sends that have waited `afterMs` as stalled (up to `max` in all); returns how many it marked. */
  sweep(now: number): number {
    let marked = 0;
    for (const [id, at] of this.running) {
      // started in order: the first one not yet overdue ends the overdue ones
      if (now - at < this.afterMs || this.stalled.size >= this.max) break;
      this.running.delete(id);
      this.stalled.add(id);
      marked++;
    }
    return marked;
  }
}
