import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

let herald: TestHerald;
let receiver: Receiver;
/** Payload names the receiver refuses: `once:` the first time only, `always:` every time. */
const refusedOnce = new Set<string>();
/** Requests under way per path, and the most there ever were at once (per path: a request of the test before may still be in its 15 ms). */
const inFlight = new Map<string, number>();
const maxInFlight = new Map<string, number>();

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
  receiver.respond = async (r, res) => {
    const { name } = JSON.parse(r.body) as { name: string };
    const n = (inFlight.get(r.path) ?? 0) + 1;
    inFlight.set(r.path, n);
    maxInFlight.set(r.path, Math.max(maxInFlight.get(r.path) ?? 0, n));
    await new Promise((x) => setTimeout(x, 15));
    inFlight.set(r.path, inFlight.get(r.path)! - 1);
    if (name.startsWith('always:') || (name.startsWith('once:') && !refusedOnce.has(name))) {
      refusedOnce.add(name);
      return void res.writeHead(500).end();
    }
    res.writeHead(200).end();
  };
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

const names = (path: string) => receiver.at(path).map((r) => (JSON.parse(r.body) as { name: string }).name);

describe('ordered delivery', () => {
  it('delivers events with one ordering key in publish order, waiting out retries, while other keys proceed', async () => {
    const t = await herald.api.tenant();
    // a2 must wait 2 s for a1's retry; five deliveries of key b need far less than that
    await herald.api.endpoint(t, { url: receiver.url('/keyed'), retry: { schedule: [2, 2], jitter: 0 } });
    const a = ['once:a1', 'a2', 'a3', 'a4', 'a5'];
    const b = ['b1', 'b2', 'b3', 'b4', 'b5'];
    const events = a.flatMap((n, i) => [
      { type: 'o.x', payload: { name: n }, orderingKey: 'customer_a' },
      { type: 'o.x', payload: { name: b[i] }, orderingKey: 'customer_b' },
    ]);
    const r = await herald.api.post(`/v1/tenants/${t}/events/batch`, { events });
    expect(r.status).toBe(202);
    await receiver.waitFor(() => names('/keyed').filter((n) => n !== 'once:a1').length >= 9 && names('/keyed').filter((n) => n === 'once:a1').length === 2, 15_000);
    const seen = names('/keyed');
    // key a: a1 fails, is retried 2 s later, and only then a2..a5 go, in order
    expect(seen.filter((n) => n.includes('a'))).toEqual(['once:a1', 'once:a1', 'a2', 'a3', 'a4', 'a5']);
    // key b was not held up by a1's retry: all of b arrived before a1's second try
    const retryAt = seen.lastIndexOf('once:a1');
    expect(seen.filter((n) => n.startsWith('b'))).toEqual(b);
    expect(Math.max(...b.map((n) => seen.indexOf(n)))).toBeLessThan(retryAt);
  });

  it('moves on once the previous delivery has finally failed', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/dead-head'), retry: { schedule: [0.2], jitter: 0 } });
    for (const name of ['always:x1', 'x2', 'x3']) await herald.api.post(`/v1/tenants/${t}/events`, { type: 'o.x', payload: { name }, orderingKey: 'k' });
    await receiver.waitFor(() => names('/dead-head').includes('x3'), 10_000);
    expect(names('/dead-head')).toEqual(['always:x1', 'always:x1', 'x2', 'x3']);
  });

  it('sends to an ordered endpoint one delivery at a time, in publish order', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/serial'), ordered: true });
    const expected = Array.from({ length: 12 }, (_, i) => `s${i}`);
    await herald.api.post(`/v1/tenants/${t}/events/batch`, { events: expected.map((name) => ({ type: 'o.x', payload: { name } })) });
    await receiver.waitForCount('/serial', 12, 10_000);
    expect(names('/serial')).toEqual(expected);
    expect(maxInFlight.get('/serial')).toBe(1);
  });
});
