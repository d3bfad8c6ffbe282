import type { IdempotencyStore } from './idempotency.js';

export interface MemoryIdempotencyStoreOptions {
  /** Most ids kept; past it the oldest claims are dropped first. (Default: 100000) */
  maxSize?: number;
  /** Seconds between sweeps of expired ids (done during `claim`, no timer). (Default: 60) */
  sweepIntervalSeconds?: number;
  /** The current time in unix seconds. (Default: `Date.now() / 1000`) */
  now?: () => number;
}

/**
 * An in-process {@link IdempotencyStore}: for a single instance, or tests.
 * Ids are lost on restart and not shared between processes — use
 * `PostgresIdempotencyStore` for that. Expired ids are evicted lazily when
 * met and by a sweep at most every `sweepIntervalSeconds`; beyond `maxSize`
 * the oldest claims go first.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #expiries = new Map<string, number>();
  readonly #maxSize: number;
  readonly #sweepInterval: number;
  readonly #now: () => number;
  #lastSweep: number;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    const { maxSize = 100_000, sweepIntervalSeconds = 60, now = () => Date.now() / 1000 } = options;
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new TypeError('maxSize must be an integer >= 1');
    if (!(sweepIntervalSeconds >= 0)) throw new TypeError('sweepIntervalSeconds must be a number >= 0');
    if (typeof now !== 'function') throw new TypeError('now must be a function returning unix seconds');
    this.#maxSize = maxSize;
    this.#sweepInterval = sweepIntervalSeconds;
    this.#now = now;
    this.#lastSweep = now();
  }

  /** Ids currently held (expired ones not yet swept included). */
  get size(): number {
    return this.#expiries.size;
  }

  async claim(id: string, ttlSeconds: number): Promise<boolean> {
    if (!(ttlSeconds > 0)) throw new TypeError('ttlSeconds must be a number > 0');
    const now = this.#now();
    if (now - this.#lastSweep >= this.#sweepInterval) this.sweep();
    const expiresAt = this.#expiries.get(id);
    if (expiresAt !== undefined && expiresAt > now) return false;
    // Delete first so a re-claimed id moves to the end of the insertion order.
    this.#expiries.delete(id);
    if (this.#expiries.size >= this.#maxSize) this.sweep();
    while (this.#expiries.size >= this.#maxSize) {
      const oldest = this.#expiries.keys().next();
      if (oldest.done) break;
      this.#expiries.delete(oldest.value);
    }
    this.#expiries.set(id, now + ttlSeconds);
    return true;
  }

  async release(id: string): Promise<void> {
    this.#expiries.delete(id);
  }

  /** Drops every expired id now. */
  sweep(): void {
    const now = this.#now();
    this.#lastSweep = now;
    for (const [id, expiresAt] of this.#expiries) {
      if (expiresAt <= now) this.#expiries.delete(id);
    }
  }

  clear(): void {
    this.#expiries.clear();
  }
}
