import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver } from './helpers/receiver.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

let herald: TestHerald;
let receiver: Receiver;

/** The event has exactly one delivery, and it has succeeded with one attempt (so no other send is coming). */
async function expectOneFinalDelivery(tenantId: string, eventId: string): Promise<void> {
  const d = await herald.api.get(`/v1/tenants/${tenantId}/events/${eventId}/deliveries`);
  expect(d.body.data).toHaveLength(1);
  await herald.api.waitDelivery(tenantId, d.body.data[0].id, (x) => x.status === 'succeeded');
  const again = await herald.api.get(`/v1/tenants/${tenantId}/deliveries/${d.body.data[0].id}`);
  expect(again.body.attempts).toBe(1);
}

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

describe('idempotent publishing', () => {
  it('creates one event for an id published twice and answers with the first', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/idem') });
    const first = await herald.api.publish(t, 'conversion.registered', { amount: 1 }, 'evt_client_42');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await herald.api.publish(t, 'conversion.registered', { amount: 1 }, 'evt_client_42');
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    await receiver.waitForCount('/idem', 1);
    // One delivery row, and it is final: no second send can come (rather than waiting and seeing none).
    await expectOneFinalDelivery(t, 'evt_client_42');
    expect(receiver.at('/idem')).toHaveLength(1);
    const list = await herald.api.get(`/v1/tenants/${t}/events`);
    expect(list.body.data.map((e: any) => e.id)).toEqual(['evt_client_42']);
  });

  it('makes concurrent publishes of one id create exactly one event', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/idem-race') });
    const results = await Promise.all(Array.from({ length: 20 }, () => herald.api.publish(t, 'x.y', { v: 1 }, 'evt_race')));
    expect(results.every((r) => r.status === 202)).toBe(true);
    expect(results.filter((r) => r.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    await receiver.waitForCount('/idem-race', 1);
    await expectOneFinalDelivery(t, 'evt_race');
    expect(receiver.at('/idem-race')).toHaveLength(1);
  });

  it('lists events newest first with cursor pagination and filters', async () => {
    const t = await herald.api.tenant();
    for (let i = 0; i < 7; i++) await herald.api.publish(t, i % 2 ? 'odd.one' : 'even.one', { i });
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const page = await herald.api.get(`/v1/tenants/${t}/events?limit=3${q}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((e: any) => e.payload.i));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0]);
    const odd = await herald.api.get(`/v1/tenants/${t}/events?type=odd.one`);
    expect(odd.body.data.map((e: any) => e.payload.i)).toEqual([5, 3, 1]);
    const future = await herald.api.get(`/v1/tenants/${t}/events?since=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(future.body.data).toEqual([]);
  });

  it('publishes a batch in one call: idempotent per event, all or nothing', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/batch') });
    await herald.api.publish(t, 'b.x', { n: 0 }, 'evt_b0');
    const events = [
      { id: 'evt_b0', type: 'b.x', payload: { n: 0 } },
      { id: 'evt_b1', type: 'b.x', payload: { n: 1 } },
      { type: 'b.x', payload: { n: 2 } },
      { id: 'evt_b1', type: 'b.x', payload: { n: 1 } },
    ];
    const r = await herald.api.post(`/v1/tenants/${t}/events/batch`, { events });
    expect(r.status).toBe(202);
    expect(r.body.data.map((e: any) => e.replayed)).toEqual([true, false, false, true]);
    expect(r.body.data.map((e: any) => e.deliveries)).toEqual([1, 1, 1, 1]);
    expect(r.body.data[1].id).toBe('evt_b1');
    expect(r.body.data[2].id).toMatch(/^evt_/);
    await receiver.waitForCount('/batch', 3);
    await new Promise((res) => setTimeout(res, 300));
    expect(receiver.at('/batch').map((x) => JSON.parse(x.body).n).sort()).toEqual([0, 1, 2]);

    await herald.api.post('/v1/event-types', { name: 'strict.thing', schema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } });
    const bad = await herald.api.post(`/v1/tenants/${t}/events/batch`, {
      events: [
        { id: 'evt_ok1', type: 'strict.thing', payload: { n: 1 } },
        { id: 'evt_ok2', type: 'strict.thing', payload: { n: 2 } },
        { id: 'evt_bad', type: 'strict.thing', payload: { n: 'three' } },
      ],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toMatch(/^events\[2\]\./);
    expect((await herald.api.get(`/v1/tenants/${t}/events/evt_ok1`)).status).toBe(404);

    const tooMany = await herald.api.post(`/v1/tenants/${t}/events/batch`, { events: Array.from({ length: 1001 }, () => ({ type: 'b.x', payload: {} })) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toMatch(/events/);
  });
});
