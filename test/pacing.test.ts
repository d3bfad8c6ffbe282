import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

let herald: TestHerald;
let receiver: Receiver;
let inFlight = 0;
/** In-flight count seen by each request on /aimd, in arrival order. */
const concurrency: number[] = [];
let hanging = 0;
/** Requests open at once on /hang, seen by each request in arrival order. */
const hangConcurrency: number[] = [];
/** /retry: each event's first request fails; requests open at once, seen by each retry and by each first attempt. */
const firstSeen = new Set<string>();
let retryOpen = 0;
const retryConcurrency: number[] = [];
const firstConcurrency: number[] = [];

beforeAll(async () => {
  herald = await startHerald({ endpointConcurrency: 8, circuitBreakerFailures: 0 });
  receiver = await new Receiver().listen();
  receiver.respond = async (r, res, n) => {
    if (r.path === '/hang') {
      // never answers: Herald cuts each request at the endpoint's timeout
      hanging++;
      hangConcurrency.push(hanging);
      res.on('close', () => hanging--);
      return;
    }
    if (r.path === '/retry') {
      const id = String(r.headers['webhook-id']);
      const first = !firstSeen.has(id);
      firstSeen.add(id);
      retryOpen++;
      (first ? firstConcurrency : retryConcurrency).push(retryOpen);
      await new Promise((x) => setTimeout(x, 40));
      retryOpen--;
      return void res.writeHead(first ? 500 : 200).end();
    }
    if (r.path !== '/aimd') return void res.writeHead(200).end();
    inFlight++;
    concurrency.push(inFlight);
    await new Promise((x) => setTimeout(x, 30));
    inFlight--;
    res.writeHead(n <= 10 ? 429 : 200).end();
  };
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

describe('per-endpoint pacing', () => {
  it('holds an endpoint to its rateLimitPerSecond', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/paced'), rateLimitPerSecond: 5 });
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}`)).body.rateLimitPerSecond).toBe(5);
    await herald.api.post(`/v1/tenants/${t}/events/batch`, { events: Array.from({ length: 15 }, (_, i) => ({ type: 'p.x', payload: { i } })) });
    await receiver.waitForCount('/paced', 15, 15_000);
    const at = receiver.at('/paced').map((r) => r.at);
    // a burst of up to 5, then 5 per second (a token bucket): 15 deliveries take at least 2 s,
    // and any 8 in a row at least 600 ms (3 beyond the burst at 200 ms each); 10 % slack for timers
    expect(at.at(-1)! - at[0]!).toBeGreaterThanOrEqual(1_800);
    for (let i = 0; i + 7 < at.length; i++) expect(at[i + 7]! - at[i]!).toBeGreaterThanOrEqual(540);
  });

  it('slows down an endpoint that answers 429 (AIMD on its in-flight cap)', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/aimd'), retry: { schedule: [0.05, 0.05, 0.05, 0.05], jitter: 0 } });
    await herald.api.post(`/v1/tenants/${t}/events/batch`, { events: Array.from({ length: 30 }, (_, i) => ({ type: 'a.x', payload: { i } })) });
    await receiver.waitFor(() => receiver.at('/aimd').length >= 40, 20_000, '40 requests');
    // the first wave ran up to the cap of 8; after ten 429s the endpoint gets one request at a time
    expect(Math.max(...concurrency.slice(0, 10))).toBeGreaterThan(2);
    expect(Math.max(...concurrency.slice(20))).toBeLessThanOrEqual(2);
  });

  it('slows down an endpoint whose requests time out, so it holds few worker slots', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/hang'), timeoutMs: 300, retry: { schedule: [0.05, 0.05, 0.05, 0.05], jitter: 0 } });
    await herald.api.post(`/v1/tenants/${t}/events/batch`, { events: Array.from({ length: 30 }, (_, i) => ({ type: 'h.x', payload: { i } })) });
    await receiver.waitFor(() => receiver.at('/hang').length >= 30, 20_000, '30 requests');
    // the first wave held the cap of 8 slots for the whole timeout; after it, one at a time
    expect(Math.max(...hangConcurrency.slice(0, 8))).toBe(8);
    expect(Math.max(...hangConcurrency.slice(12))).toBeLessThanOrEqual(2);
  });

  it('sends an endpoint its retries a quarter of its cap at a time, its first attempts at the whole cap', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/retry'), retry: { schedule: [0.5, 0.5], jitter: 0 } });
    await herald.api.post(`/v1/tenants/${t}/events/batch`, { events: Array.from({ length: 24 }, (_, i) => ({ type: 'r.x', payload: { i } })) });
    await receiver.waitFor(() => retryConcurrency.length >= 24, 20_000, '24 retries');
    // first attempts: up to the cap of 8 at once; the 24 retries, due together 0.5 s later: 2 at once
    expect(Math.max(...firstConcurrency)).toBe(8);
    expect(Math.max(...retryConcurrency)).toBe(2);
  });
});
