import pg from 'pg';
import type { Db, Listener, QueryResult, Queryable } from './db.js';
import type { Logger } from '../logger.js';
import { primeBackendHeap } from './backend-heap.js';

// Timestamps travel as ISO strings and bigints as strings; we format both ourselves.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export interface PgDbOptions {
  connectionString: string;
  /** Pool size. (Default: 20) */
  max?: number;
  /** Settings of every connection of the pool, as libpq `options` (`-c name=value …`), after CONNECTION_SETTINGS. */
  options?: string;
  /** How long a connection may sit idle before the pool closes it; 0 = never. (Default: 30,000 ms) */
  idleTimeoutMs?: number;
  /** Prime each new connection's backend for large statements (backend-heap.ts). (Default: false) */
  largeStatements?: boolean;
  logger: Logger;
}

/**
 * Settings of every Herald connection. JIT off: Herald's statements are
 * short index probes, and a plan whose estimate crosses jit_above_cost (a
 * disabled sequential scan costs 10^10 on the worker's connections, see
 * hot-path.ts) was compiled with inlining and optimisation on every run:
 * the worker's heartbeat took 190-390 ms of CPU each time, for a
 * statement that runs in 0.1 ms.
 */
export const CONNECTION_SETTINGS = '-c jit=off';

/** PostgreSQL server through a `pg` pool: the production path. */
export class PgDb implements Db {
  readonly kind = 'pg' as const;
  private readonly pool: pg.Pool;
  private readonly listeners = new Set<ListenConnection>();

  constructor(private readonly opts: PgDbOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.max ?? 20,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
      options: opts.options ? `${CONNECTION_SETTINGS} ${opts.options}` : CONNECTION_SETTINGS,
      // run before the pool hands the new connection out
      onConnect: opts.largeStatements ? primeBackendHeap : undefined,
    });
    // An idle client that loses its connection (e.g. the server restarts) must
    // not crash the process: the pool drops it and opens a new one on demand.
    this.pool.on('error', (err) => opts.logger.warn({ err: err.message }, 'idle database connection lost'));
  }

  async query<R>(sql: string, params: unknown[] = [], name?: string): Promise<QueryResult<R>> {
    const res = await this.pool.query(name ? { name, text: sql, values: params } : { text: sql, values: params });
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('begin');
      const tx: Queryable = {
        async query<R>(sql: string, params: unknown[] = [], name?: string) {
          const res = await client.query(name ? { name, text: sql, values: params } : { text: sql, values: params });
          return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
        },
        async exec(sql: string) {
          await client.query(sql);
        },
      };
      const out = await fn(tx);
      await client.query('commit');
      return out;
    } catch (err) {
      try {
        await client.query('rollback');
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async listen(channel: string, fn: Listener, onReconnect?: () => void): Promise<() => Promise<void>> {
    const conn = new ListenConnection(this.opts, channel, fn, onReconnect);
    this.listeners.add(conn);
    await conn.start();
    return async () => {
      this.listeners.delete(conn);
      await conn.stop();
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.listeners].map((l) => l.stop()));
    this.listeners.clear();
    await this.pool.end();
  }
}

/**
 * One dedicated LISTEN connection. NOTIFY is only a latency hint (workers also
 * poll), so a lost connection is reopened with jittered exponential backoff
 * and `onReconnect` lets the caller poll once for anything it missed.
 */
class ListenConnection {
  private client: pg.Client | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;

  constructor(
    private readonly opts: PgDbOptions,
    private readonly channel: string,
    private readonly fn: Listener,
    private readonly onReconnect?: () => void,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.connectionString, connectionTimeoutMillis: 5_000 });
    client.on('notification', (msg) => {
      if (msg.channel === this.channel) this.fn(msg.payload ?? '');
    });
    client.on('error', (err) => {
      this.opts.logger.warn({ err: err.message, channel: this.channel }, 'listen connection lost');
      this.retry(client);
    });
    client.on('end', () => this.retry(client));
    try {
      await client.connect();
      await client.query(`listen ${pg.escapeIdentifier(this.channel)}`);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message, channel: this.channel }, 'listen connection failed');
      this.retry(client);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    const wasReconnect = this.failures > 0;
    this.client = client;
    this.failures = 0;
    if (wasReconnect) {
      this.opts.logger.info({ channel: this.channel }, 'listen connection restored');
      this.onReconnect?.();
    }
  }

  private retry(client: pg.Client): void {
    if (this.stopped || this.timer) return;
    if (this.client && this.client !== client) return;
    this.client = null;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.failures++;
    // capped at 5 s: while LISTEN is down new events wait for the poll
    const base = Math.min(5_000, 250 * 2 ** Math.min(this.failures, 7));
    const delay = base / 2 + Math.random() * (base / 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners('end');
      await c.end().catch(() => undefined);
    }
  }
}
