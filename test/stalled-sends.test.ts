import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenSends } from '../src/delivery/open-sends.js';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

describe('OpenSends', () => {
  it('marks only the sends that waited long enough, oldest first, up to its limit', () => {
    const s = new OpenSends<string>(500, 2);
    const a = s.add('a', 0);
    const b = s.add('b', 100);
    const c = s.add('c', 200);
    const d = s.add('d', 900);
    expect(s.sweep(499)).toBe(0);
    expect(s.sweep(650)).toBe(2); // a and b; c would be over the limit
    expect(s.stalled).toBe(2);
    expect(s.sweep(5_000)).toBe(0);
    s.close(a); // a stalled send answered: room for one more
    expect(s.stalled).toBe(1);
    expect(s.sweep(5_000)).toBe(1);
    s.close(d); // never stalled: changes nothing
    expect(s.stalled).toBe(2);
    s.close(b);
    s.close(c);
    expect(s.stalled).toBe(0);
    expect(s.size).toBe(0);
  });

  it('keeps the open sends in the order they started, whichever close, and lets go of a closed one', () => {
    const s = new OpenSends<{ n: number }>(500, 10);
    const entries = [1, 2, 3, 4].map((n) => s.add({ n }, n));
    s.close(entries[1]!); // from the middle
    s.close(entries[0]!); // the oldest
    expect(s.items().map((i) => i.n)).toEqual([3, 4]);
    expect(s.size).toBe(2);
    s.close(entries[0]!); // closing twice changes nothing
    expect(s.size).toBe(2);
    // a closed entry points at nothing: neither its item nor its neighbours
    expect([entries[0]!.item, entries[0]!.prev, entries[0]!.next, entries[1]!.item]).toEqual([null, null, null, null]);
    s.close(entries[3]!); // the newest
    expect(s.items().map((i) => i.n)).toEqual([3]);
    const e5 = s.add({ n: 5 }, 5);
    expect(s.items().map((i) => i.n)).toEqual([3, 5]);
    s.close(entries[2]!);
    s.close(e5);
    expect(s.items()).toEqual([]);
    expect(s.sweep(10_000)).toBe(0);
  });
});

let herald: TestHerald;
let receiver: Receiver;

beforeAll(async () => {
  // four slots in all, four per endpoint: the hanging endpoint alone can take every slot
  herald = await startHerald({ workerConcurrency: 4, endpointConcurrency: 4, circuitBreakerFailures: 0 });
  receiver = await new Receiver().hang('/hangs').listen();
});
afterAll(async () => {
  receiver?.release();
  await herald?.stop();
  await receiver?.close();
});

describe('a receiver that stops answering', () => {
  it("does not hold the worker's slots from other endpoints until its requests time out", async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/hangs'), eventTypes: ['hang.*'], timeoutMs: 8_000 });
    await herald.api.endpoint(t, { url: receiver.url('/answers'), eventTypes: ['ok.*'] });
    // one send that answers, then a pause: the worker stops its sweep once nothing is open, and must start it again
    expect((await herald.api.post(`/v1/tenants/${t}/events`, { type: 'ok.first', payload: {} })).status).toBe(202);
    await receiver.waitForCount('/answers', 1, 5_000);
    await new Promise((r) => setTimeout(r, 800));
    const hang = await herald.api.post(`/v1/tenants/${t}/events/batch`, {
      events: Array.from({ length: 4 }, (_, i) => ({ type: 'hang.x', payload: { i } })),
    });
    expect(hang.status).toBe(202);
    await receiver.waitForCount('/hangs', 4, 10_000); // every slot now waits on /hangs
    const started = Date.now();
    const ok = await herald.api.post(`/v1/tenants/${t}/events/batch`, {
      events: Array.from({ length: 10 }, (_, i) => ({ type: 'ok.x', payload: { i } })),
    });
    expect(ok.status).toBe(202);
    // Before: these waited for the 8 s timeout of the hanging requests. Now
    // those give up their slots once overdue (500 ms).
    await receiver.waitForCount('/answers', 11, 6_000);
    expect(Date.now() - started).toBeLessThan(6_000);
    // the hanging requests were not abandoned: still open, not sent twice
    expect(receiver.at('/hangs').length).toBe(4);
  }, 30_000);
});
