import { PGlite } from '@electric-sql/pglite';
import type { Db, Listener, QueryResult, Queryable } from './db.js';

/**
 * Embedded PostgreSQL (PGlite, PostgreSQL compiled to WASM) persisted in a
 * directory, or in memory when `dataDir` is undefined. One connection, fsync
 * off: right for the zero-setup first run and for tests; production
 * durability comes from a PostgreSQL server (`DATABASE_URL`).
 */
export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;

  private constructor(private readonly pg: PGlite) {}

  static async open(dataDir: string | undefined): Promise<PgliteDb> {
    const pg = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
    return new PgliteDb(pg);
  }

  async query<R>(sql: string, params: unknown[] = []): Promise<QueryResult<R>> {
    const res = await this.pg.query<R>(sql, params);
    return { rows: res.rows, rowCount: res.affectedRows ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pg.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pg.transaction(async (t) =>
      fn({
        async query<R>(sql: string, params: unknown[] = []) {
          const res = await t.query<R>(sql, params);
          return { rows: res.rows, rowCount: res.affectedRows ?? 0 };
        },
        async exec(sql: string) {
          await t.exec(sql);
        },
      }),
    );
  }

  async listen(channel: string, fn: Listener): Promise<() => Promise<void>> {
    const unsub = await this.pg.listen(channel, fn);
    return async () => {
      await unsub();
    };
  }

  async close(): Promise<void> {
    if (!this.pg.closed) await this.pg.close();
  }
}
