import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PICK_SQL } from '../src/delivery/queue/claim.js';
import { writeOutFanouts } from '../src/delivery/queue/fanout.js';
import { BATCHES_PER_STATEMENT } from '../src/delivery/fanout-writer.js';
import type { Queryable } from '../src/db/db.js';

/** Admin connection: creates and drops one fresh database per scenario run. */
export const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Databases created and not yet dropped (dropped on exit, whatever happens). */
const created = new Set<string>();

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function serverVersion(): Promise<string> {
  return withClient(ADMIN_URL, async (c) => (await c.query<{ version: string }>('select version()')).rows[0]?.version ?? 'unknown');
}

/** Server settings that decide write throughput, for the report. */
export async function serverSettings(): Promise<Record<string, string>> {
  return withClient(ADMIN_URL, async (c) => {
    const names = ['synchronous_commit', 'fsync', 'wal_sync_method', 'shared_buffers', 'max_connections', 'autovacuum'];
    const r = await c.query<{ name: string; setting: string; unit: string | null }>(
      'select name, setting, unit from pg_settings where name = any($1)',
      [names],
    );
    return Object.fromEntries(r.rows.map((x) => [x.name, x.unit ? `${x.setting} (${x.unit})` : x.setting]));
  });
}

export interface BenchDb {
  name: string;
  url: string;
}

/** A fresh, empty database named `<prefix>_<random>`, dropped on exit if the caller does not drop it first. */
export async function createBenchDb(prefix = 'herald_bench'): Promise<BenchDb> {
  if (!/^[a-z][a-z0-9_]*$/.test(prefix)) throw new Error(`bad database prefix ${JSON.stringify(prefix)}`);
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await withClient(ADMIN_URL, (c) => c.query(`create database ${pg.escapeIdentifier(name)}`));
  created.add(name);
  const u = new URL(ADMIN_URL);
  u.pathname = '/' + name;
  return { name, url: u.toString() };
}

/** BENCH_KEEP_DB=1 keeps every scenario's database (for looking at it afterwards); drop them by hand. */
export async function dropBenchDb(name: string): Promise<void> {
  if (process.env.BENCH_KEEP_DB) return;
  await withClient(ADMIN_URL, (c) => c.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`));
  created.delete(name);
}

export async function dropAllBenchDbs(): Promise<void> {
  for (const name of [...created]) await dropBenchDb(name).catch(() => undefined);
}

/** A bench connection as Herald's store functions take one (named statements prepared, as Herald's own connections do). */
export function queryableOf(c: pg.Client): Queryable {
  return {
    query: async <R>(sql: string, params: unknown[] = [], name?: string) => {
      const r = await c.query(name ? { name, text: sql, values: params } : { text: sql, values: params });
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    exec: async (sql: string) => void (await c.query(sql)),
  };
}

/**
 * The worker's claim pick (PICK_SQL) with the worker's parameters as literals, read by a count of its `picked`
 * rows: the statement the bench probes time. EXPLAIN cannot type the claim's parameters the pick leaves unused, hence literals:
 * 100 rows, no endpoint skipped, up to 400 endpoints from the start of the round, 64 each (twice the default cap
 * in flight), no room recorded, at least 16 rows from an endpoint that has them (CLAIM_MIN_SHARE).
 */
export function pickProbeSql(): string {
  const sql = PICK_SQL.replace(/\$1::int/g, '100')
    .replace(/\$3::text\[\]/g, "'{}'::text[]")
    .replace(/\$5::int/g, '400')
    .replace(/\$6::text/g, "''")
    .replace(/\$7::int/g, '64')
    .replace(/\$8::jsonb/g, "'{}'::jsonb")
    .replace(/\$9::int/g, '16');
  const left = /\$\d+(::[a-z[\]]+)?/.exec(sql.replace(/--.*$/gm, '')); // comments name parameters too
  if (left) throw new Error(`pickProbeSql: the claim's pick has a parameter this probe does not fill: ${left[0]}`);
  return `${sql} select count(*) from picked`;
}

/** A connection to a bench database for checks (never used on Herald's hot path). */
export class BenchDbProbe {
  private constructor(private readonly c: pg.Client) {}

  static async open(url: string): Promise<BenchDbProbe> {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await c.connect();
    return new BenchDbProbe(c);
  }

  async deliveryCounts(): Promise<{ pending: number; succeeded: number; failed: number; attempts: number }> {
    const r = await this.c.query<{ pending: number; succeeded: number; failed: number; attempts: number }>(
      `select count(*) filter (where status = 'pending')::int as pending,
              count(*) filter (where status = 'succeeded')::int as succeeded,
              count(*) filter (where status = 'failed')::int as failed,
              (select count(*) from attempts)::int as attempts
         from deliveries`,
    );
    const row = r.rows[0];
    return row ?? { pending: 0, succeeded: 0, failed: 0, attempts: 0 };
  }

  /** Cumulative counters of this database: transactions, WAL position, row writes of the deliveries table. */
  async counters(): Promise<DbCounters> {
    const r = await this.c.query<{
      xact: string;
      wal: string;
      upd: string;
      hot: string;
      ins: string;
    }>(
      `select (select xact_commit + xact_rollback from pg_stat_database where datname = current_database())::text as xact,
              pg_current_wal_lsn()::text as wal,
              coalesce((select n_tup_upd from pg_stat_user_tables where relname = 'deliveries'), 0)::text as upd,
              coalesce((select n_tup_hot_upd from pg_stat_user_tables where relname = 'deliveries'), 0)::text as hot,
              coalesce((select sum(n_tup_ins) from pg_stat_user_tables), 0)::text as ins`,
    );
    const row = r.rows[0];
    if (!row) throw new Error('no counters');
    return { xact: Number(row.xact), wal: row.wal, updates: Number(row.upd), hotUpdates: Number(row.hot), inserts: Number(row.ins) };
  }

  /** Statements running right now in this database (other than this connection's). */
  async activity(): Promise<{ query: string; wait: string | null }[]> {
    const r = await this.c.query<{ query: string; wait: string | null }>(
      `select query, case when wait_event is null then null else wait_event_type || ':' || wait_event end as wait
         from pg_stat_activity
        where datname = current_database() and state = 'active' and pid <> pg_backend_pid()`,
    );
    return r.rows;
  }

  /** Reads rows (diagnostics, not on Herald's path). */
  async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.c.query<R>(sql, params)).rows;
  }

  /** Runs a statement for set-up (not on Herald's path). */
  /**
   * Writes out the deliveries the batch route deferred (migration 0033), as
   * a worker does (its statement, as many batches at a time), for a scenario
   * that sets the queue up with no worker running; how many it wrote.
   */
  async writeOutDeferred(): Promise<number> {
    const q = queryableOf(this.c);
    let written = 0;
    for (;;) {
      const n = await writeOutFanouts(q, BATCHES_PER_STATEMENT);
      if (n.batches === 0) return written;
      written += n.deliveries;
    }
  }

  async exec(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.c.query(sql, params)).rowCount ?? 0;
  }

  /**
   * Time PostgreSQL spends picking a claim batch of 100: the worker's own
   * pick (a round of the endpoints with due work, SKIP LOCKED), under
   * EXPLAIN ANALYZE in a transaction that is rolled back.
   */
  async pickMs(): Promise<number> {
    const sql = pickProbeSql();
    await this.c.query('begin');
    try {
      const r = await this.c.query<{ 'QUERY PLAN': [{ 'Execution Time': number }] }>(`explain (analyze, format json) ${sql}`);
      return r.rows[0]?.['QUERY PLAN'][0]['Execution Time'] ?? Number.NaN;
    } finally {
      await this.c.query('rollback');
    }
  }

  async walBytesBetween(a: string, b: string): Promise<number> {
    const r = await this.c.query<{ d: string }>('select pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::text as d', [a, b]);
    return Number(r.rows[0]?.d ?? 0);
  }

  /** Statistics are flushed by backends at most once a second (and at transaction end when idle). */
  async clearSnapshot(): Promise<void> {
    await this.c.query('select pg_stat_clear_snapshot()');
  }

  async close(): Promise<void> {
    await this.c.end().catch(() => undefined);
  }
}

export interface DbCounters {
  xact: number;
  wal: string;
  updates: number;
  hotUpdates: number;
  inserts: number;
}
