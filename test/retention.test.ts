import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionJob } from '../src/delivery/retention-job.js';
import type { Logger } from '../src/logger.js';
import { applyRetention } from '../src/store/retention.js';
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
  it('fills a batch from several tenants, each walked from its oldest event (no index on age alone)', async () => {
    // first in the file, and anything old cleared (retention of 0 s): the batches below can only hold these events
    // (the other tests' deliveries publish meta events later)
    await applyRetention(herald.running.db, 0, 5_000, 100);
    const ids: string[] = [];
    const tenants = [await herald.api.tenant(), await herald.api.tenant(), await herald.api.tenant()];
    for (const t of tenants) for (let i = 0; i < 3; i++) ids.push((await herald.api.publish(t, 'none.x', { i })).body.id);
    await new Promise((r) => setTimeout(r, 2_100));
    const young = (await herald.api.publish(tenants[1]!, 'none.x', { young: true })).body.id;
    // a batch of 4 needs the events of two tenants (3 each, whichever the walk starts with); then a pass takes the rest
    expect(await applyRetention(herald.running.db, 2, 4, 1)).toMatchObject({ events: 4, more: true });
    expect(await count(`select count(*)::int as n from events where id = any($1)`, [ids])).toBe(5);
    expect(await applyRetention(herald.running.db, 2, 4, 100)).toMatchObject({ events: 5, more: false });
    expect(await count(`select count(*)::int as n from events where id = any($1)`, [ids])).toBe(0);
    expect((await herald.api.get(`/v1/tenants/${tenants[1]}/events/${young}`)).status).toBe(200);
    // the index retention used before migration 0036 is gone: every publish no longer writes it
    expect(await count(`select count(*)::int as n from pg_indexes where indexname = 'events_created'`)).toBe(0);
  });

  it('removes old events with their deliveries and attempts, meta events, and old audit entries, but keeps pending work', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/up'), eventTypes: ['up.*'] });
    // every successful delivery publishes a `webhook.delivered` meta event (an event, a delivery and an attempt more)
    await herald.api.endpoint(t, { url: receiver.url('/meta'), eventTypes: ['webhook.delivered'] });
    await herald.api.endpoint(t, { url: receiver.url('/down'), eventTypes: ['down.*'], retry: { schedule: [3600] } });
    const old: string[] = [];
    for (let i = 0; i < 5; i++) old.push((await herald.api.publish(t, 'up.x', { i })).body.id);
    const pending = (await herald.api.publish(t, 'down.x', {})).body.id;
    await receiver.waitForCount('/up', 5);
    await receiver.waitForCount('/down', 1);
    await receiver.waitForCount('/meta', 5);
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
    // nothing older than the period is left in any table that grows per event, but the pending event and what hangs off it
    const old2s = `created_at < now() - interval '2 seconds'`;
    expect(await count(`select count(*)::int as n from events where ${old2s} and id <> $1`, [pending])).toBe(0);
    expect(await count(`select count(*)::int as n from deliveries where ${old2s} and event_id <> $1`, [pending])).toBe(0);
    expect(await count(`select count(*)::int as n from attempts where ${old2s} and event_id <> $1`, [pending])).toBe(0);
    expect(await count(`select count(*)::int as n from events where type like 'webhook.%'`)).toBeLessThanOrEqual(1); // the fresh event's, if already sent
    // an old event with a delivery still pending stays, and so does a new one
    expect((await herald.api.get(`/v1/tenants/${t}/events/${pending}`)).status).toBe(200);
    expect((await herald.api.get(`/v1/tenants/${t}/events/${fresh}`)).status).toBe(200);
    // the audit entries of the set-up (older than 2 s) are gone
    expect(await count(`select count(*)::int as n from audit_log where created_at < now() - interval '2 seconds'`)).toBe(0);
  });

  it('catches up in bursts when a pass hits its batch cap, vacuums, and forgets dead workers', async () => {
    const t = await herald.api.tenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await herald.api.publish(t, 'none.x', { i })).body.id); // no endpoint: no deliveries
    await herald.running.db.query(`insert into workers (id, last_seen_at) values ('wrk_gone', now() - interval '2 hours')`);
    await new Promise((r) => setTimeout(r, 2_100));

    // one pass of one batch of 2 removes 2 and says that more is left
    const first = await applyRetention(herald.running.db, 2, 2, 1);
    expect(first).toMatchObject({ events: 2, more: true });

    const logged: { obj: Record<string, unknown>; msg: string }[] = [];
    const warned: unknown[] = [];
    const logger = { info: (obj: Record<string, unknown>, msg: string) => logged.push({ obj, msg }), warn: (o: unknown) => warned.push(o) } as unknown as Logger;
    const job = new RetentionJob(herald.running.db, logger, { retentionSeconds: 2, intervalSeconds: 3600, batch: 2, maxBatches: 1, vacuum: 'always' });
    await job.runOnce();
    await job.stop();

    expect(warned).toEqual([]);
    expect(await count(`select count(*)::int as n from events where id = any($1)`, [ids])).toBe(0);
    expect(await count(`select count(*)::int as n from workers where id = 'wrk_gone'`)).toBe(0);
    const line = logged.find((l) => l.msg === 'retention removed old rows');
    expect(line?.obj.events).toBeGreaterThanOrEqual(3); // and what the first test left behind, now old too
    expect(line?.obj.bursts).toBeGreaterThanOrEqual(2);
    expect(typeof line?.obj.vacuumMs).toBe('number');
  });
});
