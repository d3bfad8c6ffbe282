import type { Db, Listener, QueryResult, Queryable } from './db.js';

/**
 * Planner settings for the worker's statements (claim, outcomes, effects,
 * release): every one of them is a handful of primary-key or index probes
 * per row, and each is only fast as such. Left to the planner, the outcome
 * statement joined 100 outcomes against the queue with a sequential scan
 * of the whole queue (a fresh table's statistics make 100 index probes
 * look dearer than one scan of 9,000 rows), a plan that gets worse with
 * every row the queue holds. Turning off sequential scans and merge joins
 * leaves the planner index probes, whatever its statistics say; where no
 * index applies it still scans.
 *
 * Hash joins stay allowed: every join of a worker statement to a big table
 * also probes that table with the batch's ids as one array (`= any`), so
 * both sides of a hash join are a batch. With hash joins off, the outcome
 * write joined its batch to those probes as a nested loop of batch x batch:
 * with batches of ~200 outcomes, 40,000 comparisons per join, three joins a
 * statement (pg_stat_statements, split steady state: 94 -> 58 µs of
 * statement time per recorded delivery once they were hashed).
 */
export const HOT_PATH_SETTINGS: Record<string, string> = {
  enable_seqscan: 'off',
  enable_mergejoin: 'off',
};

/** The settings as libpq `options` for a connection (`-c name=value …`). */
export const hotPathOptions = (extra: Record<string, string> = {}): string =>
  Object.entries({ ...HOT_PATH_SETTINGS, ...extra })
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');

const SET_LOCAL = Object.entries(HOT_PATH_SETTINGS)
  .map(([k, v]) => `set local ${k} = ${v};`)
  .join(' ');

/**
 * The embedded database has one connection, shared with the API, so the
 * settings cannot be made per connection: each worker statement runs in a
 * transaction that sets them locally (PGlite runs a statement at a time,
 * so the extra statements cost no round trip over a network).
 */
export class HotPathDb implements Db {
  readonly kind: Db['kind'];

  constructor(private readonly inner: Db) {
    this.kind = inner.kind;
  }

  query<R = Record<string, unknown>>(sql: string, params?: unknown[], name?: string): Promise<QueryResult<R>> {
    return this.inner.transaction(async (tx) => {
      await tx.exec(SET_LOCAL);
      return tx.query<R>(sql, params, name);
    });
  }

  exec(sql: string): Promise<void> {
    // VACUUM cannot run inside a transaction block
    return this.inner.exec(sql);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.inner.transaction(async (tx) => {
      await tx.exec(SET_LOCAL);
      return fn(tx);
    });
  }

  listen(channel: string, fn: Listener, onReconnect?: () => void): Promise<() => Promise<void>> {
    return this.inner.listen(channel, fn, onReconnect);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
