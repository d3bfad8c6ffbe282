/**
 * What Herald's hot statements cost PostgreSQL per delivery, measured
 * alone: one connection, nothing else running, the backend's own CPU time
 * (/proc) around each statement. Beside them, floor-rows' statements
 * (floor-rows-sql.ts), which leave the same rows at the least.
 *
 *   npm run build:bench && node dist-bench/bench/statement-cost.js
 *
 * BENCH_RUNS rounds (default 5), each publishing BENCH_STATEMENTS
 * statements (default 200) of BENCH_EVENTS events (default 13) fanned out to 10 of 100 endpoints
 * (the steady state's shape and batch) along three paths, in turn on the
 * same tables:
 * - hand-off: Herald's publish with a hand-off lease (`herald serve`), then
 *   Herald's outcome write in batches of 128;
 * - claim: Herald's publish without one (`herald api`), Herald's claim in
 *   batches of 256, then the outcome write;
 * - floor-rows: its publish, then its outcome write;
 * and after each path the VACUUM of the queue that Herald's upkeep runs.
 *
 * In the steady state the same statements cost more per delivery (cores
 * shared with the sender and the receiver: caches and preemption), so these
 * figures say which statement costs what, not what a run will show.
 */
import { eventBatch, publishMatched, type Matcher, type NewEvent } from '../src/store/events.js';
import { claimDeliveries } from '../src/delivery/queue/claim.js';
import { prepareOutcomes, writeOutcomes } from '../src/delivery/queue/record.js';
import { EndpointConfigs } from '../src/delivery/queue/endpoint-configs.js';
import type { AttemptResult, ClaimedDelivery } from '../src/delivery/queue/types.js';
import { DEFAULT_RETRY } from '../src/delivery/schedule.js';
import { PgDb } from '../src/db/pg.js';
import { createLogger } from '../src/logger.js';
import { newId } from '../src/ids.js';
import { SecretBox } from '../src/security/secret-box.js';
import { insertEndpoint } from '../src/store/endpoints.js';
import { insertTenant } from '../src/store/tenants.js';
import { cleanUpOnExit } from './children.js';
import { createBenchDb } from './db.js';
import { migrateHeraldSchema } from './floor-http.js';
import { FLOOR_ROWS_PUBLISH_SQL, FLOOR_ROWS_RECORD_SQL } from './floor-rows-sql.js';
import { processCpuMs } from './cpu.js';
import { envInt, fmtInt, median, progress } from './util.js';

const ROUNDS = envInt('BENCH_RUNS', 5);
const STATEMENTS = envInt('BENCH_STATEMENTS', 200);
const EVENTS = envInt('BENCH_EVENTS', 13);
const OUTCOME_BATCH = 128;
const CLAIM_BATCH = 256;
const ENDPOINTS = 100;
const TYPES = 10;
const TENANT = 'floor'; // floor-rows' statements name this tenant

const db = await createBenchDb();
let herald: PgDb | null = null;
const { cleanup } = cleanUpOnExit(async () => {
  await herald?.close();
});
try {
  process.env.DATABASE_URL = db.url;
  migrateHeraldSchema();
  // one connection that never closes: the backend whose CPU is read
  herald = new PgDb({ connectionString: db.url, max: 1, idleTimeoutMs: 0, options: '-c synchronous_commit=off', logger: createLogger('warn') });
  await measure(herald);
} finally {
  await cleanup();
}

async function measure(herald: PgDb): Promise<void> {
  const backend = (await herald.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  if (processCpuMs(backend) === null) throw new Error('the database server is not on this machine: its CPU cannot be read');
  const cpuMs = (): number => processCpuMs(backend)!;

  const box = new SecretBox([SecretBox.generateKey()]);
  await insertTenant(herald, TENANT, TENANT);
  const endpointIds: string[] = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    const e = await insertEndpoint(
      herald,
      {
        id: newId('ep'), tenantId: TENANT, url: `http://127.0.0.1:9/ep/${i}`, destination: null, brokerUrl: null, description: '',
        eventTypes: [`steady.t${i % TYPES}`], disabled: false, headers: {}, signature: { scheme: 'standard' }, retry: DEFAULT_RETRY,
        timeoutMs: 5_000, ordered: false, rateLimitPerSecond: null, filter: null, sendTraceContext: false, transformation: null,
        secret: `whsec_${Buffer.alloc(24, i).toString('base64')}`,
      },
      box,
    );
    endpointIds.push(e.id);
  }
  const generation = (await herald.query<{ gen: string }>(`select coalesce((select gen from endpoint_generations where tenant_id = $1), 0)::text as gen`, [TENANT])).rows[0]!.gen;
  const byType = (type: string) => endpointIds.filter((_, i) => `steady.t${i % TYPES}` === type).map((id) => ({ id, ordered: false }));
  const matcher: Matcher = { generation, endpointsFor: byType, wantsDelivered: false, wantsFailed: false };
  const configs = new EndpointConfigs(box);

  /** A delivery as the outcome statements need it. */
  interface Sent {
    id: string;
    eventId: string;
    endpointId: string;
    token: string;
  }

  let seq = 0;
  const freshEvents = (): NewEvent[] =>
    Array.from({ length: EVENTS }, () => {
      const i = seq++;
      return { id: newId('evt'), type: `steady.t${i % TYPES}`, payloadJson: JSON.stringify({ seq: i, data: 'x'.repeat(1000) }), body: null, createdAt: new Date(), idMadeHere: true };
    });

  /** Runs `fn` and adds the backend's CPU milliseconds it took to `into[key]`. */
  async function timed<T>(into: Record<string, number>, key: string, fn: () => Promise<T>): Promise<T> {
    const before = cpuMs();
    const out = await fn();
    into[key] = (into[key] ?? 0) + cpuMs() - before;
    return out;
  }

  const REQUEST_HEADERS = { 'content-type': 'application/json', 'user-agent': 'Herald', 'webhook-id': 'msg_x', 'webhook-timestamp': '1764960000', 'webhook-signature': `v1,${'a'.repeat(44)}` };
  const RESPONSE_HEADERS = { 'content-type': 'text/plain', date: 'Sat, 05 Dec 2026 19:00:00 GMT', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'content-length': '2' };

  function succeeded(d: Sent, startedAt: Date): AttemptResult {
    const delivery = { id: d.id, leaseToken: d.token, attempts: 0, url: `http://127.0.0.1:9/${d.endpointId}` } as ClaimedDelivery;
    return {
      delivery, attemptId: newId('att'), status: 'succeeded', retryInMs: null, startedAt, durationMs: 3, requestHeaders: REQUEST_HEADERS,
      responseStatus: 200, responseHeaders: RESPONSE_HEADERS, responseBody: 'ok', responseBodyTruncated: false, errorCode: null,
      errorMessage: null, skipped: false, counted: true,
    };
  }

  async function heraldRecord(ms: Record<string, number>, sent: Sent[]): Promise<void> {
    for (let i = 0; i < sent.length; i += OUTCOME_BATCH) {
      const startedAt = new Date();
      const results = sent.slice(i, i + OUTCOME_BATCH).map((d) => succeeded(d, startedAt));
      const lost = await timed(ms, 'record', () => writeOutcomes(herald, prepareOutcomes(results)));
      if (lost.size > 0) throw new Error(`${lost.size} outcomes not applied`);
    }
  }

  type Path = 'hand-off' | 'claim' | 'floor-rows';

  /** One path over fresh deliveries: CPU milliseconds per step, and how many deliveries. */
  async function runPath(path: Path): Promise<{ ms: Record<string, number>; deliveries: number }> {
    const ms: Record<string, number> = {};
    const sent: Sent[] = [];
    for (let s = 0; s < STATEMENTS; s++) {
      const events = freshEvents();
      if (path === 'floor-rows') {
        const d: Sent[] = events.flatMap((e) => byType(e.type).map((ep) => ({ id: newId('dlv'), eventId: e.id, endpointId: ep.id, token: 'floor' })));
        const values = [events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.payloadJson), d.map((x) => x.id), d.map((x) => x.eventId), d.map((x) => x.endpointId)];
        await timed(ms, 'publish', () => herald.query(FLOOR_ROWS_PUBLISH_SQL, values, 'floor_rows_publish'));
        sent.push(...d);
      } else {
        const lease = path === 'hand-off' ? { token: 'bench:h1', leaseSeconds: 60, limit: 1_000 } : null;
        const done = await timed(ms, 'publish', () => publishMatched(herald, TENANT, eventBatch(events), matcher, lease));
        if (!done) throw new Error('the publish found the endpoints changed');
        if (lease) for (const d of done.handedOff!.deliveries) sent.push({ id: d.id, eventId: d.eventId, endpointId: d.endpointId, token: lease.token });
      }
    }
    if (path === 'claim') {
      // as a worker claims: from the cursor the last claim left, until a whole round finds nothing
      let cursor = '';
      for (let n = 1, empty = 0; empty < 2; n++) {
        const claim = { limit: CLAIM_BATCH, leaseToken: `bench:c${n}`, leaseSeconds: 60, skipEndpoints: [], endpointLimit: 64, room: new Map<string, number>(), maxEndpoints: 64, cursor, minShare: 16 };
        const got = await timed(ms, 'claim', () => claimDeliveries(herald, configs, claim));
        cursor = got.cursor;
        empty = got.deliveries.length === 0 ? empty + 1 : 0;
        for (const d of got.deliveries) sent.push({ id: d.id, eventId: d.eventId, endpointId: d.endpointId, token: d.leaseToken });
      }
    }
    if (path === 'floor-rows') {
      for (let i = 0; i < sent.length; i += OUTCOME_BATCH) {
        const b = sent.slice(i, i + OUTCOME_BATCH);
        const at = new Date();
        const values = [
          b.map((d) => d.id), b.map(() => 200), b.map(() => at), b.map(() => 3), b.map((d) => d.eventId), b.map((d) => d.endpointId),
          b.map((d) => `http://127.0.0.1:9/${d.endpointId}`), b.map(() => JSON.stringify(REQUEST_HEADERS)), b.map(() => JSON.stringify(RESPONSE_HEADERS)),
        ];
        await timed(ms, 'record', () => herald.query(FLOOR_ROWS_RECORD_SQL, values, 'floor_rows_record'));
      }
    } else {
      await heraldRecord(ms, sent);
    }
    await timed(ms, 'vacuum', () => herald.exec('vacuum queue'));
    const left = (await herald.query<{ n: number }>('select count(*)::int as n from queue')).rows[0]!.n;
    if (left !== 0) throw new Error(`${path}: ${left} queue rows left`);
    return { ms, deliveries: sent.length };
  }

  const paths: Path[] = ['hand-off', 'claim', 'floor-rows'];
  const perDelivery = new Map<string, number[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    // each round starts with another path, so none always follows the same one
    for (let k = 0; k < paths.length; k++) {
      const path = paths[(k + round - 1) % paths.length]!;
      const { ms, deliveries } = await runPath(path);
      for (const [step, v] of Object.entries(ms)) {
        const key = `${path} ${step}`;
        perDelivery.set(key, [...(perDelivery.get(key) ?? []), (1000 * v) / deliveries]);
      }
      progress(`round ${round} ${path}: ${fmtInt(deliveries)} deliveries, ${Object.entries(ms).map(([s, v]) => `${s} ${((1000 * v) / deliveries).toFixed(1)} µs`).join(', ')}`);
    }
  }
  console.log(`\n| path | step | µs of PostgreSQL CPU per delivery (median) | rounds |\n| --- | --- | ---: | --- |`);
  for (const path of paths) {
    for (const [key, xs] of perDelivery) {
      if (!key.startsWith(`${path} `)) continue;
      console.log(`| ${path} | ${key.slice(path.length + 1)} | ${median(xs).toFixed(1)} | ${xs.map((x) => x.toFixed(1)).join(', ')} |`);
    }
  }
  // how PostgreSQL planned each prepared statement: a custom plan is made afresh at every execution
  const plans = await herald.query<{ name: string; generic_plans: string; custom_plans: string }>('select name, generic_plans, custom_plans from pg_prepared_statements order by name');
  console.log(`\n| prepared statement | generic plans | custom plans |\n| --- | ---: | ---: |`);
  for (const p of plans.rows) console.log(`| ${p.name} | ${p.generic_plans} | ${p.custom_plans} |`);
}
