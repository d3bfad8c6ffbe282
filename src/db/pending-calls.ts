/** Slots a PendingCalls can have (calls waiting at once); an id carries its slot below this. */
const SLOTS = 2 ** 20;

/**
 * Calls waiting for their reply, by the id sent with them: an array of
 * slots reused once answered, not a Map. A long-lived Map with an insert and
 * a delete per call is rehashed every few calls, and once its table is in
 * V8's old generation each table it leaves behind keeps the calls it held
 * (their promises, and the frames awaiting them with their parameters and
 * results) alive through the young generation's collections until the next
 * full one (see delivery/open-sends.ts).
 *
 * An id names its slot and how many times the slot was used before, so a
 * reply that came twice for one call cannot reach the call using the slot
 * after it.
 */
export class PendingCalls<T> {
  /** Each slot's call (undefined once answered) and the id it was last given. */
  private readonly slots: { call: T | undefined; id: number }[] = [];
  private readonly free: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Keeps `call` until its reply; returns the id to send with it. */
  add(call: T): number {
    const reused = this.free.pop();
    if (reused === undefined && this.slots.length >= SLOTS) throw new Error(`more than ${SLOTS} calls waiting at once`);
    const slot = reused ?? this.slots.push({ call: undefined, id: -1 }) - 1;
    const s = this.slots[slot]!;
    const uses = s.id < 0 ? 0 : (Math.floor(s.id / SLOTS) + 1) % 2 ** 32;
    s.id = uses * SLOTS + slot;
    s.call = call;
    this.count++;
    return s.id;
  }

  /** The call waiting under `id`, which then no longer waits (undefined when none does). */
  take(id: number): T | undefined {
    const slot = id % SLOTS;
    const s = this.slots[slot];
    if (s === undefined || s.call === undefined || s.id !== id) return undefined;
    const call = s.call;
    s.call = undefined;
    this.free.push(slot);
    this.count--;
    return call;
  }

  /** Every call still waiting, none of which waits any more. */
  takeAll(): T[] {
    const out: T[] = [];
    for (const s of this.slots) if (s.call !== undefined) out.push(this.take(s.id)!);
    return out;
  }
}
