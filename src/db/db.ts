/**
 * The one database interface Herald uses. Two implementations: a `pg` pool
 * for PostgreSQL servers (production) and PGlite for the embedded default.
 * The same SQL runs on both.
 */
export interface QueryResult<R> {
  rows: R[];
  /** Rows touched by INSERT/UPDATE/DELETE (0 when unknown). */
  rowCount: number;
}

export interface Queryable {
  /**
   * Runs one parameterised statement. `name` makes it a prepared statement on
   * PostgreSQL servers (ignored by PGlite); use it for hot-path SQL only.
   * A Buffer parameter is a value in binary format: `bytea`, or a `text[]`
   * made by binaryTextArray (db/binary-text-array.ts), whose large texts
   * then never become one string on the way; PGlite gets those as arrays
   * of strings.
   */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], name?: string): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type Listener = (payload: string) => void;

export interface Db extends Queryable {
  /** `pg` or `pglite`: for logs, and for the few places that size work by engine. */
  readonly kind: 'pg' | 'pglite';
  /** Runs `fn` in one transaction; rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a NOTIFY channel. On PostgreSQL servers a dedicated
   * connection reconnects by itself with jittered backoff; `onReconnect` runs
   * after each reconnection so callers can poll for what they missed.
   */
  listen(channel: string, fn: Listener, onReconnect?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
