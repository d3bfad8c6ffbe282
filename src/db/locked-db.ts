import type { DataDirLock } from './data-dir-lock.js';
import type { Db, Listener, QueryResult, Queryable } from './db.js';

/** An embedded database that holds its data directory's lock until closed (see data-dir-lock.ts). */
export class LockedDb implements Db {
  readonly kind: Db['kind'];

  constructor(
    private readonly inner: Db,
    private readonly lock: DataDirLock,
  ) {
    this.kind = inner.kind;
  }

  query<R = Record<string, unknown>>(sql: string, params?: unknown[], name?: string): Promise<QueryResult<R>> {
    return this.inner.query<R>(sql, params, name);
  }

  exec(sql: string): Promise<void> {
    return this.inner.exec(sql);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.inner.transaction(fn);
  }

  listen(channel: string, fn: Listener, onReconnect?: () => void): Promise<() => Promise<void>> {
    return this.inner.listen(channel, fn, onReconnect);
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      await this.lock.release();
    }
  }
}
