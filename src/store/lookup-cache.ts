/**
 * Database lookups kept for `ttlMs`, so the publish path (token, tenant,
 * event type) costs no query per request, while a change made by another
 * process still applies within `ttlMs`.
 *
 * - One load per key at a time: callers that miss while a load is under
 *   way share it. Without that, every publish in flight when an entry
 *   expired ran its own query: at 1,000 publishes/s that was a dozen
 *   queries at once every 5 s, each on a connection the pool had to open
 *   (a new backend's first parse of a statement took 10-30 ms), and the
 *   publish statement that landed on one of them next was planned from
 *   cold: publish calls of 250-330 ms, p99 of the latency benchmark.
 * - Refreshed ahead: a hit in the last quarter of its life starts one
 *   load in the background and answers with the value it has, which is
 *   still within `ttlMs`. A key in steady use never expires in front of a
 *   caller.
 *   (Off for values read on a schedule of their own rather than on a hot
 *   path, such as the /metrics gauges: there a refresh ahead would only read
 *   more often.)
 * - A failed load is not kept: its callers get the error, the next caller
 *   tries again.
 */
export class LookupCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly loading = new Map<string, Promise<V>>();

  constructor(
    private readonly ttlMs: number,
    /** Entries kept at most; past that the cache starts over. (Default: 10,000) */
    private readonly maxEntries = 10_000,
    /** Milliseconds now. (Default: Date.now) */
    private readonly clock: () => number = Date.now,
    /** Refresh a key in use during the last quarter of its life. (Default: true) */
    private readonly refreshAhead = true,
  ) {}

  /** The cached value of `key`, or `load()`'s (shared with concurrent callers of the same key). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = this.clock();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) {
      if (this.refreshAhead && hit.expires - now < this.ttlMs / 4 && !this.loading.has(key)) void this.start(key, load).catch(() => undefined);
      return Promise.resolve(hit.value);
    }
    return this.loading.get(key) ?? this.start(key, load);
  }

  private start(key: string, load: () => Promise<V>): Promise<V> {
    const p = load().then(
      (value) => {
        // forgotten meanwhile: the value may predate the change that made us forget it
        if (this.loading.get(key) === p) {
          this.loading.delete(key);
          if (this.entries.size >= this.maxEntries) this.entries.clear();
          this.entries.set(key, { value, expires: this.clock() + this.ttlMs });
        }
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key) === p) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, p);
    return p;
  }

  /** Drops `key` (and any load of it under way): the next get loads it again. */
  forget(key: string): void {
    this.entries.delete(key);
    this.loading.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.loading.clear();
  }
}
