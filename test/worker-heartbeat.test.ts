import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

let herald: TestHerald;
let receiver: Receiver;

beforeAll(async () => {
  // one slot: one stalled send may be set aside (open-sends.ts), the next one keeps the worker full
  herald = await startHerald({ workerConcurrency: 1, endpointConcurrency: 4, circuitBreakerFailures: 0 });
  receiver = await new Receiver().hang().listen();
});
afterAll(async () => {
  receiver?.release();
  await herald?.stop();
  await receiver?.close();
});

const lastSeen = async (): Promise<number[]> =>
  (await herald.running.db.query<{ at: Date }>('select last_seen_at as at from workers order by id')).rows.map((r) => new Date(r.at).getTime());

describe('a worker whose slots stay full', () => {
  it('keeps telling the database it is alive (the other workers count it for rate limits)', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/hangs'), eventTypes: ['hang.*'], timeoutMs: 20_000 });
    const res = await herald.api.post(`/v1/tenants/${t}/events/batch`, {
      events: Array.from({ length: 3 }, (_, i) => ({ type: 'hang.x', payload: { i } })),
    });
    expect(res.status).toBe(202);
    // the first send stalls and is set aside, the second takes the slot, the third waits: no room to claim
    await receiver.waitForCount('/hangs', 2, 10_000);
    const before = await lastSeen();
    expect(before).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 6_500));
    const after = await lastSeen();
    // a heartbeat every 5 s whatever the claim loop does
    expect(after[0]! - before[0]!).toBeGreaterThanOrEqual(4_000);
    expect(receiver.at('/hangs').length).toBe(2); // still full: nothing else was sent meanwhile
  }, 30_000);
});
