/**
 * Calls waiting for their reply, by the id sent with them: an array of
 * slots reused once answered, not a Map. A long-lived Map with an insert
 * and a delete per call is rehashed every few calls, and once its table is
 * in V8's old generation each table it leaves behind keeps the calls it
 * held (their promises, and the frames awaiting them with their
 * parameters and results) alive through the young generation's
 * collections until the next full one (see delivery/open-sends.ts).
 */
export class PendingCalls<T> {
  private readonly slots: (T | undefined)[] = [];
  private readonly free: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Keeps `call` until its reply; returns the id to send with it. */
  add(call: T): number {
    const id = this.free.pop() ?? this.slots.length;
    this.slots[id] = call;
    this.count++;
    return id;
  }

  /** The call waiting under `id`, which then no longer waits (undefined when none does). */
  take(id: number): T | undefined {
    const call = this.slots[id];
    if (call === undefined) return undefined;
    this.slots[id] = undefined;
    this.free.push(id);
    this.count--;
    return call;
  }

  /** Every call still waiting, none of which waits any more. */
  takeAll(): T[] {
    const out: T[] = [];
    for (let id = 0; id < this.slots.length; id++) {
      const call = this.take(id);
      if (call !== undefined) out.push(call);
    }
    return out;
  }
}
