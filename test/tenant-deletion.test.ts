import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids.js';
import { eventBatch, publishEvents, publishMatched, type NewEvent } from '../src/store/events.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

/*
 * Events have no foreign key to their tenant (migration 0032): a publish
 * statement locks the tenant's row once instead. A deletion must wait for
 * the publishes in flight and remove what they wrote, and a publish after
 * it must fail as the foreign key did (23503), writing nothing.
 */
let herald: TestHerald;

beforeAll(async () => {
  herald = await startHerald({}, { api: true, worker: false });
});
afterAll(async () => {
  await herald?.stop();
});

const batch = (n: number): NewEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    id: newId('evt'),
    type: 'order.paid',
    payloadJson: JSON.stringify({ i, pad: 'x'.repeat(200) }),
    body: null,
    createdAt: new Date(),
  }));

async function rowsOf(tenantId: string): Promise<Record<string, number>> {
  const { rows } = await herald.running.db.query<{ events: number; deliveries: number; queued: number }>(
    `select (select count(*) from events where tenant_id = $1)::int as events,
            (select count(*) from deliveries where tenant_id = $1)::int as deliveries,
            (select count(*) from queue where tenant_id = $1)::int as queued`,
    [tenantId],
  );
  return rows[0]!;
}

describe('deleting a tenant while its events are published', () => {
  it('leaves no event, delivery or queue row behind, and every later publish fails as a missing tenant', async () => {
    const t = await herald.api.tenant('Deleted while publishing');
    await herald.api.endpoint(t, { url: 'http://127.0.0.1:9/hook' });
    const db = herald.running.db;
    let published = 0;
    const failures: string[] = [];
    // Four publishers straight to the store (the API would answer 404 from its cache once it saw the
    // deletion, before any statement ran), each until its first refusal or 200 batches.
    const publishers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 200; i++) {
        try {
          const results = await publishEvents(db, t, batch(20));
          published += results.length;
        } catch (err) {
          failures.push((err as { code?: string }).code ?? String(err));
          return;
        }
      }
    });
    // until some batches are in (or every publisher stopped: the expectations below then say why)
    for (let i = 0; i < 2_000 && published < 200 && failures.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
    expect(published).toBeGreaterThanOrEqual(200);
    expect((await herald.api.delete(`/v1/tenants/${t}`)).status).toBe(204);
    await Promise.all(publishers);

    expect(failures).toEqual(['23503', '23503', '23503', '23503']);
    expect(await rowsOf(t)).toEqual({ events: 0, deliveries: 0, queued: 0 });
  });

  it('a publish to a tenant that never existed writes nothing and fails as a missing tenant, matched here or in SQL', async () => {
    await expect(publishEvents(herald.running.db, 'no-such-tenant', batch(3))).rejects.toMatchObject({ code: '23503' });
    // the statement the API uses with a tenant's subscriptions cached (intake/fanout-cache.ts)
    const matcher = { generation: '0', endpointsFor: () => [{ id: 'ep_gone', ordered: false }], wantsDelivered: false, wantsFailed: false };
    await expect(publishMatched(herald.running.db, 'no-such-tenant', eventBatch(batch(3)), matcher, null)).rejects.toMatchObject({ code: '23503' });
    expect(await rowsOf('no-such-tenant')).toEqual({ events: 0, deliveries: 0, queued: 0 });
  });

  it('a tenant created again under the same id starts empty', async () => {
    const t = await herald.api.tenant('Twice');
    await herald.api.endpoint(t, { url: 'http://127.0.0.1:9/hook' });
    expect((await herald.api.post(`/v1/tenants/${t}/events/batch`, { events: [{ type: 'a.b', payload: {} }, { type: 'a.c', payload: {} }] })).status).toBe(202);
    expect((await rowsOf(t)).events).toBe(2);
    expect((await herald.api.delete(`/v1/tenants/${t}`)).status).toBe(204);
    expect((await herald.api.post('/v1/tenants', { id: t, name: 'Twice again' })).status).toBe(201);
    expect(await rowsOf(t)).toEqual({ events: 0, deliveries: 0, queued: 0 });
    expect((await herald.api.get(`/v1/tenants/${t}/events`)).body.data).toEqual([]);
  });
});
