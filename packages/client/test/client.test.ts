import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHerald, type TestHerald } from '../../../test/helpers/herald.js';
import { HeraldClient, HeraldError, type Event } from '../src/index.js';

/** @herald/client against a running Herald over real HTTP. */
let h: TestHerald;
let client: HeraldClient;
/** Statuses the client's fetch saw, retries included. */
const seen: number[] = [];

beforeAll(async () => {
  h = await startHerald({ apiRateLimitPerSecond: 20 }, { api: true, worker: false });
  const counting: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    seen.push(res.status);
    return res;
  };
  client = new HeraldClient({ url: h.url, token: ADMIN_TOKEN, fetch: counting });
}, 120_000);
afterAll(() => h?.stop());

describe('@herald/client', () => {
  it('publishes with a generated id, so a repeat publishes nothing', async () => {
    await client.createTenant({ id: 'acme', name: 'Acme' });
    const ep = await client.createEndpoint('acme', { url: 'http://127.0.0.1:9/hook' });
    expect(ep.secret).toMatch(/^whsec_/);
    expect(ep.signature).toEqual({ scheme: 'standard' });
    const first = await client.publish('acme', { type: 'invoice.paid', payload: { amount: 1 } });
    expect(first.id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(first.deliveries).toBe(1);
    const again = await client.publish('acme', { id: first.id, type: 'invoice.paid', payload: { amount: 1 } });
    expect(again).toEqual(first);
    expect((await h.api.get(`/v1/tenants/acme/events/${first.id}/deliveries`)).body.data).toHaveLength(1);
  });

  it('publishes a batch in requests of at most 1,000 and pages through every event', async () => {
    const events = Array.from({ length: 2_100 }, (_, i) => ({ type: 'order.created', payload: { n: i } }));
    const before = seen.length;
    const results = await client.publishBatch('acme', events);
    expect(results).toHaveLength(2_100);
    expect(new Set(results.map((r) => r.id)).size).toBe(2_100);
    expect(seen.slice(before).filter((s) => s === 202)).toHaveLength(3);

    const listed: Event[] = [];
    for await (const e of client.events('acme', { type: 'order.created' })) listed.push(e);
    expect(listed).toHaveLength(2_100);
    expect(new Set(listed.map((e) => e.payload.n)).size).toBe(2_100);
  });

  it('throws HeraldError with the API code and the field', async () => {
    const err = await client.publish('acme', { type: 'bad type!', payload: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ status: 400, code: 'validation_error' });
    expect((err as HeraldError).message).toMatch(/^body\.type: /);
    await expect(client.call('GET /v1/tenants/{tenantId}', { params: { tenantId: 'nope' } })).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('refuses a missing url or token, naming it', () => {
    expect(() => new HeraldClient({ url: '', token: 't' })).toThrow(/^url: must be an http\(s\) URL/);
    expect(() => new HeraldClient({ url: '127.0.0.1:8080', token: 't' })).toThrow(/^url: /);
    expect(() => new HeraldClient({ url: h.url, token: '' })).toThrow(/^token: /);
  });

  it('rides out the API rate limit: 429s are retried after Retry-After', async () => {
    const before = seen.length;
    const all = await Promise.all(Array.from({ length: 60 }, () => client.call('GET /v1/tenants/{tenantId}', { params: { tenantId: 'acme' } })));
    expect(all.every((t) => t.id === 'acme')).toBe(true);
    expect(seen.slice(before).filter((s) => s === 429).length).toBeGreaterThan(0);
  });
});

describe('retries', () => {
  let server: Server;
  let url = '';
  let answers: { status: number; headers?: Record<string, string> }[] = [];
  const times: number[] = [];

  beforeAll(async () => {
    server = createServer((_req, res) => {
      times.push(Date.now());
      const a = answers.shift() ?? { status: 202 };
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.status < 300 ? JSON.stringify({ id: 'evt_1', type: 't', createdAt: 'x', deliveries: 0 }) : JSON.stringify({ error: { code: 'unavailable', message: 'down' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('waits as long as Retry-After says on 503, then succeeds', async () => {
    answers = [{ status: 503, headers: { 'retry-after': '1' } }, { status: 429, headers: { 'retry-after': '1' } }];
    times.length = 0;
    const c = new HeraldClient({ url, token: 't' });
    await expect(c.publish('acme', { type: 't', payload: {} })).resolves.toMatchObject({ id: 'evt_1' });
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(950);
  });

  it('gives up after maxRetries with the last answer', async () => {
    answers = [0, 1, 2].map(() => ({ status: 503, headers: { 'retry-after': '0' } }));
    times.length = 0;
    const c = new HeraldClient({ url, token: 't', maxRetries: 2 });
    await expect(c.publish('acme', { type: 't', payload: {} })).rejects.toMatchObject({ status: 503, code: 'unavailable' });
    expect(times).toHaveLength(3);
  });

  it('does not retry other errors', async () => {
    answers = [{ status: 500 }];
    times.length = 0;
    await expect(new HeraldClient({ url, token: 't' }).publish('acme', { type: 't', payload: {} })).rejects.toMatchObject({ status: 500 });
    expect(times).toHaveLength(1);
  });
});
