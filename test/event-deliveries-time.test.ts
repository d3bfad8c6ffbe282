import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

/*
 * An event's deliveries are found through the instant the event was
 * created (migration 0031): every path that writes delivery rows must give
 * them their event's created_at, or the event's page, the replay answer
 * and retention stop seeing them.
 */
let herald: TestHerald;
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

const sql = async <T>(text: string, params: unknown[] = []): Promise<T[]> => (await herald.running.db.query<T & object>(text, params)).rows;

/** The event's deliveries as the API lists them, against a plain scan of the table. */
async function listedAndStored(tenantId: string, eventId: string): Promise<{ listed: string[]; stored: string[] }> {
  const r = await herald.api.get(`/v1/tenants/${tenantId}/events/${eventId}/deliveries`);
  expect(r.status).toBe(200);
  const listed = (r.body.data as { id: string }[]).map((d) => d.id).sort();
  const stored = (await sql<{ id: string }>('select id from deliveries where tenant_id = $1 and event_id = $2', [tenantId, eventId])).map((d) => d.id).sort();
  return { listed, stored };
}

describe('deliveries found through their event’s created_at', () => {
  it('holds for single and batch publishes, publishes matched in SQL (payload filters) and webhook.* meta events', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/t-orders'), eventTypes: ['order.*'] });
    await herald.api.endpoint(t, { url: receiver.url('/t-all') });
    await herald.api.endpoint(t, { url: receiver.url('/t-meta'), eventTypes: ['webhook.delivered'] });
    const single = await herald.api.publish(t, 'order.created', { n: 1 });
    expect(single.status).toBe(202);
    const batch = await herald.api.post(`/v1/tenants/${t}/events/batch`, {
      events: Array.from({ length: 20 }, (_, i) => ({ type: i % 2 ? 'order.paid' : 'invoice.sent', payload: { i } })),
    });
    expect(batch.status).toBe(202);

    // a tenant with a payload filter is matched by the publish statement itself
    const f = await herald.api.tenant();
    await herald.api.endpoint(f, { url: receiver.url('/f-big'), filter: { payload: { amount: { $gte: 100 } } } });
    await herald.api.endpoint(f, { url: receiver.url('/f-all') });
    const filtered = await herald.api.publish(f, 'order.created', { amount: 500 });
    expect(filtered.status).toBe(202);
    expect(filtered.body.deliveries).toBe(2);

    // 1 + 20 + 10 deliveries to the two plain endpoints of t, each followed by a webhook.delivered meta event
    await receiver.waitForCount('/t-meta', 2 + 20 + 10);
    const metas = await sql<{ id: string }>(`select id from events where tenant_id = $1 and type = 'webhook.delivered'`, [t]);
    expect(metas.length).toBe(32);

    const mismatched = await sql<{ n: number }>(
      `select count(*)::int as n from deliveries d join events e on e.tenant_id = d.tenant_id and e.id = d.event_id
        where d.tenant_id = any($1) and d.created_at <> e.created_at`,
      [[t, f]],
    );
    expect(mismatched[0]!.n).toBe(0);

    const events = [single.body.id, ...(batch.body.data as { id: string }[]).map((e) => e.id), ...metas.map((m) => m.id)];
    for (const id of events) {
      const { listed, stored } = await listedAndStored(t, id);
      expect(stored.length).toBeGreaterThan(0);
      expect(listed).toEqual(stored);
    }
    const { listed } = await listedAndStored(f, filtered.body.id);
    expect(listed).toHaveLength(2);
  });

  it('finds older rows again once the migration has aligned their times', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/old') });
    const pub = await herald.api.publish(t, 'legacy.thing', {});
    await receiver.waitForCount('/old', 1);
    // a row as the first migrations wrote it: its own now(), not the event's time
    await herald.running.db.query(`update deliveries set created_at = created_at + interval '3 ms' where tenant_id = $1 and event_id = $2`, [t, pub.body.id]);
    expect((await listedAndStored(t, pub.body.id)).listed).toEqual([]);

    const migration = readFileSync(new URL('../migrations/0031_deliveries_by_event_time.sql', import.meta.url), 'utf8');
    const align = migration.slice(migration.indexOf('update deliveries'), migration.indexOf(';', migration.indexOf('update deliveries')));
    await herald.running.db.query(align);
    const { listed, stored } = await listedAndStored(t, pub.body.id);
    expect(stored).toHaveLength(1);
    expect(listed).toEqual(stored);
  });

  it('answers a replayed publish with its delivery count', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/r1') });
    await herald.api.endpoint(t, { url: receiver.url('/r2') });
    const first = await herald.api.publish(t, 'thing.done', { x: 1 }, 'evt_client_chosen_1');
    expect(first.status).toBe(202);
    const again = await herald.api.publish(t, 'thing.done', { x: 1 }, 'evt_client_chosen_1');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.deliveries).toBe(2);
  });
});
