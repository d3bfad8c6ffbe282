import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';

/**
 * Issue 11, item 9: an event id published again with another type or
 * payload is a 409 `idempotency_conflict` (before: 202 replayed, and the
 * new content silently dropped). An identical replay stays 202.
 */
let herald: TestHerald;
let T: string;

beforeAll(async () => {
  herald = await startHerald();
  T = await herald.api.tenant('Idempotency');
});
afterAll(async () => herald?.stop());

async function stored(id: string): Promise<{ type: string; payload: string } | undefined> {
  const r = await herald.running.db.query<{ type: string; payload: string }>(`select type, payload::text as payload from events where tenant_id = $1 and id = $2`, [T, id]);
  return r.rows[0];
}
const count = async () => Number((await herald.running.db.query<{ n: number }>(`select count(*)::int as n from events where tenant_id = $1`, [T])).rows[0]!.n);

describe('reusing an event id', () => {
  it('replays an identical publish (key order and number spelling aside) and refuses different content with 409', async () => {
    expect((await herald.api.publish(T, 'order.paid', { a: 1, b: { c: [1, 2] } }, 'evt_same')).status).toBe(202);
    const again = await herald.api.publish(T, 'order.paid', { a: 1, b: { c: [1, 2] } }, 'evt_same');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const reordered = await herald.api.post(`/v1/tenants/${T}/events`, '{"id":"evt_same","payload":{"b":{"c":[1,2.0]},"a":1},"type":"order.paid"}');
    expect(reordered.status).toBe(202);

    const otherPayload = await herald.api.publish(T, 'order.paid', { a: 2, b: { c: [1, 2] } }, 'evt_same');
    expect(otherPayload.status).toBe(409);
    expect(otherPayload.body.error.code).toBe('idempotency_conflict');
    expect(otherPayload.body.error.message).toMatch(/^id: event evt_same was already published with another type or payload/);
    const otherType = await herald.api.publish(T, 'order.refunded', { a: 1, b: { c: [1, 2] } }, 'evt_same');
    expect(otherType.status).toBe(409);
    expect(await stored('evt_same')).toEqual({ type: 'order.paid', payload: '{"a":1,"b":{"c":[1,2]}}' });
  });

  it('compares big integers digit for digit', async () => {
    const body = (n: string) => `{"id":"evt_big","type":"order.paid","payload":{"amount":${n}}}`;
    expect((await herald.api.post(`/v1/tenants/${T}/events`, body('123456789012345678901234567890'))).status).toBe(202);
    expect((await herald.api.post(`/v1/tenants/${T}/events`, body('123456789012345678901234567890'))).status).toBe(202);
    expect((await herald.api.post(`/v1/tenants/${T}/events`, body('123456789012345678901234567891'))).status).toBe(409);
  });

  it('refuses a whole batch, naming the event, when one id was used for other content', async () => {
    const before = await count();
    const r = await herald.api.post(`/v1/tenants/${T}/events/batch`, {
      events: [
        { id: 'evt_new_1', type: 'order.paid', payload: { a: 1 } },
        { id: 'evt_same', type: 'order.paid', payload: { a: 3 } },
      ],
    });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/^events\[1\]\.id: event evt_same/);
    expect(await count()).toBe(before);

    const twice = await herald.api.post(`/v1/tenants/${T}/events/batch`, {
      events: [
        { id: 'evt_dup', type: 'order.paid', payload: { a: 1 } },
        { id: 'evt_dup', type: 'order.paid', payload: { a: 2 } },
      ],
    });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toMatch(/^events\[1\]\.id: event evt_dup/);
    expect(await count()).toBe(before);

    const same = await herald.api.post(`/v1/tenants/${T}/events/batch`, {
      events: [
        { id: 'evt_same', type: 'order.paid', payload: { b: { c: [1, 2] }, a: 1 } },
        { id: 'evt_new_2', type: 'order.paid', payload: { a: 1 } },
      ],
    });
    expect(same.status).toBe(202);
    expect(same.body.data.map((e: { replayed: boolean }) => e.replayed)).toEqual([true, false]);
  });
});
