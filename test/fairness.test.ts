import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

let herald: TestHerald;
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald({ endpointConcurrency: 4, circuitBreakerFailures: 0 });
  receiver = await new Receiver().listen();
  // The flooded endpoint answers slowly, so its backlog lasts (4 in flight × 100 ms: at most ~40/s).
  receiver.respond = async (r, res) => {
    if (r.path === '/flooded') await new Promise((x) => setTimeout(x, 100));
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
    const r = await herald.api.post(`/v1/tenants/${t}/events/batch`, {
      events: Array.from({ length: 600 }, (_, i) => ({ type: 'flood.x', payload: { i } })),
    });
    expect(r.status).toBe(202);
    await receiver.waitForCount('/flooded', 10, 15_000);
    // Published after 600 queued events of the other endpoint: first in, first out would deliver it
    // after all of them (15 s or more at this receiver's pace); a fair claim takes it at the next round.
    const quiet = await herald.api.post(`/v1/tenants/${t}/events`, { type: 'quiet.x', payload: {} });
    expect(quiet.status).toBe(202);
    await receiver.waitForCount('/quiet', 1, 30_000);
    expect(receiver.at('/flooded').length).toBeLessThan(450);
    // and the flood itself is still delivered in full, each event once
    await receiver.waitForCount('/flooded', 600, 120_000);
    expect(new Set(receiver.at('/flooded').map((x) => x.headers['webhook-id'])).size).toBe(600);
  }, 180_000);
});
