import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

let herald: TestHerald;
let receiver: Receiver;
const held: ServerResponse[] = [];

beforeAll(async () => {
  // 100 slots, 25 per endpoint: four endpoints on one origin can fill every slot
  herald = await startHerald({ workerConcurrency: 100, endpointConcurrency: 25, circuitBreakerFailures: 0 });
  receiver = await new Receiver().listen();
  receiver.respond = (_r, res) => {
    held.push(res);
  };
});
afterAll(async () => {
  for (const res of held) res.destroy();
  await herald?.stop();
  await receiver?.close();
});

describe('endpoints that share an origin', () => {
  it('get as many open requests as the worker has slots, not a fixed number of connections per origin', async () => {
    const t = await herald.api.tenant();
    for (let i = 0; i < 4; i++) await herald.api.endpoint(t, { url: receiver.url(`/customer/${i}`), eventTypes: ['shared.*'], timeoutMs: 20_000 });
    const res = await herald.api.post(`/v1/tenants/${t}/events/batch`, {
      events: Array.from({ length: 25 }, (_, i) => ({ type: 'shared.x', payload: { i } })),
    });
    expect(res.status).toBe(202);
    // Nobody is answered yet, so every request that arrived has a connection of its own. With 64
    // connections per origin, 36 of these waited in the pool, their timeouts running.
    await receiver.waitFor(() => receiver.received.length >= 100, 10_000, '100 open requests');
    expect(receiver.received.length).toBe(100);
    for (const r of held.splice(0)) r.writeHead(200).end();
  }, 30_000);
});
