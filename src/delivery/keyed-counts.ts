/**
 * Counts per key (sends under way per endpoint, per origin) whose entries
 * stay at 0 when their count falls back, until `forgetIdle` drops them.
 *
 * Why not delete at 0: a count that goes 0 → 1 → 0 with every send would
 * delete and re-add its Map entry each time, and a Map that takes an insert
 * and a delete per send is rehashed every few hundred sends into a new
 * table, the old table keeping its entries; once such a table sits in the
 * old generation it holds young objects alive through every scavenge
 * (docs/benchmarks.md, twenty-ninth pass). Idle keys are dropped on the
 * owner's schedule instead (every few seconds), so a worker that once sent
 * to many endpoints or origins does not keep an entry for each.
 */
export class KeyedCounts {
  private readonly counts = new Map<string, number>();

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Counts one more under `key`; returns the count before. */
  up(key: string): number {
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    return n;
  }

  /** Counts one less under `key` (never below 0); the entry stays until forgetIdle. */
  down(key: string): void {
    const n = this.counts.get(key);
    if (n !== undefined && n > 0) this.counts.set(key, n - 1);
  }

  /** The keys with a count above 0, and their counts. */
  *busy(): IterableIterator<[string, number]> {
    for (const entry of this.counts) if (entry[1] > 0) yield entry;
  }

  /** Drops the entries at 0. */
  forgetIdle(): void {
    for (const [key, n] of this.counts) if (n === 0) this.counts.delete(key);
  }

  /** Keys with an entry, busy or not (what forgetIdle has not dropped yet). */
  get size(): number {
    return this.counts.size;
  }
}
