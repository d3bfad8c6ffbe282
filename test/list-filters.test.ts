import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeOutFanouts } from '../src/delivery/queue/fanout.js';
import { PAYLOAD_SCAN_ROWS } from '../src/store/events.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

/**
 * Issue 13, item 3, in the API: lists filter by event type patterns
 * (`campaign.*`) and time, deliveries by endpoint, status and type, and the
 * event log finds an event by its id or by a payload field, in a bounded
 * scan whose cursor continues further back. Bad input is a 400 naming the
 * field.
 */
let h: TestHerald;
let t: string;
let ep: string;

beforeAll(async () => {
  h = await startHerald({}, { api: true, worker: false });
  t = await h.api.tenant('Acme');
  ep = (await h.api.endpoint(t, { url: 'http://127.0.0.1:9/hook' })).id;
  const r = await h.api.post(`/v1/tenants/${t}/events/batch`, {
    events: [
      { type: 'campaign.sent', payload: { campaign: { id: 'c_1' }, n: 1 } },
      { type: 'campaign.opened', payload: { campaign: { id: 'c_2' }, n: 2 } },
      { type: 'campaign_x.sent', payload: { campaign: { id: 'c_1' }, n: 3 } },
      { type: 'invoice.paid', payload: { invoiceId: 'inv_1', amount: 42 } },
    ],
  });
  expect(r.status).toBe(202);
  // no worker runs here: write the batch's deliveries out as one would (migration 0033)
  expect(await writeOutFanouts(h.running.db, 1)).toEqual({ batches: 1, deliveries: 4 });
}, 120_000);
afterAll(() => h?.stop());

const types = (body: { data: { type?: string; eventType?: string }[] }) => body.data.map((e) => e.type ?? e.eventType).sort();

describe('list filters', () => {
  it('filters events and deliveries by a type pattern, not by LIKE', async () => {
    expect(types((await h.api.get(`/v1/tenants/${t}/events?type=campaign.*`)).body)).toEqual(['campaign.opened', 'campaign.sent']);
    expect(types((await h.api.get(`/v1/tenants/${t}/events?type=*`)).body)).toHaveLength(4);
    expect(types((await h.api.get(`/v1/tenants/${t}/events?type=invoice.paid`)).body)).toEqual(['invoice.paid']);
    expect(types((await h.api.get(`/v1/tenants/${t}/deliveries?eventType=campaign.*&endpointId=${ep}&status=pending`)).body)).toEqual(['campaign.opened', 'campaign.sent']);
    expect((await h.api.get(`/v1/tenants/${t}/deliveries?eventType=campaign.*&status=failed`)).body.data).toEqual([]);
  });

  it('filters deliveries by time', async () => {
    const future = new Date(Date.now() + 3600_000).toISOString();
    const past = new Date(Date.now() - 3600_000).toISOString();
    expect((await h.api.get(`/v1/tenants/${t}/deliveries?since=${future}`)).body.data).toEqual([]);
    expect((await h.api.get(`/v1/tenants/${t}/deliveries?since=${past}&until=${future}`)).body.data).toHaveLength(4);
  });

  it('finds an event by id and by a payload field, numbers compared as text', async () => {
    const all = (await h.api.get(`/v1/tenants/${t}/events`)).body.data as { id: string; type: string }[];
    const one = all.find((e) => e.type === 'invoice.paid')!;
    expect((await h.api.get(`/v1/tenants/${t}/events?id=${one.id}`)).body.data.map((e: { id: string }) => e.id)).toEqual([one.id]);
    expect(types((await h.api.get(`/v1/tenants/${t}/events?payloadField=campaign.id&payloadValue=c_1`)).body)).toEqual(['campaign.sent', 'campaign_x.sent']);
    expect(types((await h.api.get(`/v1/tenants/${t}/events?payloadField=campaign.id&payloadValue=c_1&type=campaign.*`)).body)).toEqual(['campaign.sent']);
    expect(types((await h.api.get(`/v1/tenants/${t}/events?payloadField=amount&payloadValue=42`)).body)).toEqual(['invoice.paid']);
    expect((await h.api.get(`/v1/tenants/${t}/events?payloadField=amount&payloadValue=43`)).body).toEqual({ data: [], nextCursor: null });
  });

  it('searches payloads in bounded pages whose cursor goes on past the bound', async () => {
    const t2 = await h.api.tenant('Big');
    await h.running.db.query(
      `insert into events (tenant_id, id, type, payload, created_at)
       select $1, 'evt_' || lpad(n::text, 6, '0'), 'order.created', json_build_object('order', n), now() - make_interval(secs => n)
         from generate_series(1, $2::int) n`,
      [t2, PAYLOAD_SCAN_ROWS + 10],
    );
    // the oldest event is past the first scan: the first page is empty but has a cursor, the next finds it
    const first = (await h.api.get(`/v1/tenants/${t2}/events?payloadField=order&payloadValue=${PAYLOAD_SCAN_ROWS + 5}`)).body;
    expect(first.data).toEqual([]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await h.api.get(`/v1/tenants/${t2}/events?payloadField=order&payloadValue=${PAYLOAD_SCAN_ROWS + 5}&cursor=${first.nextCursor}`)).body;
    expect(second.data.map((e: { id: string }) => e.id)).toEqual([`evt_${String(PAYLOAD_SCAN_ROWS + 5).padStart(6, '0')}`]);
    expect(second.nextCursor).toBeNull();
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const field = async (q: string) => {
      const r = await h.api.get(`/v1/tenants/${t}/${q}`);
      expect(r.status, q).toBe(400);
      return (r.body.error.details as { field: string }[])[0]!.field;
    };
    expect(await field('events?type=campaign.%25')).toMatch(/type$/);
    expect(await field('events?payloadField=a..b&payloadValue=1')).toMatch(/payloadField$/);
    expect(await field('events?payloadValue=1')).toBe('payloadField');
    expect(await field('events?payloadField=a')).toBe('payloadValue');
    expect(await field('events?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z')).toBe('until');
    expect(await field('deliveries?eventType=a*b')).toMatch(/eventType$/);
    expect(await field('deliveries?since=yesterday')).toMatch(/since$/);
    expect(await field('deliveries?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z')).toBe('until');
  });
});
