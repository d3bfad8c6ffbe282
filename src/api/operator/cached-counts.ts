import type { Queryable } from '../../db/db.js';
import { operatorCounts, type OperatorCounts } from '../../store/operator-overview.js';

/** How long one read of the operator counts serves scrapes, in milliseconds. (Default: 5000) */
export const OPERATOR_COUNTS_TTL_MS = 5000;

/**
 * The operator counts, read at most once per `ttlMs`: Prometheus may scrape
 * every second from several servers, and each gauge asks for the same
 * figures, so one read serves them all. Concurrent callers share the read in
 * flight; a failed read is not kept.
 */
export class CachedOperatorCounts {
  private value: { at: number; counts: Promise<OperatorCounts> } | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly ttlMs = OPERATOR_COUNTS_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<OperatorCounts> {
    const t = this.now();
    if (this.value && t - this.value.at < this.ttlMs) return this.value.counts;
    const counts = operatorCounts(this.db);
    const entry = { at: t, counts };
    this.value = entry;
    counts.catch(() => {
      if (this.value === entry) this.value = null;
    });
    return counts;
  }
}
