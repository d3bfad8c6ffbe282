import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver } from './helpers/receiver.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

/*
 * The publish statements take the payloads as one JSON array (the payloads
 * joined as they are, src/store/events.ts, eventColumns) and, when Herald
 * made every id of the statement, insert without an arbiter. These hold
 * what that must not change: the bytes a receiver gets, whether they come
 * from the publishing process (a hand-off) or back from the database (a
 * manual retry reads the stored payload), and replays of ids that exist.
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

/** What a JSON array literal or a careless join would get wrong: quotes, backslashes, commas and brackets in strings, escapes, non-BMP characters, U+2028, NUL. */
const awkward = (i: number) => ({
  i,
  quote: 'say "hi", then \\ leave',
  brackets: '],[{"a":1}',
  escapes: 'tab\there\nnew line\r\u0000nul \u2028 \u2029',
  unicode: 'café 𝄞 😀 日本',
  nested: [{ a: [1, -2.5, 1e21, null, true] }, [], {}],
  empty: '',
});

describe('payload text through the publish statements', () => {
  it('delivers a single event and a batch with exactly the bytes of their payloads, from memory and from the database', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/awkward') });
    const single = await herald.api.publish(t, 'odd.text', awkward(0));
    expect(single.status).toBe(202);
    const batch = await herald.api.post(`/v1/tenants/${t}/events/batch`, {
      events: [1, 2, 3].map((i) => ({ type: 'odd.text', payload: awkward(i) })),
    });
    expect(batch.status).toBe(202);
    await receiver.waitForCount('/awkward', 4);
    const bodies = receiver.at('/awkward').map((r) => r.body);
    const want = [0, 1, 2, 3].map((i) => JSON.stringify(awkward(i)));
    expect([...bodies].sort()).toEqual([...want].sort());

    // The stored payload, read back by the API and by a manual retry (which sends what the database holds)
    const id = single.body.id as string;
    const ev = await herald.api.get(`/v1/tenants/${t}/events/${id}`);
    expect(ev.body.payload).toEqual(awkward(0));
    const dl = await herald.api.get(`/v1/tenants/${t}/events/${id}/deliveries`);
    const deliveryId = dl.body.data[0].id as string;
    await herald.api.waitDelivery(t, deliveryId, (d) => d.status === 'succeeded');
    const retried = await herald.api.post(`/v1/tenants/${t}/deliveries/${deliveryId}/retry`, {});
    expect(retried.status).toBe(202);
    await receiver.waitForCount('/awkward', 5);
    expect(receiver.at('/awkward')[4]!.body).toBe(want[0]);
  });

  it('replays the named ids of a batch that exist already and creates the ones Herald names', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/named') });
    const first = await herald.api.publish(t, 'odd.named', { n: 1 }, 'evt_named_1');
    expect(first.status).toBe(202);
    const res = await herald.api.post(`/v1/tenants/${t}/events/batch`, {
      events: [
        { type: 'odd.named', payload: { n: 2 } },
        { id: 'evt_named_1', type: 'odd.named', payload: { n: 1 } },
        { type: 'odd.named', payload: { n: 3 } },
      ],
    });
    expect(res.status).toBe(202);
    const results = res.body.data as { id: string; replayed: boolean; deliveries: number }[];
    expect(results.map((r) => r.replayed)).toEqual([false, true, false]);
    expect(results[1]!.id).toBe('evt_named_1');
    expect(results.every((r) => r.deliveries === 1)).toBe(true);
    await receiver.waitForCount('/named', 3);
    // the replayed id was not sent again
    expect(receiver.at('/named').map((r) => JSON.parse(r.body).n).sort()).toEqual([1, 2, 3]);
    const list = await herald.api.get(`/v1/tenants/${t}/events`);
    expect(list.body.data).toHaveLength(3);
  });
});
