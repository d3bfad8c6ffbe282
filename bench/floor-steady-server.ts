/**
 * The steady-state floor: the least work the steady-state scenario asks of
 * any webhook service, done by a minimal program, so that Herald's ratio
 * can be read against what this machine allows at all.
 *
 * One process, as one `herald serve`, with none of Herald's features:
 * no authentication, no schema or size checks, no idempotency, no
 * envelopes, no retries, no pacing, no circuits, no per-endpoint queues or
 * caps, no metrics or logs. What it keeps is what "accepted means stored,
 * every attempt recorded" costs:
 * - `POST /v1/tenants/:t/events`: JSON.parse; single events arriving while
 *   the previous statement runs share one statement and one synchronous
 *   commit (group commit): an event row (payload as text) and one queue
 *   row per endpoint whose type matches, written already leased to this
 *   process; then 202 with the number of deliveries.
 * - each delivery goes straight from memory (no claim) as a signed POST
 *   (HMAC-SHA256 over `id.timestamp.body`, Standard Webhooks headers), at
 *   most 256 in flight, over one keep-alive pool to the receiver;
 * - each answer becomes an attempt row and deletes its queue row, in
 *   batches of up to 128 (or what 5 ms gathered) committed without waiting
 *   for the WAL flush, as Herald's outcome writes are; the queue is
 *   vacuumed every 20,000 outcomes (autovacuum is off on this server).
 * Each table has its primary key and the one index a queue needs.
 *
 * FLOOR_RECORD=herald writes Herald's own rows instead, into Herald's own
 * tables (`herald migrate` first): the event, a delivery record and a queue
 * row per delivery at publish; at each answer the queue row deleted, the
 * delivery record updated and an attempt row with the request's and the
 * answer's headers and body. Same indexes, same columns, the cheapest
 * statements (arrays in, no joins): what Herald's record of a delivery
 * costs at the least, apart from how Herald's code gets there.
 *
 * Endpoint i of ENDPOINTS (default 100) takes type `steady.t{i % types}`,
 * types = ENDPOINTS / FANOUT (default 10), the steady scenario's rule; it
 * POSTs to RECEIVER_URL/ep/i. Started by steady.ts (shape `floor`) with
 * DATABASE_URL, PORT and RECEIVER_URL; prints `listening:` when ready.
 */
import { createHmac } from 'node:crypto';
import pg from 'pg';
import { Pool } from 'undici';
import { migrateHeraldSchema, serveFloor } from './floor-http.js';
import { FLOOR_ROWS_PUBLISH_SQL, FLOOR_ROWS_RECORD_SQL } from './floor-rows-sql.js';

const endpoints = Number(process.env.ENDPOINTS || 100);
const fanout = Number(process.env.FANOUT || 10);
const types = Math.max(1, Math.round(endpoints / fanout));
const receiver = new URL(process.env.RECEIVER_URL ?? '');
const MAX_IN_FLIGHT = 256;
const RECORD_BATCH = 128;
const RECORD_LINGER_MS = 5;

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
const outcomesDb = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2, options: '-c synchronous_commit=off -c enable_seqscan=off' });
const heraldRecord = process.env.FLOOR_RECORD === 'herald';
if (heraldRecord) {
  migrateHeraldSchema();
  await db.query(`insert into tenants (id, name) values ('floor', 'floor') on conflict do nothing`);
} else {
  await db.query(`
  create table if not exists floor_events (id text primary key, type text not null, payload text not null, created_at timestamptz not null);
  create table if not exists floor_queue (id text primary key, event_id text not null, endpoint_id text not null,
    due_at timestamptz not null, lease_until timestamptz);
  create index if not exists floor_queue_due on floor_queue (endpoint_id, due_at);
  create table if not exists floor_attempts (delivery_id text not null, n int not null, status int, started_at timestamptz not null,
    duration_ms int not null, primary key (delivery_id, n));`);
}

const byType = new Map<string, number[]>();
for (let i = 0; i < endpoints; i++) {
  const t = `steady.t${i % types}`;
  byType.set(t, [...(byType.get(t) ?? []), i]);
}
const keys = Array.from({ length: endpoints }, (_, i) => Buffer.from(`floor-secret-${i}`));

const PUBLISH = heraldRecord
  ? FLOOR_ROWS_PUBLISH_SQL
  : `
with e as (
  insert into floor_events (id, type, payload, created_at)
  select id, type, payload, now() from unnest($1::text[], $2::text[], $3::text[]) as i(id, type, payload)
)
insert into floor_queue (id, event_id, endpoint_id, due_at, lease_until)
select d.id, d.event_id, d.endpoint_id, now(), now() + interval '60 seconds'
  from unnest($4::text[], $5::text[], $6::text[]) as d(id, event_id, endpoint_id)`;

const RECORD = heraldRecord
  ? FLOOR_ROWS_RECORD_SQL
  : `
with gone as (delete from floor_queue where id = any ($1::text[]))
insert into floor_attempts (delivery_id, n, status, started_at, duration_ms)
select id, 1, status, started_at, duration_ms from unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[]) as r(id, status, started_at, duration_ms)`;

interface Delivery {
  id: string;
  eventId: string;
  endpoint: number;
  body: string;
}
interface Published {
  id: string;
  type: string;
  payload: string;
  done: (deliveries: number, err?: unknown) => void;
}

let seq = 0;
const pending: Published[] = [];
let publishing = false;
async function groupCommit(): Promise<void> {
  if (publishing || pending.length === 0) return;
  publishing = true;
  const batch = pending.splice(0, pending.length);
  const dIds: string[] = [];
  const dEvents: string[] = [];
  const dEndpoints: string[] = [];
  const out: Delivery[] = [];
  for (const p of batch) {
    for (const ep of byType.get(p.type) ?? []) {
      const id = `${p.id}_${ep}`;
      dIds.push(id);
      dEvents.push(p.id);
      dEndpoints.push(`ep_${ep}`);
      out.push({ id, eventId: p.id, endpoint: ep, body: p.payload });
    }
  }
  try {
    await db.query({ name: 'publish', text: PUBLISH, values: [batch.map((p) => p.id), batch.map((p) => p.type), batch.map((p) => p.payload), dIds, dEvents, dEndpoints] });
    for (const p of batch) p.done(byType.get(p.type)?.length ?? 0);
    for (const d of out) toSend.push(d);
    pump();
  } catch (err) {
    for (const p of batch) p.done(0, err);
  } finally {
    publishing = false;
    void groupCommit();
  }
}

const pool = new Pool(receiver.origin, { connections: 64 });
const toSend: Delivery[] = [];
let head = 0;
let inFlight = 0;
function pump(): void {
  while (inFlight < MAX_IN_FLIGHT && head < toSend.length) {
    send(toSend[head++]!);
  }
  if (head > 4096 && head * 2 > toSend.length) {
    toSend.splice(0, head);
    head = 0;
  }
}

function send(d: Delivery): void {
  inFlight++;
  const started = new Date();
  const t0 = performance.now();
  const ts = Math.floor(started.getTime() / 1000);
  const sig = createHmac('sha256', keys[d.endpoint]!).update(`${d.id}.${ts}.${d.body}`).digest('base64');
  const path = `${receiver.pathname.replace(/\/$/, '')}/ep/${d.endpoint}`;
  const headers = { 'content-type': 'application/json', 'webhook-id': d.id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` };
  let answer: Record<string, unknown> | null = null;
  pool
    .request({ method: 'POST', path, headers, body: d.body })
    .then(
      async (r) => {
        await r.body.dump();
        answer = r.headers;
        return r.statusCode;
      },
      () => null,
    )
    .then((status) => {
      inFlight--;
      const ms = Math.round(performance.now() - t0);
      if (heraldRecord) record(d.id, status, started, ms, { d, url: receiver.origin + path, req: JSON.stringify(headers), res: answer && JSON.stringify(answer) });
      else record(d.id, status, started, ms);
      pump();
    });
}

interface Detail {
  d: Delivery;
  url: string;
  req: string;
  res: string | null;
}
const outcomes: { id: string; status: number | null; started: Date; ms: number; detail?: Detail }[] = [];
let recording = false;
let recorded = 0;
const VACUUM_EVERY = 20_000;
let lingerTimer: NodeJS.Timeout | null = null;
function record(id: string, status: number | null, started: Date, ms: number, detail?: Detail): void {
  outcomes.push({ id, status, started, ms, detail });
  if (outcomes.length >= RECORD_BATCH) void flush();
  else lingerTimer ??= setTimeout(() => void flush(), RECORD_LINGER_MS);
}
async function flush(): Promise<void> {
  if (lingerTimer) clearTimeout(lingerTimer);
  lingerTimer = null;
  if (recording || outcomes.length === 0) return;
  recording = true;
  const batch = outcomes.splice(0, RECORD_BATCH);
  try {
    recorded += batch.length;
    if (recorded >= VACUUM_EVERY) {
      // autovacuum is off here, as on the steady scenario's server: without
      // this the deletes walk ever more dead index entries
      recorded = 0;
      await outcomesDb.query(heraldRecord ? 'vacuum queue' : 'vacuum floor_queue');
    }
    const values: unknown[] = [batch.map((o) => o.id), batch.map((o) => o.status), batch.map((o) => o.started), batch.map((o) => o.ms)];
    if (heraldRecord) {
      values.push(
        batch.map((o) => o.detail!.d.eventId),
        batch.map((o) => `ep_${o.detail!.d.endpoint}`),
        batch.map((o) => o.detail!.url),
        batch.map((o) => o.detail!.req),
        batch.map((o) => o.detail!.res),
      );
    }
    await outcomesDb.query({ name: 'record', text: RECORD, values });
  } catch (err) {
    process.stderr.write(`floor: outcome write failed: ${String(err)}\n`);
  } finally {
    recording = false;
    if (outcomes.length >= RECORD_BATCH) void flush();
    else if (outcomes.length > 0) lingerTimer ??= setTimeout(() => void flush(), RECORD_LINGER_MS);
  }
}

serveFloor(
  (method, url, body, reply) => {
    if (method !== 'POST' || !/^\/v1\/tenants\/[^/]+\/events$/.test(url)) return reply(404, '{}');
    const parsed = JSON.parse(body.toString('utf8')) as { type: string; payload: unknown };
    const id = `evt_floor_${seq++}`;
    pending.push({
      id,
      type: parsed.type,
      payload: JSON.stringify(parsed.payload),
      done: (deliveries, err) => (err ? reply(500, JSON.stringify({ error: String(err) })) : reply(202, JSON.stringify({ id, deliveries }))),
    });
    void groupCommit();
  },
  () => Promise.all([db.end(), outcomesDb.end(), pool.close()]),
);
