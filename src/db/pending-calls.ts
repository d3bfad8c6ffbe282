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
  private readonly slots: (T | undefined)[] = [];
  /** The id each slot was last given. */
  private readonly ids: number[] = [];
  private readonly free: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Keeps `call` until its reply; returns the id to send with it. */
  add(call: T): number {
    const slot = this.free.pop() ?? this.slots.length;
    if (slot >= SLOTS) throw new Error(`more than ${SLOTS} calls waiting at once`);
    const uses = this.ids[slot] === undefined ? 0 : (Math.floor(this.ids[slot] / SLOTS) + 1) % 2 ** 32;
    const id = uses * SLOTS + slot;
    this.slots[slot] = call;
    this.ids[slot] = id;
    this.count++;
    return id;
  }

  /** The call waiting under `id`, which then no longer waits (undefined when none does). */
  take(id: number): T | undefined {
    const slot = id % SLOTS;
    const call = this.slots[slot];
    if (call === undefined || this.ids[slot] !== id) return undefined;
    this.slots[slot] = undefined;
    this.free.push(slot);
    this.count--;
    return call;
  }

  /** Every call still waiting, none of which waits any more. */
  takeAll(): T[] {
    const out: T[] = [];
    for (let slot = 0; slot < this.slots.length; slot++) {
      const call = this.slots[slot];
      if (call !== undefined) out.push(this.take(this.ids[slot]!)!);
    }
    return out;
  }
}
