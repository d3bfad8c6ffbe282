/**
 * The worker's open sends, in the order they started, and which of them
 * are stalled.
 *
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

/** One open send (see OpenSends); its links and item are cleared once it is closed. */
export class OpenSend<T> {
  prev: OpenSend<T> | null = null;
  next: OpenSend<T> | null = null;
  stalled = false;

  constructor(
    /** What the worker keeps of the send while it is open; null once closed. */
    public item: T | null,
    readonly startedAt: number,
  ) {}
}

/**
 * A list linked through its entries rather than a Map or Set, and every
 * closed entry let go of: a long-lived Map or Set with an insert and a
 * delete per send is rehashed every few hundred sends, and once its table
 * has reached V8's old generation every new table is made there too; each
 * table it leaves behind still points at every send that was open then,
 * so until the next full collection those sends, done or not, were kept
 * through the young generation's collections and promoted with all they
 * referenced. In `herald serve` that was nearly every delivery's request,
 * response headers and timer: 2.96 KB promoted per delivery and a full
 * collection a second, against 0.55 KB and one in four seconds with this
 * list (docs/benchmarks.md, twenty-ninth pass).
 */
export class OpenSends<T> {
  /** The oldest open send. */
  private head: OpenSend<T> | null = null;
  private tail: OpenSend<T> | null = null;
  private open = 0;
  private stalledCount = 0;

  constructor(
    private readonly afterMs: number,
    /** The most sends stalled at once. */
    private readonly max: number,
  ) {}

  /** Sends open, stalled or not. */
  get size(): number {
    return this.open;
  }

  /** Sends stalled: open, but no longer taking a slot. */
  get stalled(): number {
    return this.stalledCount;
  }

  /** Opens a send started at `now`; close it with `close` once it is over. */
  add(item: T, now: number): OpenSend<T> {
    const e = new OpenSend(item, now);
    e.prev = this.tail;
    if (this.tail) this.tail.next = e;
    else this.head = e;
    this.tail = e;
    this.open++;
    return e;
  }

  /** Closes a send (once; closing it again does nothing). */
  close(e: OpenSend<T>): void {
    if (e.item === null) return;
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    if (e.stalled) this.stalledCount--;
    e.prev = null;
    e.next = null;
    e.item = null;
    this.open--;
  }

  /** Marks the sends that have waited `afterMs` as stalled (oldest first, up to `max` in all); returns how many it marked. */
  sweep(now: number): number {
    let marked = 0;
    for (let e = this.head; e; e = e.next) {
      if (e.stalled) continue;
      // started in order: the first one not yet overdue ends the overdue ones
      if (now - e.startedAt < this.afterMs || this.stalledCount >= this.max) break;
      e.stalled = true;
      this.stalledCount++;
      marked++;
    }
    return marked;
  }

  /** The open sends' items, oldest first. */
  items(): T[] {
    const out: T[] = [];
    for (let e = this.head; e; e = e.next) out.push(e.item as T);
    return out;
  }
}
