import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver } from './helpers/receiver.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

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
    await new Promise((r) => setTimeout(r, 300));
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
    await new Promise((r) => setTimeout(r, 300));
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
});
