/**
 * `npm run soak:retention`: does retention keep storage and query latency
 * flat? Runs the real Herald (`herald api` + `herald worker` child
 * processes) on a fresh PostgreSQL database with a short retention period,
 * publishes SOAK_EVENTS events through the batch route at a fixed rate to
 * one endpoint (the bench receiver), and every SOAK_SAMPLE_EVERY events
 * records table sizes, row counts and the latency of representative
 * queries. Prints a markdown table at the end (and writes it to SOAK_REPORT).
 *
 * Knobs (environment):
 *   SOAK_EVENTS             events in total (default 1000000)
 *   SOAK_RATE               target publish rate, events/s (default 2000)
 *   SOAK_BATCH              events per batch call, at most 1000 (default 500)
 *   SOAK_PAYLOAD_BYTES      serialised payload size (default 1024)
 *   SOAK_RETENTION_SECONDS  Herald's retention period (default 60)
 *   SOAK_RETENTION_INTERVAL Herald's retention interval, seconds (default 5)
 *   SOAK_SAMPLE_EVERY       events between samples (default 50000)
 *   SOAK_MAX_BACKLOG        publishing pauses while more than this many events await delivery (default 30 × SOAK_RATE)
 *   SOAK_TIMEOUT            hard bound on the whole run, seconds (default 3600)
 *   SOAK_REPORT             markdown output file (default: none)
 *   DATABASE_URL            admin connection (default postgres://postgres@127.0.0.1:5432/postgres)
 */
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { RETENTION_VICTIMS_SQL } from '../src/store/retention.js';
import { cleanUpOnExit } from './children.js';
import { pickProbeSql, serverSettings } from './db.js';
import type { HeraldClient } from './herald-client.js';
import { Receiver } from './receiver.js';
import { openStack, type Stack } from './stack.js';
import { envInt, fmt1, fmtInt, median, nowMs, payloadOfSize, progress, sleep } from './util.js';

const TABLES = ['events', 'deliveries', 'attempts', 'audit_log'] as const;
type Table = (typeof TABLES)[number];

/** Timed queries: name, and how the bench runs it once. */
type Timed = 'listEvents' | 'listDeliveries' | 'getDelivery' | 'claimSelect' | 'retentionScan';
const TIMED: Timed[] = ['listEvents', 'listDeliveries', 'getDelivery', 'claimSelect', 'retentionScan'];
const TIMED_LABEL: Record<Timed, string> = {
  listEvents: 'GET events',
  listDeliveries: 'GET deliveries',
  getDelivery: 'GET delivery',
  claimSelect: 'claim select',
  retentionScan: 'retention scan',
};
/** Repetitions of each timed query per sample. */
const REPS = 11;

interface Sample {
  label: string;
  elapsedS: number;
  published: number;
  delivered: number;
  /** pg_total_relation_size (heap + indexes + TOAST), bytes. */
  size: Record<Table, number>;
  live: Record<Table, number>;
  dead: Record<Table, number>;
  pending: number;
  /** Median and max of REPS runs, ms. */
  latency: Record<Timed, { p50: number; max: number }>;
  /** Rows retention removed (from the worker's log) since the previous sample. */
  removedEvents: number;
  removedAudit: number;
  /** Longest retention pass since the previous sample, ms (from the worker's log). */
  longestPassMs: number;
}

interface RetentionLog {
  events: number;
  auditEntries: number;
  passes: number;
  longestMs: number;
}

const knobs = {
  events: envInt('SOAK_EVENTS', 1_000_000),
  rate: envInt('SOAK_RATE', 2_000),
  batch: Math.min(1000, envInt('SOAK_BATCH', 500)),
  payloadBytes: envInt('SOAK_PAYLOAD_BYTES', 1024),
  retentionSeconds: envInt('SOAK_RETENTION_SECONDS', 60),
  retentionInterval: envInt('SOAK_RETENTION_INTERVAL', 5),
  sampleEvery: envInt('SOAK_SAMPLE_EVERY', 50_000),
  timeoutS: envInt('SOAK_TIMEOUT', 3600),
  report: process.env.SOAK_REPORT || null,
};
const maxBacklog = envInt('SOAK_MAX_BACKLOG', knobs.rate * 30);

let receiver: Receiver | null = null;
let stack: Stack | null = null;
const exit = cleanUpOnExit(async () => {
  await stack?.close();
  await receiver?.stop();
});

/** Follows the worker's `retention removed old rows` log lines (pino JSON). */
function retentionFollower(): { onLine: (l: string) => void; take: () => RetentionLog; total: RetentionLog } {
  const total: RetentionLog = { events: 0, auditEntries: 0, passes: 0, longestMs: 0 };
  let since: RetentionLog = { events: 0, auditEntries: 0, passes: 0, longestMs: 0 };
  return {
    total,
    onLine(l) {
      if (!l.includes('retention')) return;
      let rec: { msg?: string; events?: number; auditEntries?: number; durationMs?: number; err?: string };
      try {
        rec = JSON.parse(l) as typeof rec;
      } catch {
        return;
      }
      if (rec.err) progress(`worker: ${rec.msg ?? ''}: ${rec.err}`);
      if (rec.events === undefined) return;
      for (const r of [since, total]) {
        r.events += rec.events;
        r.auditEntries += rec.auditEntries ?? 0;
        r.passes++;
        r.longestMs = Math.max(r.longestMs, rec.durationMs ?? 0);
      }
    },
    take() {
      const out = since;
      since = { events: 0, auditEntries: 0, passes: 0, longestMs: 0 };
      return out;
    },
  };
}

async function timeIt(fn: () => Promise<unknown>): Promise<{ p50: number; max: number }> {
  const xs: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t = nowMs();
    await fn();
    xs.push(nowMs() - t);
  }
  return { p50: median(xs), max: Math.max(...xs) };
}

async function sample(
  label: string,
  t0: number,
  published: number,
  probe: pg.Client,
  client: HeraldClient,
  tenant: string,
  retentionSeconds: number,
  log: ReturnType<typeof retentionFollower>,
): Promise<Sample> {
  const delivered = (await receiver!.stats()).distinct;
  await probe.query('select pg_stat_clear_snapshot()');
  const st = await probe.query<{ relname: Table; size: string; live: string; dead: string }>(
    `select relname, pg_total_relation_size(relid)::text as size, n_live_tup::text as live, n_dead_tup::text as dead
       from pg_stat_user_tables where relname = any($1)`,
    [TABLES],
  );
  const pick = (k: 'size' | 'live' | 'dead') =>
    Object.fromEntries(TABLES.map((t) => [t, Number(st.rows.find((r) => r.relname === t)?.[k] ?? 0)])) as Record<Table, number>;
  const pending = Number((await probe.query<{ n: string }>(`select count(*)::text as n from deliveries where status = 'pending'`)).rows[0]?.n ?? 0);
  const failed = Number((await probe.query<{ n: string }>(`select count(*)::text as n from deliveries where status = 'failed'`)).rows[0]?.n ?? 0);
  if (failed > 0) progress(`WARNING: ${failed} failed deliveries`);
  const recent = await client.call<{ data: { id: string }[] }>('GET', `/v1/tenants/${tenant}/deliveries?limit=50`, undefined, 200);
  const oneId = recent.data[recent.data.length - 1]?.id;
  const latency = {
    listEvents: await timeIt(() => client.call('GET', `/v1/tenants/${tenant}/events?limit=50`, undefined, 200)),
    listDeliveries: await timeIt(() => client.call('GET', `/v1/tenants/${tenant}/deliveries?limit=50`, undefined, 200)),
    getDelivery: oneId
      ? await timeIt(() => client.call('GET', `/v1/tenants/${tenant}/deliveries/${oneId}`, undefined, 200).catch(() => null))
      : { p50: Number.NaN, max: Number.NaN },
    // what a worker's claim reads (its pick of 100, without taking the rows)
    claimSelect: await timeIt(() => probe.query(pickProbeSql())),
    // what one retention batch reads before deleting (the victims of src/store/retention.ts, read-only)
    retentionScan: await timeIt(() =>
      probe.query(RETENTION_VICTIMS_SQL, [retentionSeconds, 5000]),
    ),
  } satisfies Record<Timed, { p50: number; max: number }>;
  // a slow listing is most likely a plan: show it
  if (latency.listDeliveries.p50 > 50 || latency.listEvents.p50 > 50) {
    for (const sql of [
      `select d.*, e.type from deliveries d join events e on e.tenant_id = d.tenant_id and e.id = d.event_id
        where d.tenant_id = $1 order by d.created_at desc, d.id desc limit 50`,
      `select id, type, payload::text, created_at from events where tenant_id = $1 order by created_at desc, id desc limit 50`,
    ]) {
      const plan = await probe.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${sql}`, [tenant]);
      progress(`slow listing; plan now:\n${plan.rows.map((x) => x['QUERY PLAN']).join('\n')}`);
    }
  }
  const r = log.take();
  return {
    label,
    elapsedS: (nowMs() - t0) / 1000,
    published,
    delivered,
    size: pick('size'),
    live: pick('live'),
    dead: pick('dead'),
    pending,
    latency,
    removedEvents: r.events,
    removedAudit: r.auditEntries,
    longestPassMs: r.longestMs,
  };
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
const sum = (r: Record<Table, number>) => TABLES.reduce((a, t) => a + r[t], 0);
const lat = (x: { p50: number; max: number }) => `${fmt1(x.p50)} (${fmt1(x.max)})`;

function progressLine(s: Sample): string {
  return (
    `${s.label}: ${fmtInt(s.published)} published, ${fmtInt(s.delivered)} delivered, ${fmtInt(s.pending)} pending; ` +
    `size ${TABLES.map((t) => `${t} ${mb(s.size[t])}`).join(', ')} = ${mb(sum(s.size))} MB; ` +
    `live ${fmtInt(sum(s.live))} dead ${fmtInt(sum(s.dead))} rows; ` +
    `p50 ms ${TIMED.map((k) => `${TIMED_LABEL[k]} ${fmt1(s.latency[k].p50)}`).join(', ')}; ` +
    `retention removed ${fmtInt(s.removedEvents)} events + ${fmtInt(s.removedAudit)} audit (longest pass ${fmtInt(s.longestPassMs)} ms)`
  );
}

function table(samples: Sample[]): string {
  const head = [
    'sample', 'elapsed s', 'published', 'delivered',
    ...TABLES.map((t) => `${t} MB`), 'total MB', 'live rows', 'dead rows',
    ...TIMED.map((k) => `${TIMED_LABEL[k]} ms p50 (max)`),
    'removed events', 'longest pass ms',
  ];
  const rows = samples.map((s) => [
    s.label, fmtInt(s.elapsedS), fmtInt(s.published), fmtInt(s.delivered),
    ...TABLES.map((t) => mb(s.size[t])), mb(sum(s.size)), fmtInt(sum(s.live)), fmtInt(sum(s.dead)),
    ...TIMED.map((k) => lat(s.latency[k])),
    fmtInt(s.removedEvents), fmtInt(s.longestPassMs),
  ]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  const deadline = nowMs() + knobs.timeoutS * 1000;
  const settings = await serverSettings();
  progress(`knobs: ${JSON.stringify({ ...knobs, maxBacklog })}`);
  progress(`postgres: autovacuum=${settings.autovacuum ?? '?'} shared_buffers=${settings.shared_buffers ?? '?'}`);
  receiver = await Receiver.start();
  stack = await openStack({
    dbPrefix: 'soak',
    env: {
      HERALD_RETENTION_SECONDS: String(knobs.retentionSeconds),
      HERALD_RETENTION_INTERVAL_SECONDS: String(knobs.retentionInterval),
      HERALD_LOG_LEVEL: 'info',
      // one endpoint takes all the traffic: let it have the whole worker's concurrency
      HERALD_ENDPOINT_CONCURRENCY: process.env.HERALD_ENDPOINT_CONCURRENCY ?? '256',
    },
  });
  progress(`database ${stack.db.name}`);
  const log = retentionFollower();
  const api = await stack.start('api');
  await stack.start('worker', [], log.onLine);
  const client = stack.client(api, 4);
  const probe = new pg.Client({ connectionString: stack.db.url });
  await probe.connect();
  const tenant = 'soak';
  const samples: Sample[] = [];
  try {
    await client.createTenant(tenant, 'retention soak');
    await client.createEndpoint(tenant, `${receiver.url}/soak`);
    await receiver.reset(false);

    // --- publish at a fixed rate, sampling every sampleEvery events ---------
    const t0 = nowMs();
    let published = 0;
    let nextSample = knobs.sampleEvery;
    let lastLog = t0;
    let delivered = 0;
    while (published < knobs.events) {
      if (nowMs() > deadline) throw new Error(`SOAK_TIMEOUT: ${fmtInt(published)} events published in ${knobs.timeoutS} s`);
      const due = t0 + (published / knobs.rate) * 1000;
      if (due > nowMs()) await sleep(due - nowMs());
      // never let the backlog run away: the soak is about storage, not about a queue that grows
      for (let i = 0; published - delivered > maxBacklog && i < 600; i++) {
        await sleep(100);
        delivered = (await receiver.stats()).distinct;
      }
      const n = Math.min(knobs.batch, knobs.events - published);
      const events = Array.from({ length: n }, (_, k) => ({
        id: `evt_soak_${published + k}`,
        type: 'soak.event',
        payload: payloadOfSize(knobs.payloadBytes, { seq: published + k, at: Date.now() }),
      }));
      const res = await client.call<{ data: { deliveries: number }[] }>('POST', `/v1/tenants/${tenant}/events/batch`, { events }, 202);
      if (res.data.length !== n || res.data.some((d) => d.deliveries !== 1)) throw new Error('a batch did not create one delivery per event');
      published += n;
      if (nowMs() - lastLog > 10_000) {
        lastLog = nowMs();
        delivered = (await receiver.stats()).distinct;
        const secs = (nowMs() - t0) / 1000;
        progress(`${fmtInt(published)} published (${fmtInt(published / secs)}/s), ${fmtInt(delivered)} delivered, retention so far: ${fmtInt(log.total.events)} events`);
      }
      if (published >= nextSample) {
        nextSample += knobs.sampleEvery;
        const s = await sample(`${fmtInt(published / 1000)}k`, t0, published, probe, client, tenant, knobs.retentionSeconds, log);
        samples.push(s);
        progress(progressLine(s));
      }
    }
    const publishS = (nowMs() - t0) / 1000;
    progress(`published ${fmtInt(published)} events in ${fmt1(publishS)} s (${fmtInt(published / publishS)}/s)`);

    // --- drain, then wait one retention period so only the recent window is left
    for (;;) {
      const st = await receiver.stats();
      if (st.distinct >= knobs.events) break;
      if (nowMs() > deadline) throw new Error(`SOAK_TIMEOUT: only ${fmtInt(st.distinct)} of ${fmtInt(knobs.events)} delivered`);
      await sleep(500);
    }
    const st = await receiver.stats();
    progress(`all ${fmtInt(st.distinct)} delivered (${st.duplicates} duplicates) after ${fmt1((nowMs() - t0) / 1000)} s`);
    samples.push(await sample('drained', t0, published, probe, client, tenant, knobs.retentionSeconds, log));
    progress(progressLine(samples[samples.length - 1]!));
    const quietUntil = Math.min(deadline - 30_000, nowMs() + (knobs.retentionSeconds + 3 * knobs.retentionInterval + 5) * 1000);
    while (nowMs() < quietUntil) await sleep(1000);
    samples.push(await sample('quiet', t0, published, probe, client, tenant, knobs.retentionSeconds, log));
    progress(progressLine(samples[samples.length - 1]!));
    const left: string[] = [];
    for (const t of TABLES) left.push(`${t} ${fmtInt(Number((await probe.query<{ n: string }>(`select count(*)::text as n from ${t}`)).rows[0]?.n))}`);
    progress(`rows left after the quiet period (exact): ${left.join(', ')}`);

    const md =
      `Retention soak: ${fmtInt(knobs.events)} events of ~${knobs.payloadBytes} B at ${fmtInt(knobs.rate)}/s target ` +
      `(${fmtInt(published / publishS)}/s achieved), batches of ${knobs.batch}, 1 endpoint; ` +
      `HERALD_RETENTION_SECONDS=${knobs.retentionSeconds}, HERALD_RETENTION_INTERVAL_SECONDS=${knobs.retentionInterval}; ` +
      `autovacuum=${settings.autovacuum ?? '?'}; receiver saw ${fmtInt(st.distinct)} distinct deliveries, ${st.duplicates} duplicates; ` +
      `retention removed ${fmtInt(log.total.events)} events and ${fmtInt(log.total.auditEntries)} audit entries in ${fmtInt(log.total.passes)} logged passes; ` +
      `rows left after the quiet period (exact): ${left.join(', ')}.\n` +
      `Sizes are pg_total_relation_size (heap + indexes + TOAST); rows are pg_stat_user_tables estimates; ` +
      `latencies are the median (max) of ${REPS} runs timed by the bench.\n\n` +
      table(samples) +
      '\n';
    process.stdout.write('\n' + md);
    if (knobs.report) {
      writeFileSync(knobs.report, md);
      progress(`report written to ${knobs.report}`);
    }
  } catch (err) {
    throw stack.explain(err);
  } finally {
    await probe.end().catch(() => undefined);
  }
}

main()
  .then(() => exit.cleanup())
  .then(() => process.exit(0))
  .catch(async (err: unknown) => {
    process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
    await exit.cleanup();
    process.exit(1);
  });
