import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FanoutCache, opensTo, typePatterns } from '../src/intake/fanout-cache.js';
import { newId } from '../src/ids.js';
import { eventBatch, publishMatched, type NewEvent } from '../src/store/events.js';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

/*
 * Fan-out matched in the API process (intake/fanout-cache.ts) against each
 * tenant's subscriptions, kept while the tenant's endpoint generation
 * (migration 0030) holds: a change to the endpoints must reach the very
 * next publish, in this process or any other.
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

const generation = async (tenantId: string): Promise<number> =>
  Number((await herald.running.db.query<{ gen: string }>('select coalesce((select gen from endpoint_generations where tenant_id = $1), 0) as gen', [tenantId])).rows[0]!.gen);

const event = (type: string): NewEvent => ({ id: newId('evt'), type, payloadJson: '{}', body: null, createdAt: new Date() });

describe('fan-out matched in the API process', () => {
  it('follows every endpoint change from the next publish on', async () => {
    const t = await herald.api.tenant();
    const reached = async (type: string): Promise<number> => {
      const r = await herald.api.publish(t, type, { n: 1 });
      expect(r.status).toBe(202);
      return r.body.deliveries;
    };
    await herald.api.endpoint(t, { url: receiver.url('/fan-a'), eventTypes: ['order.*'] });
    expect(await reached('order.created')).toBe(1); // the tenant's subscriptions are read here
    const b = await herald.api.endpoint(t, { url: receiver.url('/fan-b'), eventTypes: ['order.created'] });
    expect(await reached('order.created')).toBe(2);
    expect(await reached('order.created')).toBe(2);

    const retyped = await herald.api.patch(`/v1/tenants/${t}/endpoints/${b.id}`, { eventTypes: ['invoice.paid'] });
    expect(retyped.status).toBe(200);
    expect(await reached('order.created')).toBe(1);
    expect(await reached('invoice.paid')).toBe(1);

    await herald.api.patch(`/v1/tenants/${t}/endpoints/${b.id}`, { disabled: true });
    expect(await reached('invoice.paid')).toBe(0);
    await herald.api.patch(`/v1/tenants/${t}/endpoints/${b.id}`, { disabled: false });
    expect(await reached('invoice.paid')).toBe(1);

    // no type list: every type but Herald's own
    await herald.api.endpoint(t, { url: receiver.url('/fan-c') });
    expect(await reached('order.created')).toBe(2);
    expect(await reached('invoice.paid')).toBe(2);

    const removed = await herald.api.delete(`/v1/tenants/${t}/endpoints/${b.id}`);
    expect(removed.status).toBe(204);
    expect(await reached('invoice.paid')).toBe(1);
  });

  it('bumps a tenant’s generation for what changes matching, not for health or settings', async () => {
    const t = await herald.api.tenant();
    const e = await herald.api.endpoint(t, { url: receiver.url('/gen'), eventTypes: ['a.b'] });
    const g0 = await generation(t);
    expect(g0).toBeGreaterThan(0);
    // what the outcome writes change on every failed batch, and settings
    await herald.running.db.query('update endpoints set consecutive_failures = 3, failing_since = now() where id = $1', [e.id]);
    await herald.api.patch(`/v1/tenants/${t}/endpoints/${e.id}`, { description: 'renamed', url: receiver.url('/gen2') });
    expect(await generation(t)).toBe(g0);
    await herald.api.patch(`/v1/tenants/${t}/endpoints/${e.id}`, { eventTypes: ['a.*'] });
    expect(await generation(t)).toBe(g0 + 1);
    // the automatic disabling of the outcome side effects is a plain update of the row
    await herald.running.db.query('update endpoints set disabled = true where id = $1', [e.id]);
    expect(await generation(t)).toBe(g0 + 2);
  });

  it('writes nothing when the generation moved since the subscriptions were read', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/stale'), eventTypes: ['s.t'] });
    const cache = new FanoutCache();
    const read = await cache.get(herald.running.db, t);
    expect(read.endpointsFor('s.t')).toHaveLength(1);
    await herald.api.endpoint(t, { url: receiver.url('/stale2'), eventTypes: ['s.t'] });

    const e = event('s.t');
    expect(await publishMatched(herald.running.db, t, eventBatch([e]), read, null)).toBeNull();
    const written = await herald.running.db.query('select 1 from events where tenant_id = $1 and id = $2', [t, e.id]);
    expect(written.rows).toHaveLength(0);

    cache.forget(t);
    const fresh = await cache.get(herald.running.db, t);
    const done = await publishMatched(herald.running.db, t, eventBatch([e, e]), fresh, null);
    expect(done?.results.map((r) => [r.deliveries, r.replayed])).toEqual([[2, false], [2, true]]);
    const rows = await herald.running.db.query<{ n: string }>(
      'select (select count(*) from deliveries where tenant_id = $1 and event_id = $2) + (select count(*) from queue where event_id = $2) as n',
      [t, e.id],
    );
    expect(Number(rows.rows[0]!.n)).toBe(4);
  });

  it('knows the same patterns as herald_type_patterns and herald_type_open', async () => {
    const types = ['order', 'order.created', 'a.b.c.d', 'trailing.', '.leading', 'webhook.delivered', 'webhook.failed', 'endpoint.disabled', 'endpoint.created', 'x*y.z', 'ünï.cödé'];
    for (const type of types) {
      const r = await herald.running.db.query<{ patterns: string[]; open: boolean }>('select herald_type_patterns($1) as patterns, herald_type_open($1) as open', [type]);
      expect(typePatterns(type), type).toEqual(r.rows[0]!.patterns);
      expect(opensTo(type), type).toBe(r.rows[0]!.open);
    }
  });
});
