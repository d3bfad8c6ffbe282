import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

let herald: TestHerald;
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald({ endpointConcurrency: 8, circuitBreakerFailures: 0 });
  receiver = await new Receiver().listen();
  // The flooded endpoint answers slowly, so its backlog lasts (8 in flight × 50 ms: ~160/s).
  receiver.respond = async (r, res) => {
    if (r.path === '/flooded') await new Promise((x) => setTimeout(x, 50));
    res.writeHead(200).end();
  };
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

describe('fair claims', () => {
  it("does not hold one endpoint's events behind another endpoint's backlog", async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/flooded'), eventTypes: ['flood.*'] });
    await herald.api.endpoint(t, { url: receiver.url('/quiet'), eventTypes: ['quiet.*'] });
    for (let b = 0; b < 2; b++) {
      const r = await herald.api.post(`/v1/tenants/${t}/events/batch`, {
        events: Array.from({ length: 1000 }, (_, i) => ({ type: 'flood.x', payload: { i: b * 1000 + i } })),
      });
      expect(r.status).toBe(202);
    }
    await receiver.waitForCount('/flooded', 20, 15_000);
    // Published after 2,000 queued events of the other endpoint: first in, last out would deliver it
    // after all of them (over 10 s at this receiver's pace); a fair claim takes it at the next round.
    const quiet = await herald.api.post(`/v1/tenants/${t}/events`, { type: 'quiet.x', payload: {} });
    expect(quiet.status).toBe(202);
    await receiver.waitForCount('/quiet', 1, 10_000);
    const floodedSoFar = receiver.at('/flooded').length;
    expect(floodedSoFar).toBeLessThan(1000);
    // and the flood itself is still delivered in full, each event once
    await receiver.waitForCount('/flooded', 2000, 60_000);
    expect(new Set(receiver.at('/flooded').map((x) => x.headers['webhook-id'])).size).toBe(2000);
  }, 90_000);
});
