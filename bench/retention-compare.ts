/**
 * `npm run bench:retention-compare`: batched DELETE (what Herald's retention
 * does) against time-partitioned tables with DROP PARTITION, on a scratch
 * database. Each run fills a table of COMPARE_ROWS rows of ~1 KB spread
 * over 10 synthetic hours, then removes the oldest half while a concurrent
 * loop inserts a row and reads the newest rows, and measures: time to
 * remove, the longest single statement (each statement is its own
 * transaction, so the longest lock held), the concurrent loop's latency,
 * WAL written, and the table's size afterwards, before and after VACUUM
 * (and whether a refill of 10 % of the rows grows it); then it removes the
 * next hour while a 2 s read of the table is in flight. Medians of
 * COMPARE_RUNS runs per layout, alternating.
 *
 * Knobs: COMPARE_ROWS (default 1000000), COMPARE_RUNS (default 3),
 * COMPARE_BATCH (rows per DELETE, default 5000, as Herald),
 * COMPARE_REPORT (markdown output file, default none), DATABASE_URL (admin).
 */
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { createBenchDb, dropAllBenchDbs, dropBenchDb } from './db.js';
import { envInt, fmt1, fmtInt, median, nowMs, percentile, progress } from './util.js';

type Layout = 'delete' | 'partition';
const PARTS = 10;

interface RunResult {
  layout: Layout;
  fillS: number;
  removeS: number;
  statements: number;
  longestStatementMs: number;
  /** The concurrent loop alone for BASELINE_MS before the removal, then during it. */
  baseline: { n: number; p50: number; p99: number; max: number };
  concurrent: { n: number; p50: number; p99: number; max: number };
  walMb: number;
  sizeBeforeMb: number;
  sizeAfterMb: number;
  refillNoVacuumGrowMb: number;
  vacuumS: number;
  vacuumWalMb: number;
  sizeAfterVacuumMb: number;
  refillAfterVacuumGrowMb: number;
  /** Removing the next hour while a 2 s read of the table is in flight. */
  withReader: { removeS: number; longestStatementMs: number; concurrentP99: number; concurrentMax: number };
}

const rows = envInt('COMPARE_ROWS', 1_000_000);
const runs = envInt('COMPARE_RUNS', 3);
const batch = envInt('COMPARE_BATCH', 5_000);
const report = process.env.COMPARE_REPORT || null;

const mb = (b: number) => b / 1024 / 1024;
const BASELINE_MS = 3_000;
const stats = (lat: number[]) => {
  const s = [...lat].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN };
};

async function tableBytes(c: pg.Client): Promise<number> {
  // pg_total_relation_size of a partitioned parent is 0: sum its leaves (pg_partition_tree is empty for a plain table)
  const r = await c.query<{ b: string }>(
    `select case when (select relkind from pg_class where oid = 't'::regclass) = 'p'
                 then (select sum(pg_total_relation_size(relid)) from pg_partition_tree('t'))
                 else pg_total_relation_size('t') end::text as b`,
  );
  return Number(r.rows[0]?.b ?? 0);
}

async function walLsn(c: pg.Client): Promise<string> {
  return (await c.query<{ l: string }>('select pg_current_wal_lsn()::text as l')).rows[0]!.l;
}

async function walMbSince(c: pg.Client, from: string): Promise<number> {
  const r = await c.query<{ d: string }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text as d', [from]);
  return mb(Number(r.rows[0]?.d ?? 0));
}

/** An attempts-like table: rows of ~1 KB, a time column, an index on it (as Herald's events_created was until migration 0036). */
async function create(c: pg.Client, layout: Layout): Promise<void> {
  await c.query('drop table if exists t cascade');
  if (layout === 'delete') {
    await c.query(`create table t (id bigint generated always as identity primary key, created_at timestamptz not null, payload text not null)`);
  } else {
    // a partition key must be part of the primary key
    await c.query(
      `create table t (id bigint generated always as identity, created_at timestamptz not null, payload text not null,
                       primary key (created_at, id)) partition by range (created_at)`,
    );
    for (let p = 0; p < PARTS; p++) {
      const hi = p === PARTS - 1 ? 'maxvalue' : `'epoch'::timestamptz + interval '${p + 1} hours'`;
      const lo = p === 0 ? 'minvalue' : `'epoch'::timestamptz + interval '${p} hours'`;
      await c.query(`create table t_p${p} partition of t for values from (${lo}) to (${hi})`);
    }
  }
  await c.query('create index t_created on t (created_at)');
}

/** `n` rows spread evenly over the 10 synthetic hours after `epoch` (or after hour 10 for a refill). */
async function fill(c: pg.Client, n: number, fromHour: number, spanHours: number): Promise<void> {
  const chunk = 100_000;
  for (let start = 0; start < n; start += chunk) {
    const k = Math.min(chunk, n - start);
    await c.query(
      `insert into t (created_at, payload)
       select 'epoch'::timestamptz + make_interval(secs => $1::float8 * 3600 + (($2::bigint + i)::float8 / $3) * $4::float8 * 3600),
              repeat(md5(i::text), 32)
         from generate_series(1, $5::int) i`,
      [fromHour, start, n, spanHours, k],
    );
  }
}

/** Inserts one recent row and reads the newest ten, over and over, until stopped; latencies in ms. */
function concurrentLoop(c: pg.Client): { stop: () => Promise<number[]> } {
  const lat: number[] = [];
  let stopping = false;
  const done = (async () => {
    // a bound on the loop whatever happens to the caller
    const until = nowMs() + 30 * 60_000;
    while (!stopping && nowMs() < until) {
      const t = nowMs();
      await c.query(`insert into t (created_at, payload) values ('epoch'::timestamptz + interval '9 hours 59 minutes', repeat('y', 1024))`);
      await c.query(`select id, created_at from t where created_at > 'epoch'::timestamptz + interval '9 hours' order by created_at desc limit 10`);
      lat.push(nowMs() - t);
    }
  })();
  return {
    async stop() {
      stopping = true;
      await done;
      return lat;
    },
  };
}

/** Removes the rows of hours [fromHour, toHour): batched DELETEs, or DROP of those partitions. */
async function remove(c: pg.Client, layout: Layout, fromHour: number, toHour: number): Promise<{ statements: number; longestMs: number }> {
  let statements = 0;
  let longestMs = 0;
  const timed = async (sql: string) => {
    const t = nowMs();
    const r = await c.query(sql);
    longestMs = Math.max(longestMs, nowMs() - t);
    statements++;
    return r.rowCount ?? 0;
  };
  if (layout === 'delete') {
    // Herald's retention statement, reduced to one table
    for (let i = 0; i < 10_000; i++) {
      const n = await timed(
        `delete from t where id in (select id from t where created_at < 'epoch'::timestamptz + interval '${toHour} hours' order by created_at limit ${batch})`,
      );
      if (n < batch) break;
    }
  } else {
    for (let p = fromHour; p < toHour; p++) await timed(`drop table t_p${p}`);
  }
  return { statements, longestMs };
}

async function oneRun(url: string, layout: Layout): Promise<RunResult> {
  const c = new pg.Client({ connectionString: url });
  const w = new pg.Client({ connectionString: url });
  await c.connect();
  await w.connect();
  try {
    await create(c, layout);
    let t = nowMs();
    await fill(c, rows, 0, 10);
    await c.query('vacuum analyze t');
    const fillS = (nowMs() - t) / 1000;
    await c.query('checkpoint'); // both layouts start removal right after a checkpoint (full-page writes alike)
    const sizeBefore = await tableBytes(c);
    const base = concurrentLoop(w);
    await new Promise((r) => setTimeout(r, BASELINE_MS));
    const baseline = stats(await base.stop());
    const lsn = await walLsn(c);
    const loop = concurrentLoop(w);
    t = nowMs();
    const rm = await remove(c, layout, 0, PARTS / 2);
    const removeS = (nowMs() - t) / 1000;
    const concurrent = stats(await loop.stop());
    const walMb = await walMbSince(c, lsn);
    const sizeAfter = await tableBytes(c);
    const refill = Math.floor(rows / 10);
    await fill(c, refill, 10, 0.5);
    const sizeRefilled = await tableBytes(c);
    const vlsn = await walLsn(c);
    t = nowMs();
    await c.query('vacuum t');
    const vacuumS = (nowMs() - t) / 1000;
    const vacuumWalMb = await walMbSince(c, vlsn);
    const sizeVacuumed = await tableBytes(c);
    await fill(c, refill, 10.5, 0.5);
    const sizeRefilled2 = await tableBytes(c);

    // The next hour again, while a 2 s read of the newest rows is in flight (a report, a slow API call):
    // a DROP must wait for it with ACCESS EXCLUSIVE queued, and every statement on the table queues behind.
    const r = new pg.Client({ connectionString: url });
    await r.connect();
    let withReader: RunResult['withReader'];
    try {
      const reading = r.query(`select count(*) from (select 1 from t where created_at > 'epoch'::timestamptz + interval '9 hours' limit 1) x, pg_sleep(2)`);
      await new Promise((res) => setTimeout(res, 200));
      const loop2 = concurrentLoop(w);
      t = nowMs();
      const rm2 = await remove(c, layout, PARTS / 2, PARTS / 2 + 1);
      const removeS2 = (nowMs() - t) / 1000;
      const lat2 = stats(await loop2.stop());
      await reading;
      withReader = { removeS: removeS2, longestStatementMs: rm2.longestMs, concurrentMax: lat2.max, concurrentP99: lat2.p99 };
    } finally {
      await r.end().catch(() => undefined);
    }
    return {
      layout,
      fillS,
      removeS,
      statements: rm.statements,
      longestStatementMs: rm.longestMs,
      baseline,
      concurrent,
      walMb,
      sizeBeforeMb: mb(sizeBefore),
      sizeAfterMb: mb(sizeAfter),
      refillNoVacuumGrowMb: mb(sizeRefilled - sizeAfter),
      vacuumS,
      vacuumWalMb,
      sizeAfterVacuumMb: mb(sizeVacuumed),
      refillAfterVacuumGrowMb: mb(sizeRefilled2 - sizeVacuumed),
      withReader,
    };
  } finally {
    await c.query('drop table if exists t cascade').catch(() => undefined);
    await c.end().catch(() => undefined);
    await w.end().catch(() => undefined);
  }
}

function summary(results: RunResult[]): string {
  const med = (l: Layout, f: (r: RunResult) => number) => median(results.filter((r) => r.layout === l).map(f));
  const lines: [string, (r: RunResult) => number, (n: number) => string][] = [
    ['time to remove half the rows, s', (r) => r.removeS, fmt1],
    ['statements', (r) => r.statements, fmtInt],
    ['longest statement (= longest lock held), ms', (r) => r.longestStatementMs, fmt1],
    ['concurrent insert+select, no removal (3 s baseline), p50 ms', (r) => r.baseline.p50, (n) => n.toFixed(2)],
    ['concurrent insert+select, no removal (3 s baseline), p99 ms', (r) => r.baseline.p99, (n) => n.toFixed(2)],
    ['concurrent insert+select during removal, p50 ms', (r) => r.concurrent.p50, (n) => n.toFixed(2)],
    ['concurrent insert+select during removal, p99 ms', (r) => r.concurrent.p99, (n) => n.toFixed(2)],
    ['concurrent insert+select during removal, max ms', (r) => r.concurrent.max, fmt1],
    ['concurrent iterations during removal', (r) => r.concurrent.n, fmtInt],
    ['WAL written by the removal, MB', (r) => r.walMb, fmt1],
    ['size before removal, MB', (r) => r.sizeBeforeMb, fmtInt],
    ['size right after removal, MB', (r) => r.sizeAfterMb, fmtInt],
    ['growth on refilling 10 % of the rows, no VACUUM, MB', (r) => r.refillNoVacuumGrowMb, fmtInt],
    ['VACUUM after removal, s', (r) => r.vacuumS, fmt1],
    ['WAL written by that VACUUM, MB', (r) => r.vacuumWalMb, fmt1],
    ['size after VACUUM, MB', (r) => r.sizeAfterVacuumMb, fmtInt],
    ['growth on refilling 10 % more after VACUUM, MB', (r) => r.refillAfterVacuumGrowMb, fmtInt],
    ['next hour removed during a 2 s read: time, s', (r) => r.withReader.removeS, fmt1],
    ['… longest statement, ms', (r) => r.withReader.longestStatementMs, fmtInt],
    ['… concurrent insert+select p99, ms', (r) => r.withReader.concurrentP99, fmt1],
    ['… concurrent insert+select max, ms', (r) => r.withReader.concurrentMax, fmtInt],
    ['(fill time, s)', (r) => r.fillS, fmt1],
  ];
  const head = `| median of ${runs} runs, ${fmtInt(rows)} rows of ~1 KB, half removed | batched DELETE (${fmtInt(batch)} rows each) | DROP of ${PARTS / 2} of ${PARTS} range partitions |\n| --- | --- | --- |`;
  return [head, ...lines.map(([name, f, fm]) => `| ${name} | ${fm(med('delete', f))} | ${fm(med('partition', f))} |`)].join('\n');
}

async function main(): Promise<void> {
  const db = await createBenchDb('soak_cmp');
  progress(`database ${db.name}: ${runs} runs × 2 layouts, ${fmtInt(rows)} rows`);
  const results: RunResult[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      for (const layout of ['delete', 'partition'] as const) {
        const r = await oneRun(db.url, layout);
        results.push(r);
        progress(
          `run ${run} ${layout}: removed in ${fmt1(r.removeS)} s (${r.statements} statements, longest ${fmt1(r.longestStatementMs)} ms); ` +
            `concurrent p50 ${r.concurrent.p50.toFixed(2)} / p99 ${r.concurrent.p99.toFixed(2)} / max ${fmt1(r.concurrent.max)} ms (${r.concurrent.n}); ` +
            `WAL ${fmt1(r.walMb)} MB; size ${fmtInt(r.sizeBeforeMb)} → ${fmtInt(r.sizeAfterMb)} MB, refill +${fmtInt(r.refillNoVacuumGrowMb)}; ` +
            `vacuum ${fmt1(r.vacuumS)} s (${fmt1(r.vacuumWalMb)} MB WAL) → ${fmtInt(r.sizeAfterVacuumMb)} MB, refill +${fmtInt(r.refillAfterVacuumGrowMb)}; ` +
            `during a 2 s read: ${fmt1(r.withReader.removeS)} s, concurrent max ${fmtInt(r.withReader.concurrentMax)} ms`,
        );
      }
    }
  } finally {
    await dropBenchDb(db.name).catch(() => undefined);
  }
  const md = summary(results) + '\n';
  process.stdout.write('\n' + md);
  if (report) writeFileSync(report, md);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => void dropAllBenchDbs().finally(() => process.exit(130)));
}
main()
  .then(() => process.exit(0))
  .catch(async (err: unknown) => {
    process.stderr.write(`compare failed: ${(err as Error).stack ?? String(err)}\n`);
    await dropAllBenchDbs();
    process.exit(1);
  });
