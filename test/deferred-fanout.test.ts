import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOutFanouts } from '../src/delivery/queue/fanout.js';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { Receiver } from './helpers/receiver.js';
import { metric } from './helpers/metrics.js';

/*
 * The batch route writes its events and a list of the deliveries they make;
 * a worker writes the deliveries out (migration 0033). Accepted must still
 * mean stored: with no worker running the list waits, and the next worker
 * writes it out exactly as the publish decided.
 */
let database: TestDatabase;
let api: TestHerald;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.listen();
  database = await createTestDatabase();
  api = await startHerald({}, { api: true, worker: false }, database);
});
afterAll(async () => {
  await api?.stop();
  await receiver.close();
  await database?.drop();
});

const db = () => api.running.db;

async function rows(tenantId: string): Promise<{ events: number; deliveries: number; queued: number; fanouts: number }> {
  const { rows } = await db().query<{ events: number; deliveries: number; queued: number; fanouts: number }>(
    `select (select count(*) from events where tenant_id = $1)::int as events,
            (select count(*) from deliveries where tenant_id = $1)::int as deliveries,
            (select count(*) from queue where tenant_id = $1)::int as queued,
            (select count(*) from fanouts where tenant_id = $1)::int as fanouts`,
    [tenantId],
  );
  return rows[0]!;
}

const events = (n: number, type: string, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => ({ type, payload: { i }, ...extra }));

describe('the batch route defers its deliveries to a worker', () => {
  it('answers with each event’s delivery count, writes only the events and one list, and the list makes exactly those deliveries', async () => {
    const t = await api.api.tenant('Deferred');
    const all = await api.api.endpoint(t, { url: receiver.url('/all') });
    const paid = await api.api.endpoint(t, { url: receiver.url('/paid'), eventTypes: ['order.paid'] });
    await api.api.endpoint(t, { url: receiver.url('/never'), eventTypes: ['user.created'] });
    const r = await api.api.post(`/v1/tenants/${t}/events/batch`, { events: [...events(3, 'order.paid'), ...events(2, 'order.shipped')] });
    expect(r.status).toBe(202);
    expect(r.body.data.map((e: { deliveries: number }) => e.deliveries)).toEqual([2, 2, 2, 1, 1]);
    expect(await rows(t)).toEqual({ events: 5, deliveries: 0, queued: 0, fanouts: 1 });

    expect(await writeOutFanouts(db(), 4)).toEqual({ batches: 1, deliveries: 8 });
    expect(await rows(t)).toEqual({ events: 5, deliveries: 8, queued: 8, fanouts: 0 });
    const { rows: made } = await db().query<{ event_id: string; endpoint_id: string; created: boolean; due: boolean; pending: boolean }>(
      `select d.event_id, d.endpoint_id, d.created_at = e.created_at as created, q.due_at = e.created_at as due, d.status = 'pending' as pending
         from deliveries d join events e on e.tenant_id = d.tenant_id and e.id = d.event_id join queue q on q.delivery_id = d.id
        where d.tenant_id = $1 order by e.created_at, d.id`,
      [t],
    );
    const ids: string[] = r.body.data.map((e: { id: string }) => e.id);
    const pairs = made.map((m) => `${ids.indexOf(m.event_id)}:${m.endpoint_id === all.id ? 'all' : m.endpoint_id === paid.id ? 'paid' : 'other'}`);
    expect(pairs.sort()).toEqual(['0:all', '0:paid', '1:all', '1:paid', '2:all', '2:paid', '3:all', '4:all']);
    expect(made.every((m) => m.created && m.due && m.pending)).toBe(true);
    expect(await writeOutFanouts(db(), 4)).toEqual({ batches: 0, deliveries: 0 });
  });

  it('a retried batch (named ids) makes no second list, and counts the deliveries its first publish listed', async () => {
    const t = await api.api.tenant('Retried');
    await api.api.endpoint(t, { url: receiver.url('/retried') });
    const body = { events: [{ id: 'evt_a', type: 'a.b', payload: {} }, { id: 'evt_b', type: 'a.b', payload: {} }] };
    const first = await api.api.post(`/v1/tenants/${t}/events/batch`, body);
    const again = await api.api.post(`/v1/tenants/${t}/events/batch`, { events: [...body.events, { id: 'evt_c', type: 'a.b', payload: {} }] });
    expect(first.body.data.map((e: { replayed: boolean; deliveries: number }) => [e.replayed, e.deliveries])).toEqual([[false, 1], [false, 1]]);
    expect(again.body.data.map((e: { replayed: boolean; deliveries: number }) => [e.replayed, e.deliveries])).toEqual([[true, 1], [true, 1], [false, 1]]);
    expect(await rows(t)).toEqual({ events: 3, deliveries: 0, queued: 0, fanouts: 2 });
    await writeOutFanouts(db(), 4);
    expect(await rows(t)).toEqual({ events: 3, deliveries: 3, queued: 3, fanouts: 0 });
  });

  it('lists each delivery once for named ids: all new, or one id twice in the batch', async () => {
    const t = await api.api.tenant('Named');
    await api.api.endpoint(t, { url: receiver.url('/named') });
    await api.api.endpoint(t, { url: receiver.url('/named-too') });
    const fresh = await api.api.post(`/v1/tenants/${t}/events/batch`, { events: [{ id: 'evt_n1', type: 'a.b', payload: {} }, { id: 'evt_n2', type: 'a.b', payload: {} }] });
    expect(fresh.body.data.map((e: { replayed: boolean; deliveries: number }) => [e.replayed, e.deliveries])).toEqual([[false, 2], [false, 2]]);
    const twice = { id: 'evt_n3', type: 'a.b', payload: { same: true } };
    const inner = await api.api.post(`/v1/tenants/${t}/events/batch`, { events: [twice, { id: 'evt_n4', type: 'a.b', payload: {} }, twice] });
    expect(inner.body.data.map((e: { replayed: boolean }) => e.replayed)).toEqual([false, false, true]);
    expect(await rows(t)).toEqual({ events: 4, deliveries: 0, queued: 0, fanouts: 2 });
    await writeOutFanouts(db(), 4);
    expect(await rows(t)).toEqual({ events: 4, deliveries: 8, queued: 8, fanouts: 0 });
    const { rows: made } = await db().query<{ event_id: string; n: number }>(
      'select event_id, count(*)::int as n from deliveries where tenant_id = $1 group by event_id order by event_id',
      [t],
    );
    expect(made).toEqual(['evt_n1', 'evt_n2', 'evt_n3', 'evt_n4'].map((event_id) => ({ event_id, n: 2 })));
  });

  it('writes ordered deliveries at publish, as before: their order is kept across routes', async () => {
    const t = await api.api.tenant('Ordered');
    await api.api.endpoint(t, { url: receiver.url('/keyed') });
    const keyed = await api.api.post(`/v1/tenants/${t}/events/batch`, { events: events(3, 'a.b', { orderingKey: 'k1' }) });
    expect(keyed.status).toBe(202);
    expect(await rows(t)).toEqual({ events: 3, deliveries: 3, queued: 3, fanouts: 0 });

    const t2 = await api.api.tenant('Ordered endpoint');
    await api.api.endpoint(t2, { url: receiver.url('/ordered'), ordered: true });
    expect((await api.api.post(`/v1/tenants/${t2}/events/batch`, { events: events(2, 'a.b') })).status).toBe(202);
    expect(await rows(t2)).toEqual({ events: 2, deliveries: 2, queued: 2, fanouts: 0 });
  });

  it('drops what an endpoint or a tenant deleted since the publish would have had', async () => {
    const t = await api.api.tenant('Endpoint gone');
    const gone = await api.api.endpoint(t, { url: receiver.url('/gone') });
    await api.api.endpoint(t, { url: receiver.url('/stays') });
    await api.api.post(`/v1/tenants/${t}/events/batch`, { events: events(4, 'a.b') });
    expect((await api.api.delete(`/v1/tenants/${t}/endpoints/${gone.id}`)).status).toBe(204);
    expect(await writeOutFanouts(db(), 4)).toEqual({ batches: 1, deliveries: 4 });
    const { rows: left } = await db().query<{ n: number }>(`select count(*)::int as n from deliveries where endpoint_id = $1`, [gone.id]);
    expect(left[0]!.n).toBe(0);

    const t2 = await api.api.tenant('Tenant gone');
    await api.api.endpoint(t2, { url: receiver.url('/tenant-gone') });
    await api.api.post(`/v1/tenants/${t2}/events/batch`, { events: events(4, 'a.b') });
    expect(await rows(t2)).toMatchObject({ events: 4, fanouts: 1 });
    expect((await api.api.delete(`/v1/tenants/${t2}`)).status).toBe(204);
    expect(await rows(t2)).toEqual({ events: 0, deliveries: 0, queued: 0, fanouts: 0 });
  });

  it('counts a waiting list in the queue gauges, so workers that are down do not read as an empty queue', async () => {
    // this database's queue and lists emptied, so the oldest due delivery can only be this test's
    await db().query('delete from queue');
    await db().query('delete from fanouts');
    const scrape = async () => (await fetch(`${api.url}/metrics`)).text();
    expect(metric(await scrape(), 'herald_queue_due_deliveries')).toBe(0);
    const t = await api.api.tenant('Waiting list');
    const ep = await api.api.endpoint(t, { url: receiver.url('/waiting') });
    const r = await api.api.post(`/v1/tenants/${t}/events/batch`, { events: events(7, 'a.b') });
    expect(r.status).toBe(202);
    expect(await rows(t)).toMatchObject({ queued: 0, fanouts: 1 });
    await new Promise((res) => setTimeout(res, 1_100));
    const m = await scrape();
    expect(metric(m, 'herald_queue_due_deliveries')).toBe(7);
    expect(metric(m, 'herald_queue_oldest_due_age_seconds')).toBeGreaterThanOrEqual(1);
    const o = (await api.api.get('/v1/operator/overview')).body;
    // no delivery record yet: named with its event, which exists, and said not written out
    expect(o.oldestDue).toMatchObject({ tenantId: t, endpointId: ep.id, eventId: r.body.data[0].id, writtenOut: false });
    expect(o.oldestDue.ageSeconds).toBeGreaterThanOrEqual(1);
    expect((await api.api.get(`/v1/tenants/${t}/deliveries/${o.oldestDue.deliveryId}`)).status).toBe(404);
    expect((await api.api.get(`/v1/tenants/${t}/events/${o.oldestDue.eventId}`)).status).toBe(200);

    // written out, the same deliveries are counted once, from the queue
    expect(await writeOutFanouts(db(), 4)).toEqual({ batches: 1, deliveries: 7 });
    const after = await scrape();
    expect(metric(after, 'herald_queue_due_deliveries')).toBe(7);
    expect(metric(after, 'herald_queue_oldest_due_age_seconds')).toBeGreaterThanOrEqual(1);
    const { rows: first } = await db().query<{ id: string }>(`select id from deliveries where tenant_id = $1 order by id`, [t]);
    const written = (await api.api.get('/v1/operator/overview')).body.oldestDue;
    expect(first.map((x) => x.id)).toContain(written.deliveryId);
    expect(written.writtenOut).toBe(true);
    expect((await api.api.get(`/v1/tenants/${t}/deliveries/${written.deliveryId}`)).status).toBe(200);
  });

  it('a worker started later writes out what waited and delivers it, each event once to each endpoint', async () => {
    const t = await api.api.tenant('Waited');
    await api.api.endpoint(t, { url: receiver.url('/waited') });
    const r = await api.api.post(`/v1/tenants/${t}/events/batch`, { events: events(20, 'a.b') });
    expect(r.status).toBe(202);
    expect(await rows(t)).toMatchObject({ deliveries: 0, fanouts: 1 });
    // Herald stopped and started again (a crash would do the same): no NOTIFY reaches the new
    // worker; its first heartbeat finds the list
    await api.stop();
    api = await startHerald({}, { api: true, worker: true }, database);
    await receiver.waitForCount('/waited', 20);
    const seen = receiver.at('/waited').map((x) => (JSON.parse(x.body) as { payload?: { i: number }; i?: number }))
      .map((b) => b.payload?.i ?? b.i).sort((a, b) => a! - b!);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // the outcomes are written after the answers arrive
    for (let i = 0; i < 100 && (await rows(t)).queued > 0; i++) await new Promise((res) => setTimeout(res, 50));
    expect(await rows(t)).toMatchObject({ deliveries: 20, queued: 0, fanouts: 0 });
    // an operator sees the write-out in the worker's metrics
    expect(await (await fetch(`${api.url}/metrics`)).text()).toMatch(/^herald_deliveries_written_out_total 20$/m);
  });
});
