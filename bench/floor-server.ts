/**
 * The floor under Herald's figures: the least work that accepting events
 * durably (and, for latency, delivering them) takes, done by a minimal
 * program on the same machine. A target above what this reaches is out of
 * reach on the machine, whatever Herald does.
 *
 * A bare node:http server with no framework, no authentication, no schema
 * or size checks, no idempotency, no fan-out rules, no retries:
 * - `POST /v1/tenants/:t/events/batch` (intake floor): JSON.parse, then in
 *   one statement and one synchronous commit (as for Herald's 202) an event
 *   row per event (payload as text) and one row listing the batch's
 *   deliveries (its event ids and the endpoint), which is what Herald's
 *   batch route writes too (migration 0033: the delivery rows follow after
 *   the 202); 202 with ids. (It wrote a queue row per event until Herald
 *   stopped doing so: a floor doing more than Herald is no lower bound.)
 * - `POST /v1/tenants/:t/events` (latency floor): the same for one event,
 *   events arriving meanwhile sharing the statement and the commit (group
 *   commit, as Herald does); after the commit, 202, and the event is POSTed
 *   at once to RECEIVER_URL, signed with HMAC-SHA256, `webhook-id` = its id.
 *   (An outcome row per delivery is not written: the floor only needs to be
 *   a lower bound.)
 * Each table has its primary key, and the queue the one index a queue needs.
 *
 * FLOOR_RECORD=herald (intake's `floor-rows`) writes Herald's own rows
 * instead, into Herald's own tables (`herald migrate` first): per event the
 * event (payload as json), a delivery record and a queue row, with every
 * index Herald has on them. The cheapest statement (arrays in, no joins):
 * what Herald's record of an accepted event costs at the least, apart from
 * how Herald's code gets there.
 * Started by intake.ts and latency.ts as its own process (DATABASE_URL, PORT,
 * RECEIVER_URL); prints `listening:` when ready.
 */
import { createHmac } from 'node:crypto';
import pg from 'pg';
import { Pool } from 'undici';
import { migrateHeraldSchema, serveFloor } from './floor-http.js';
import { FLOOR_ROWS_INTAKE_SQL } from './floor-rows-sql.js';
import { primeBackendHeap } from '../src/db/backend-heap.js';
import { binaryTextArray } from '../src/db/binary-text-array.js';

// primed as Herald's intake connections are (src/db/backend-heap.ts): the least work does not include the
// page faults of a backend mapping each megabyte message afresh
const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 8, onConnect: primeBackendHeap });
const heraldRecord = process.env.FLOOR_RECORD === 'herald';
if (heraldRecord) migrateHeraldSchema();
else await db.query(`
  create table if not exists floor_events (tenant_id text not null, id text not null, type text not null, payload text not null,
    created_at timestamptz not null, primary key (tenant_id, id));
  create table if not exists floor_queue (id text primary key, event_id text not null, endpoint_id text not null, due_at timestamptz not null);
  create index if not exists floor_queue_due on floor_queue (endpoint_id, due_at);
  create table if not exists floor_lists (id bigint generated always as identity primary key, tenant_id text not null,
    event_ids text[] not null, endpoint_id text not null, created_at timestamptz not null);`);

/** The event rows of both statements below, as CTE `e` (id): $1 the tenant, $2-$4 id, type, payload. */
const EVENTS = `
with e as (
  insert into floor_events (tenant_id, id, type, payload, created_at)
  select $1, id, type, payload, now() from unnest($2::text[], $3::text[], $4::text[]) as i(id, type, payload)
  returning id)`;

/** A single event's statement (group-committed): the events and one queue row each. */
const INSERT = heraldRecord
  ? FLOOR_ROWS_INTAKE_SQL
  : `${EVENTS}
insert into floor_queue (id, event_id, endpoint_id, due_at) select 'dlv_' || id, id, 'ep_floor', now() from e`;

interface FloorEvent {
  id?: string;
  type: string;
  payload: unknown;
}

/** The batch route's statement: the events, and one row listing the deliveries they make (Herald's batch route writes the same two kinds). */
const INSERT_BATCH = heraldRecord
  ? FLOOR_ROWS_INTAKE_SQL
  : `${EVENTS}
insert into floor_lists (tenant_id, event_ids, endpoint_id, created_at) values ($1, $2::text[], 'ep_floor', now())`;

let seq = 0;
const idOf = (e: FloorEvent) => e.id ?? `evt_floor_${seq++}`;

async function insert(tenant: string, events: FloorEvent[], ids: string[], batch = false): Promise<void> {
  // the arrays in PostgreSQL's binary format, as Herald sends a batch's (pg's array literals escape each element)
  const values = [tenant, binaryTextArray(ids), binaryTextArray(events.map((e) => e.type)), binaryTextArray(events.map((e) => JSON.stringify(e.payload)))];
  await db.query(batch ? { name: 'floor_insert_batch', text: INSERT_BATCH, values } : { name: 'floor_insert', text: INSERT, values });
}

/** Single events gathered while the previous statement ran: one statement, one commit. */
const pending: { tenant: string; e: FloorEvent; id: string; done: (err?: unknown) => void }[] = [];
let writing = false;
async function groupCommit(): Promise<void> {
  if (writing || pending.length === 0) return;
  writing = true;
  const batch = pending.splice(0, pending.length);
  try {
    await insert(batch[0]!.tenant, batch.map((p) => p.e), batch.map((p) => p.id));
    for (const p of batch) p.done();
  } catch (err) {
    for (const p of batch) p.done(err);
  } finally {
    writing = false;
    void groupCommit();
  }
}

const receiver = process.env.RECEIVER_URL ? new URL(process.env.RECEIVER_URL) : null;
const out = receiver ? new Pool(receiver.origin, { connections: 64 }) : null;
const key = Buffer.from('floor-secret-0123456789');
function deliver(id: string, body: string): void {
  if (!out || !receiver) return;
  const ts = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  out
    .request({
      method: 'POST',
      path: receiver.pathname,
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` },
      body,
    })
    .then((r) => r.body.dump())
    .catch(() => undefined);
}

serveFloor(
  (method, url, body, reply) => {
    const m = /^\/v1\/tenants\/([^/]+)\/events(\/batch)?$/.exec(url);
    if (method !== 'POST' || !m?.[1]) return reply(404, '{}');
    const tenant = m[1];
    const parsed = JSON.parse(body.toString('utf8')) as { events?: FloorEvent[] } & FloorEvent;
    if (m[2]) {
      const events = parsed.events ?? [];
      const ids = events.map(idOf);
      insert(tenant, events, ids, true).then(
        () => reply(202, JSON.stringify({ data: ids.map((id) => ({ id })) })),
        (err: unknown) => reply(500, JSON.stringify({ error: String(err) })),
      );
      return;
    }
    const id = idOf(parsed);
    pending.push({
      tenant,
      e: parsed,
      id,
      done: (err) => {
        if (err) return reply(500, JSON.stringify({ error: String(err) }));
        reply(202, JSON.stringify({ id, deliveries: 1 }));
        deliver(id, JSON.stringify(parsed.payload));
      },
    });
    void groupCommit();
  },
  () => Promise.all([db.end(), out?.close()]),
);
