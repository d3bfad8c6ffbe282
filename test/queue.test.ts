import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/db.js';
import { HOT_PATH_SETTINGS } from '../src/db/hot-path.js';
import { PICK_SQL, claimDeliveries } from '../src/delivery/queue/claim.js';
import { RECORD_SQL, outcomeColumns } from '../src/delivery/queue/record.js';
import type { AttemptResult, ClaimedDelivery } from '../src/delivery/queue/types.js';
import { EndpointConfigs } from '../src/delivery/queue/endpoint-configs.js';
import { SecretBox } from '../src/security/secret-box.js';
import { newId } from '../src/ids.js';
import { eventBatch, publishAndHandOff } from '../src/store/events.js';
import { QueueUpkeep } from '../src/delivery/queue/upkeep.js';
import { createLogger } from '../src/logger.js';
import { autovacuumRuns } from '../src/store/retention.js';
import { SECRET_KEY, startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

/*
 * The hot queue (migration 0010, src/delivery/queue/): a row per delivery
 * still to go out, gone once the delivery is final; no foreign keys on
 * the hot rows, so removing an endpoint, a tenant or an old event takes
 * its deliveries, attempts and queue rows with it explicitly.
 */
let herald: TestHerald;
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
  receiver.respond = (r, res) => void res.writeHead(r.path === '/down' ? 500 : 200).end();
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

/** How many VACUUMs or ANALYZEs a table has had (statistics flushed first, so the last one counts). */
async function maintenanceCount(column: 'vacuum_count' | 'analyze_count', table: string, db: Db = herald.running.db): Promise<number> {
  await db.query('select pg_stat_force_next_flush()');
  return count(`select ${column} as n from pg_stat_user_tables where relname = $1`, [table], db);
}

const count = async (sql: string, params: unknown[] = [], db: Db = herald.running.db) => Number((await db.query<{ n: number }>(sql, params)).rows[0]!.n);

/** Tells `upkeep` of `n` more changes (each an outcome) and waits for whatever pass that starts. */
async function noted(upkeep: QueueUpkeep, n: number): Promise<void> {
  upkeep.note(n);
  await upkeep.settled();
}

describe('queue', () => {
  it('holds a row per delivery still to go out, and none once the delivery is final', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/up'), eventTypes: ['q.*'] });
    await herald.api.endpoint(t, { url: receiver.url('/down'), eventTypes: ['q.*'], retry: { schedule: [3600] } });
    const ev = (await herald.api.publish(t, 'q.one', { n: 1 })).body.id as string;
    await receiver.waitForCount('/up', 1);
    await receiver.waitForCount('/down', 1);
    const ds = (await herald.api.get(`/v1/tenants/${t}/events/${ev}/deliveries`)).body.data as { id: string }[];
    expect(ds).toHaveLength(2);
    // the success leaves the queue; the failure waits an hour in it, no longer leased
    for (let i = 0; i < 100 && (await count(`select count(*)::int as n from queue where event_id = $1 and lease_token is null`, [ev])) < 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const rows = (await herald.running.db.query<{ url: string; attempts: number; due_in: number; leased: boolean }>(
      `select e.url, q.attempts, extract(epoch from q.due_at - now())::int as due_in, q.lease_token is not null as leased
         from queue q join endpoints e on e.id = q.endpoint_id where q.event_id = $1`,
      [ev],
    )).rows;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ url: receiver.url('/down'), attempts: 1, leased: false });
    expect(rows[0]!.due_in).toBeGreaterThan(3500);
    // a manual retry makes the queued one due now: a second attempt arrives at once
    const downId = (await herald.running.db.query<{ delivery_id: string }>(`select delivery_id from queue where event_id = $1`, [ev])).rows[0]!.delivery_id;
    expect((await herald.api.post(`/v1/tenants/${t}/deliveries/${downId}/retry`)).status).toBe(202);
    await receiver.waitForCount('/down', 2);
    // and one on a finished delivery puts it back in the queue for one attempt
    const upId = ds.find((d) => d.id !== downId)!.id;
    expect(await count(`select count(*)::int as n from queue where delivery_id = $1`, [upId])).toBe(0);
    expect((await herald.api.post(`/v1/tenants/${t}/deliveries/${upId}/retry`)).status).toBe(202);
    await receiver.waitForCount('/up', 2);
    await herald.api.waitDelivery(t, upId, (d) => d.status === 'succeeded' && d.attempts === 2);
    expect(await count(`select count(*)::int as n from queue where delivery_id = $1`, [upId])).toBe(0);
  });

  it('takes deliveries, attempts and queue rows with a deleted endpoint, and everything with a deleted tenant', async () => {
    const t = await herald.api.tenant();
    const up = await herald.api.endpoint(t, { url: receiver.url('/up'), eventTypes: ['d.*'] });
    const down = await herald.api.endpoint(t, { url: receiver.url('/down'), eventTypes: ['d.*'], retry: { schedule: [3600] } });
    for (let i = 0; i < 3; i++) await herald.api.publish(t, 'd.x', { i });
    await receiver.waitForCount('/down', 3);
    await new Promise((r) => setTimeout(r, 300)); // outcomes written
    const of = async (table: string, col: string, id: string) => count(`select count(*)::int as n from ${table} where ${col} = $1`, [id]);
    expect(await of('deliveries', 'endpoint_id', down.id)).toBe(3);
    expect(await of('queue', 'endpoint_id', down.id)).toBe(3);
    expect(await of('attempts', 'endpoint_id', down.id)).toBe(3);

    expect((await herald.api.delete(`/v1/tenants/${t}/endpoints/${down.id}`)).status).toBe(204);
    expect(await of('deliveries', 'endpoint_id', down.id)).toBe(0);
    expect(await of('queue', 'endpoint_id', down.id)).toBe(0);
    expect(await of('attempts', 'endpoint_id', down.id)).toBe(0);
    expect(await of('deliveries', 'endpoint_id', up.id)).toBe(3);

    expect((await herald.api.delete(`/v1/tenants/${t}`)).status).toBe(204);
    for (const table of ['events', 'deliveries', 'attempts', 'queue', 'endpoints']) expect(await of(table, 'tenant_id', t)).toBe(0);
  });

  it('hands fresh deliveries to the worker of the process, and gives back a hand-off whose publish failed', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/up'), eventTypes: ['h.*'] });
    // through the API: handed over and delivered
    const first = receiver.at('/up').length;
    await herald.api.publish(t, 'h.x', { n: 1 });
    await receiver.waitForCount('/up', first + 1, 5_000);
    // a publish that committed under a hand-off lease the worker never got (its connection
    // dropped after the commit): the rows wait under the lease until the publisher abandons it
    const worker = herald.running.worker!;
    const lease = worker.reserve()!;
    expect(lease).not.toBeNull();
    const before = receiver.at('/up').length;
    const e = { id: newId('evt'), type: 'h.x', payloadJson: '{"n":2}', body: null, createdAt: new Date() };
    const { handedOff } = await publishAndHandOff(herald.running.db, t, eventBatch([e]), lease);
    expect(handedOff?.deliveries).toHaveLength(1);
    // held by the lease, which no claim takes (a live lease_until): nobody sends it
    expect(await count(`select count(*)::int as n from queue where lease_token = $1 and lease_until > now() + interval '30 seconds'`, [lease.token])).toBe(1);
    expect(receiver.at('/up').length).toBe(before);
    worker.abandon(lease);
    const t0 = Date.now();
    await receiver.waitForCount('/up', before + 1, 5_000);
    expect(Date.now() - t0).toBeLessThan(5_000); // not after the 60 s lease
  });

  it('plans the claim and the outcome write as index probes on a fresh, never analyzed database', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/up'), eventTypes: ['p.*'] });
    const explain = (sql: string, params: unknown[]) =>
      herald.running.db.transaction(async (tx) => {
        for (const [k, v] of Object.entries(HOT_PATH_SETTINGS)) await tx.exec(`set local ${k} = ${v}`);
        const r = await tx.query<{ 'QUERY PLAN': string }>(`explain ${sql}`, params);
        return r.rows.map((x) => x['QUERY PLAN']).join('\n');
      });
    const pick = await explain(`${PICK_SQL} select * from picked where $2::text is not null and $4::int > 0`, [100, 'tok', [], 60, 200, '', 32, '{}', 16]);
    expect(pick).toMatch(/Index (Only )?Scan using queue_endpoint_due/);
    expect(pick).not.toMatch(/Seq Scan on queue/);
    // the outcome write itself (test/outcome-write.test.ts plans it with a full batch): every big
    // table probed by its primary key, and no join of batch against batch row by row (a join
    // filter rescanning a materialized batch for each row is quadratic in the batch)
    const d = { id: 'dlv_x', leaseToken: 'tok', url: 'http://x', attempts: 0 } as ClaimedDelivery;
    const outcome: AttemptResult = { delivery: d, attemptId: 'att_x', status: 'pending', retryInMs: 1_000, startedAt: new Date(), durationMs: 1, requestHeaders: {}, responseStatus: 500, responseHeaders: {}, responseBody: '', responseBodyTruncated: false, errorCode: null, errorMessage: null, skipped: false, counted: true };
    const record = await explain(RECORD_SQL, outcomeColumns([outcome]));
    expect(record).toMatch(/Index Scan (using|on) queue_pkey/);
    expect(record).toMatch(/Index Scan (using|on) deliveries_pkey/);
    expect(record).not.toMatch(/Seq Scan/);
    expect(record).not.toMatch(/Join Filter/);
  });

  it('never truncates the queue when vacuuming it (truncation locks out every publish)', async () => {
    const r = await herald.running.db.query<{ opts: string[] | null }>(`select reloptions as opts from pg_class where relname = 'queue'`);
    expect(r.rows[0]?.opts ?? []).toContain('vacuum_truncate=false');
  });

  it.skipIf(!process.env.DATABASE_URL)('compiles no plan just in time, though a disabled scan prices a plan over every JIT threshold', async () => {
    const plan = await herald.running.db.transaction(async (tx) => {
      for (const [k, v] of Object.entries(HOT_PATH_SETTINGS)) await tx.exec(`set local ${k} = ${v}`);
      // workers has no index on last_seen_at: the seq scan stays, priced at 10^10 (the heartbeat's count)
      const r = await tx.query<{ 'QUERY PLAN': string }>(`explain (analyze) select count(*) from workers where last_seen_at > now() - interval '15 seconds'`);
      return r.rows.map((x) => x['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/cost=10000000000/);
    expect(plan).not.toMatch(/JIT/);
  });

  it('takes a hand-off bigger than its free slots whole: the rest waits in memory, nothing goes back to the queue', async () => {
    // 2 slots, a receiver that takes 30 ms: a batch of 24 is handed over, 2 sent at once, 22 held
    const small = await startHerald({ workerConcurrency: 2 });
    try {
      const slow = await new Receiver().listen();
      slow.respond = (_r, res) => void setTimeout(() => res.writeHead(200).end(), 30);
      const t = await small.api.tenant();
      await small.api.endpoint(t, { url: slow.url('/slow'), eventTypes: ['hold.*'] });
      const events = Array.from({ length: 24 }, (_, i) => ({ type: 'hold.x', payload: { i } }));
      const res = await small.api.post(`/v1/tenants/${t}/events/batch`, { events });
      expect(res.status).toBe(202);
      await slow.waitForCount('/slow', 24, 10_000);
      const metrics = await (await fetch(`${small.url}/metrics`)).text();
      expect(metrics).toMatch(/herald_deliveries_taken_total\{via="handoff"\} 24\b/);
      expect(metrics).not.toMatch(/herald_deliveries_taken_total\{via="claim"\} [1-9]/);
      expect(metrics).toMatch(/herald_deliveries_given_back_total 0\b/);
      await slow.close();
    } finally {
      await small.stop();
    }
  });

  it('claims from every endpoint with queued rows, wherever the last claim stopped (the round wraps)', async () => {
    const api = await startHerald({}, { api: true, worker: false });
    try {
      const t = await api.api.tenant();
      const eps: string[] = [];
      for (let i = 0; i < 4; i++) eps.push((await api.api.endpoint(t, { url: receiver.url('/up'), eventTypes: ['w.*'] })).id);
      for (let i = 0; i < 2; i++) await api.api.publish(t, 'w.x', { i });
      eps.sort();
      const { deliveries, cursor } = await claimDeliveries(api.running.db, new EndpointConfigs(new SecretBox([SECRET_KEY])), {
        limit: 8,
        leaseToken: 'wrap',
        leaseSeconds: 60,
        skipEndpoints: [],
        endpointLimit: 32,
        room: new Map(),
        maxEndpoints: 10,
        minShare: 1,
        cursor: eps[1]!, // the last claim stopped at the second endpoint
      });
      // the round: the third, the fourth, then round to the first and the second; two each
      expect(deliveries).toHaveLength(8);
      expect(new Set(deliveries.map((d) => d.endpointId))).toEqual(new Set(eps));
      expect(cursor).toBe(eps[1]); // the batch was full: the next claim starts after the last endpoint served
    } finally {
      await api.stop();
    }
  });

  it("answers each claimed delivery with its own event, its endpoint's state and its tenant's envelope", async () => {
    const api = await startHerald({}, { api: true, worker: false });
    try {
      const created = await api.api.post('/v1/tenants', { name: 'Claimed', settings: { envelope: { data: '{{payload}}', kind: '{{event.type}}' } } });
      expect(created.status).toBe(201);
      const t = created.body.id as string;
      const other = await api.api.tenant('Other');
      const paced = (await api.api.endpoint(t, { url: receiver.url('/up'), eventTypes: ['c.*'], rateLimitPerSecond: 7 })).id;
      const plain = (await api.api.endpoint(t, { url: receiver.url('/up'), eventTypes: ['c.a', 'webhook.failed'] })).id;
      const elsewhere = (await api.api.endpoint(other, { url: receiver.url('/up'), eventTypes: ['c.*'] })).id;
      await api.running.db.query(`update endpoints set consecutive_failures = 3 where id = $1`, [plain]);
      const a = (await api.api.publish(t, 'c.a', { n: 1 })).body.id as string;
      const b = (await api.api.publish(t, 'c.b', { n: 2 })).body.id as string;
      const c = (await api.api.publish(other, 'c.a', { n: 3 })).body.id as string;
      const { deliveries } = await claimDeliveries(api.running.db, new EndpointConfigs(new SecretBox([SECRET_KEY])), {
        limit: 10, leaseToken: 'answer', leaseSeconds: 60, skipEndpoints: [], endpointLimit: 32, room: new Map(), maxEndpoints: 10, minShare: 1, cursor: '',
      });
      const got = Object.fromEntries(
        deliveries.map((d) => [
          `${d.eventId}>${d.endpointId}`,
          { type: d.eventType, body: JSON.parse(d.payload) as unknown, rate: d.rateLimitPerSecond, unhealthy: d.endpointUnhealthy, envelope: d.tenantEnvelope, failed: d.wantsFailed, token: d.leaseToken },
        ]),
      );
      const envelope = { data: '{{payload}}', kind: '{{event.type}}' };
      // three events, four deliveries: each with its own event's body (the envelope applied for the tenant that has one)
      expect(got).toEqual({
        [`${a}>${paced}`]: { type: 'c.a', body: { data: { n: 1 }, kind: 'c.a' }, rate: 7, unhealthy: false, envelope, failed: true, token: 'answer' },
        [`${a}>${plain}`]: { type: 'c.a', body: { data: { n: 1 }, kind: 'c.a' }, rate: null, unhealthy: true, envelope, failed: true, token: 'answer' },
        [`${b}>${paced}`]: { type: 'c.b', body: { data: { n: 2 }, kind: 'c.b' }, rate: 7, unhealthy: false, envelope, failed: true, token: 'answer' },
        [`${c}>${elsewhere}`]: { type: 'c.a', body: { n: 3 }, rate: null, unhealthy: false, envelope: null, failed: false, token: 'answer' },
      });
    } finally {
      await api.stop();
    }
  });

  it('takes at least its minimum share from each backlogged endpoint, and the next claim goes on where it stopped', async () => {
    const api = await startHerald({}, { api: true, worker: false });
    try {
      const t = await api.api.tenant();
      const eps: string[] = [];
      for (let i = 0; i < 4; i++) eps.push((await api.api.endpoint(t, { url: receiver.url('/up'), eventTypes: ['m.*'] })).id);
      for (let i = 0; i < 20; i++) await api.api.publish(t, 'm.x', { i });
      eps.sort();
      const configs = new EndpointConfigs(new SecretBox([SECRET_KEY]));
      const claim = (cursor: string, token: string) =>
        claimDeliveries(api.running.db, configs, { limit: 32, leaseToken: token, leaseSeconds: 60, skipEndpoints: [], endpointLimit: 64, room: new Map(), maxEndpoints: 10, minShare: 16, cursor });
      const perEndpoint = (ds: { endpointId: string }[]) => Object.fromEntries(eps.map((e) => [e, ds.filter((d) => d.endpointId === e).length]));
      // 4 endpoints due: a share of 32 / 4 = 8 each without the minimum; 16 each from the first two with it
      const first = await claim('', 'm1');
      expect(perEndpoint(first.deliveries)).toEqual({ [eps[0]!]: 16, [eps[1]!]: 16, [eps[2]!]: 0, [eps[3]!]: 0 });
      expect(first.cursor).toBe(eps[1]);
      const second = await claim(first.cursor, 'm2');
      expect(perEndpoint(second.deliveries)).toEqual({ [eps[0]!]: 0, [eps[1]!]: 0, [eps[2]!]: 16, [eps[3]!]: 16 });
    } finally {
      await api.stop();
    }
  });

  it('vacuums the queue after a number of changes that grows with the queue, so a long queue is not vacuumed over and over', async () => {
    const db = herald.running.db;
    const vacuums = () => maintenanceCount('vacuum_count', 'queue');
    const endpoint = newId('ep'); // an endpoint that does not exist: no worker claims these rows
    await db.query(
      `insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, seq)
       select 'dlv_upkeep_' || g, 't_upkeep', 'evt_upkeep', $1, now() + interval '1 hour', g from generate_series(1, 400) g`,
      [endpoint],
    );
    try {
      // (and no ANALYZE of the record tables in this test: it would start a pass of its own)
      const upkeep = new QueueUpkeep(db, createLogger('silent'), { queueChanges: 10, queueScale: 0.5, queueIntervalMs: 0, analyzeEvery: 1e9 });
      const before = await vacuums();
      await noted(upkeep, 10); // the first pass: 10 changes are enough, and it learns the queue's size
      expect(await vacuums()).toBe(before + 1);
      await noted(upkeep, 150); // 160 changes: under half of a queue of 400 or more
      expect(await vacuums()).toBe(before + 1);
      await noted(upkeep, 250); // 410: over half of it
      expect(await vacuums()).toBe(before + 2);
    } finally {
      await db.query('delete from queue where endpoint_id = $1', [endpoint]);
    }
  });

  it('analyzes the record tables after a number of outcomes that grows with the deliveries table', async () => {
    const db = herald.running.db;
    if (await autovacuumRuns(db)) return; // then autovacuum analyzes them, and the worker does not
    const analyzes = () => maintenanceCount('analyze_count', 'deliveries');
    const tenant = newId('t');
    await db.query(
      `insert into deliveries (id, tenant_id, event_id, endpoint_id, status, created_at)
       select 'dlv_analyze_' || g, $1, 'evt_analyze', 'ep_analyze', 'succeeded', now() from generate_series(1, 2000) g`,
      [tenant],
    );
    try {
      // a fresh database: its deliveries table was never analyzed (what PostgreSQL 14+ records as -1 rows)
      await db.exec(`update pg_class set reltuples = -1 where oid = 'deliveries'::regclass`);
      const upkeep = new QueueUpkeep(db, createLogger('silent'), { queueChanges: 1e9, analyzeEvery: 100, analyzeScale: 0.5 });
      const before = await analyzes();
      await noted(upkeep, 1_000); // a fresh start: the first thousand outcomes, and it learns the table's size (2,000 rows or more)
      expect(await analyzes()).toBe(before + 1);
      await noted(upkeep, 600); // over analyzeEvery, under half of the table
      expect(await analyzes()).toBe(before + 1);
      await noted(upkeep, 500); // 1,100: over half of it
      expect(await analyzes()).toBe(before + 2);
    } finally {
      await db.query('delete from deliveries where tenant_id = $1', [tenant]);
    }
  });

  it('a worker started on record tables that have statistics (a restart) goes by them instead of analyzing at once', async () => {
    const db = herald.running.db;
    if (await autovacuumRuns(db)) return;
    const analyzes = () => maintenanceCount('analyze_count', 'deliveries');
    const tenant = newId('t');
    await db.query(
      `insert into deliveries (id, tenant_id, event_id, endpoint_id, status, created_at)
       select 'dlv_restart_' || g, $1, 'evt_restart', 'ep_restart', 'succeeded', now() from generate_series(1, 2000) g`,
      [tenant],
    );
    try {
      await db.exec('analyze deliveries');
      const upkeep = new QueueUpkeep(db, createLogger('silent'), { queueChanges: 1e9, analyzeEvery: 100, analyzeScale: 0.5 });
      const before = await analyzes();
      await noted(upkeep, 1_000); // the first thousand outcomes: the statistics say 2,000 rows or more, so no ANALYZE yet
      expect(await analyzes()).toBe(before);
      await noted(upkeep, 1_100); // over half of the table since: now it analyzes
      expect(await analyzes()).toBe(before + 1);
    } finally {
      await db.query('delete from deliveries where tenant_id = $1', [tenant]);
    }
  });

  it('scales its first vacuum to the queue it starts on, not to an empty one', async () => {
    const db = herald.running.db;
    const vacuums = () => maintenanceCount('vacuum_count', 'queue');
    const endpoint = newId('ep');
    await db.query(
      `insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, seq)
       select 'dlv_big_' || g, 't_big', 'evt_big', $1, now() + interval '1 hour', g from generate_series(1, 4000) g`,
      [endpoint],
    );
    try {
      await db.exec('analyze queue'); // a queue of 4,000 rows that somebody else filled
      const upkeep = new QueueUpkeep(db, createLogger('silent'), { queueChanges: 10, queueScale: 0.5, queueIntervalMs: 0, analyzeEvery: 1e9 });
      upkeep.tick(); // its first look at the queue learns its size
      await upkeep.settled();
      const before = await vacuums();
      await noted(upkeep, 1_000); // well over queueChanges, under half of 4,000
      expect(await vacuums()).toBe(before);
      await noted(upkeep, 1_100);
      expect(await vacuums()).toBe(before + 1);
    } finally {
      await db.query('delete from queue where endpoint_id = $1', [endpoint]);
    }
  });

  it('analyzes the queue once it has outgrown its statistics (a burst of publishing, no outcome yet)', async () => {
    // a Herald without a worker: the shared one's own upkeep saw the burst too and analyzed it first (a flaky CI run)
    const quiet = await startHerald({}, { api: true, worker: false });
    const db = quiet.running.db;
    const analyzes = () => maintenanceCount('analyze_count', 'queue', db);
    const endpoint = newId('ep');
    await db.exec('analyze queue'); // statistics of the queue as it is now: short
    try {
      const upkeep = new QueueUpkeep(db, createLogger('silent'));
      const before = await analyzes();
      const firstTick = Date.now();
      upkeep.tick(); // nothing grew
      await upkeep.settled();
      expect(await analyzes()).toBe(before);
      await db.query(
        `insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, seq)
         select 'dlv_burst_' || g, 't_burst', 'evt_burst', $1, now() + interval '1 hour', g from generate_series(1, 20000) g`,
        [endpoint],
      );
      // checked at most once a second: visible only when the burst took less than that (on a slow CI
      // machine PGlite's insert took longer, and this tick rightly analyzed)
      const withinTheSecond = Date.now() - firstTick < 1_000;
      upkeep.tick();
      await upkeep.settled();
      if (withinTheSecond) expect(await analyzes()).toBe(before);
      await new Promise((r) => setTimeout(r, 1_050));
      upkeep.tick();
      await upkeep.settled();
      expect(await analyzes()).toBe(before + 1);
    } finally {
      await quiet.stop();
    }
  });
});
