import type { IdempotencyStore } from './idempotency.js';

/** Anything with pg's `query(text, values)`: a `pg` `Pool`, `Client` or `PoolClient`. */
export interface PgQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rowCount: number | null }>;
}

/** Creates the table {@link PostgresIdempotencyStore} uses; run it once, e.g. in a migration. */
export const createTableSql = `create table if not exists herald_processed_webhooks (
  id text primary key,
  expires_at timestamptz not null
)`;

/** Deletes expired ids; run it now and then (claims work without it, it only saves space). */
export const deleteExpiredSql = 'delete from herald_processed_webhooks where expires_at < now()';

// Inserts the id, or takes over an expired claim; a live claim is left alone
// (no row affected), so concurrent deliveries of one id get one `true`.
const CLAIM_SQL = `insert into herald_processed_webhooks (id, expires_at)
values ($1, now() + $2::double precision * interval '1 second')
on conflict (id) do update set expires_at = excluded.expires_at
where herald_processed_webhooks.expires_at < now()`;

const RELEASE_SQL = 'delete from herald_processed_webhooks where id = $1';

/**
 * An {@link IdempotencyStore} in PostgreSQL, shared by every instance of the
 * receiver. Needs the table from {@link createTableSql}. Times are the
 * database's `now()`, so instances' clocks do not matter.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  readonly #db: PgQueryable;

  constructor(db: PgQueryable) {
    if (typeof db?.query !== 'function') throw new TypeError('a pg Pool or Client (anything with query()) is required');
    this.#db = db;
  }

  async claim(id: string, ttlSeconds: number): Promise<boolean> {
    if (!(ttlSeconds > 0)) throw new TypeError('ttlSeconds must be a number > 0');
    const result = await this.#db.query(CLAIM_SQL, [id, ttlSeconds]);
    return (result.rowCount ?? 0) > 0;
  }

  async release(id: string): Promise<void> {
    await this.#db.query(RELEASE_SQL, [id]);
  }

  /** Deletes expired ids; returns how many. */
  async deleteExpired(): Promise<number> {
    const result = await this.#db.query(deleteExpiredSql);
    return result.rowCount ?? 0;
  }
}
