import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

let herald: TestHerald;
let receiver: Receiver;
/** Requests to /slow, unanswered until the test answers them. */
const held: ServerResponse[] = [];
/** Requests open at the receiver right now, and the most there ever were at once. */
let open = 0;
let mostOpen = 0;

beforeAll(async () => {
  // 4 connections per origin, far fewer than the worker's slots: sends past them wait for one
  herald = await startHerald({ connectionsPerOrigin: 4, workerConcurrency: 64, endpointConcurrency: 8, circuitBreakerFailures: 0 });
  receiver = await new Receiver().listen();
  receiver.respond = (r, res) => {
    open++;
    mostOpen = Math.max(mostOpen, open);
    res.on('close', () => open--);
    if (r.path === '/slow') held.push(res);
    else res.writeHead(200).end('ok');
  };
});
afterAll(async () => {
  for (const res of held) res.destroy();
  await herald?.stop();
  await receiver?.close();
});

interface Attempt {
  error?: { code: string; message: string };
}

describe('endpoints that share an origin', () => {
  it('use at most HERALD_CONNECTIONS_PER_ORIGIN connections; a send that got none in time is not counted against its endpoint', async () => {
    const t = await herald.api.tenant();
    const slow = await herald.api.endpoint(t, { url: receiver.url('/slow'), eventTypes: ['slow.*'], timeoutMs: 20_000 });
    const fast = await herald.api.endpoint(t, { url: receiver.url('/fast'), eventTypes: ['fast.*'], timeoutMs: 500 });
    const batch = (type: string, n: number) =>
      herald.api.post(`/v1/tenants/${t}/events/batch`, { events: Array.from({ length: n }, (_, i) => ({ type, payload: { i } })) });

    // the slow endpoint's 4 requests take every connection to the origin
    expect((await batch('slow.x', 4)).status).toBe(202);
    await receiver.waitFor(() => held.length === 4, 10_000, '4 requests held');
    // the fast endpoint's 6 wait in the pool for a connection until their 500 ms deadline, and again
    // each time they come back, while the slow endpoint holds every connection
    expect((await batch('fast.x', 6)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(receiver.at('/fast')).toHaveLength(0);
    expect(mostOpen).toBe(4);

    for (const res of held.splice(0)) res.writeHead(200).end('ok');
    const list = await herald.api.get(`/v1/tenants/${t}/deliveries?limit=100`);
    const ids: { id: string; endpointId: string }[] = list.body.data;
    expect(ids).toHaveLength(10);
    const done = await Promise.all(ids.map((d) => herald.api.waitDelivery(t, d.id, (x) => x.status === 'succeeded', 20_000)));
    expect(mostOpen).toBeLessThanOrEqual(4);

    for (const d of done) {
      const log: Attempt[] = d.attemptLog;
      const codes = log.map((a) => a.error?.code ?? 'answered');
      // one counted attempt each: the one that was answered
      expect(d.attempts).toBe(1);
      expect(codes.filter((c) => c === 'answered')).toHaveLength(1);
      const waited = log.filter((a) => a.error);
      if (d.endpointId === slow.id) expect(waited).toHaveLength(0);
      else {
        expect(d.endpointId).toBe(fast.id);
        // it never reached the receiver before the connections came free: no_connection, not a timeout
        expect(waited.length).toBeGreaterThanOrEqual(1);
        for (const a of waited) {
          expect(a.error!.code).toBe('no_connection');
          expect(a.error!.message).toContain('all 4 of');
        }
      }
    }
    // the sends that gave up waiting were dropped without closing a connection: the 4 served everything
    expect(receiver.connectionsAccepted).toBe(4);
    // nor did the endpoint's health take the waits for failures
    const health = await herald.running.db.query<{ consecutive_failures: number; failing_since: string | null }>(
      'select consecutive_failures, failing_since from endpoints where id = $1',
      [fast.id],
    );
    expect(health.rows).toEqual([{ consecutive_failures: 0, failing_since: null }]);
  }, 40_000);
});
