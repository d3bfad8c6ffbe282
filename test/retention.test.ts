import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

let herald: TestHerald;
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald({ retentionSeconds: 2, retentionIntervalSeconds: 3600 });
  receiver = await new Receiver().listen();
  receiver.respond = (r, res) => void res.writeHead(r.path === '/down' ? 500 : 200).end();
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

const count = async (sql: string, params: unknown[] = []) => Number((await herald.running.db.query<{ n: number }>(sql, params)).rows[0]!.n);

describe('retention', () => {
  it('removes old events with their deliveries and attempts, and old audit entries, but keeps pending work', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/up'), eventTypes: ['up.*'] });
    await herald.api.endpoint(t, { url: receiver.url('/down'), eventTypes: ['down.*'], retry: { schedule: [3600] } });
    const old: string[] = [];
    for (let i = 0; i < 5; i++) old.push((await herald.api.publish(t, 'up.x', { i })).body.id);
    const pending = (await herald.api.publish(t, 'down.x', {})).body.id;
    await receiver.waitForCount('/up', 5);
    await receiver.waitForCount('/down', 1);
    await new Promise((r) => setTimeout(r, 600)); // let the results be written
    const oldDeliveries = (await herald.running.db.query<{ id: string }>(`select id from deliveries where event_id = any($1)`, [old])).rows.map((r) => r.id);
    expect(oldDeliveries).toHaveLength(5);
    expect(await count(`select count(*)::int as n from attempts where delivery_id = any($1)`, [oldDeliveries])).toBe(5);

    await new Promise((r) => setTimeout(r, 2_200));
    const fresh = (await herald.api.publish(t, 'up.x', { fresh: true })).body.id;
    await herald.running.retention!.runOnce();

    expect((await herald.api.get(`/v1/tenants/${t}/events/${old[0]}`)).status).toBe(404);
    expect(await count(`select count(*)::int as n from events where id = any($1)`, [old])).toBe(0);
    expect(await count(`select count(*)::int as n from deliveries where id = any($1)`, [oldDeliveries])).toBe(0);
    expect(await count(`select count(*)::int as n from attempts where delivery_id = any($1)`, [oldDeliveries])).toBe(0);
    // an old event with a delivery still pending stays, and so does a new one
    expect((await herald.api.get(`/v1/tenants/${t}/events/${pending}`)).status).toBe(200);
    expect((await herald.api.get(`/v1/tenants/${t}/events/${fresh}`)).status).toBe(200);
    // the audit entries of the set-up (older than 2 s) are gone
    expect(await count(`select count(*)::int as n from audit_log where created_at < now() - interval '2 seconds'`)).toBe(0);
  });
});
