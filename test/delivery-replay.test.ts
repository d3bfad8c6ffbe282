import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';
import { closedPort } from './helpers/process.js';

/**
 * Replay to another URL (issue 13, item 4): a delivery sent once more, signed
 * as its endpoint signs, to a URL the caller names, without touching the
 * endpoint, the delivery's state or its attempts.
 */

let herald: TestHerald;
let receiver: Receiver;
let tenant: string;
let endpoint: { id: string; secret: string };
let deliveryId: string;
let eventId: string;

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
  receiver.respond = (r, res) => {
    if (r.path === '/main') res.writeHead(500).end('broken');
    else res.writeHead(202, { 'content-type': 'text/plain', 'x-tunnel': 'yes' }).end('got it');
  };
  tenant = await herald.api.tenant('Replays');
  endpoint = await herald.api.endpoint(tenant, { url: receiver.url('/main'), eventTypes: ['order.*'], retry: { schedule: [] }, headers: { 'x-api-key': 'k-123' } });
  const pub = await herald.api.publish(tenant, 'order.created', { orderId: 'o_1', amount: 12 });
  eventId = pub.body.id;
  const list = await herald.api.get(`/v1/tenants/${tenant}/deliveries?endpointId=${endpoint.id}`);
  deliveryId = list.body.data[0].id;
  await herald.api.waitDelivery(tenant, deliveryId, (d) => d.status === 'failed');
}, 60_000);

afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

const replayPath = () => `/v1/tenants/${tenant}/deliveries/${deliveryId}/replay`;

describe('POST /v1/tenants/:tenantId/deliveries/:deliveryId/replay', () => {
  it('sends the same signed event once to the other URL and records the answer as a replay', async () => {
    const r = await herald.api.post(replayPath(), { url: receiver.url('/tunnel') });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ deliveryId, actor: 'admin', request: { url: receiver.url('/tunnel') }, error: null });
    expect(r.body.id).toMatch(/^rpl_/);
    expect(r.body.response).toMatchObject({ status: 202, body: 'got it', bodyTruncated: false });
    expect(r.body.response.headers['x-tunnel']).toBe('yes');

    const got = receiver.at('/tunnel');
    expect(got).toHaveLength(1);
    const original = receiver.at('/main')[0]!;
    expect(got[0]!.body).toBe(original.body);
    expect(got[0]!.headers['webhook-id']).toBe(eventId);
    expect(got[0]!.headers['x-api-key']).toBe('k-123');
    const headers = Object.fromEntries(Object.entries(got[0]!.headers).map(([k, v]) => [k, String(v)]));
    expect(new Webhook(endpoint.secret).verify(got[0]!.body, headers)).toEqual({ orderId: 'o_1', amount: 12 });
    expect(r.body.request.headers['webhook-signature']).toBe(got[0]!.headers['webhook-signature']);
  });

  it('changes neither the endpoint nor the delivery, and is listed, audited and marked with its target', async () => {
    const d = (await herald.api.get(`/v1/tenants/${tenant}/deliveries/${deliveryId}`)).body;
    expect(d).toMatchObject({ status: 'failed', attempts: 1 });
    expect(d.attemptLog).toHaveLength(1);
    expect((await herald.api.get(`/v1/tenants/${tenant}/endpoints/${endpoint.id}`)).body.url).toBe(receiver.url('/main'));
    const list = (await herald.api.get(`/v1/tenants/${tenant}/deliveries/${deliveryId}/replays`)).body;
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ request: { url: receiver.url('/tunnel') }, response: { status: 202 } });
    const audit = (await herald.api.get(`/v1/tenants/${tenant}/audit-log`)).body.data as any[];
    expect(audit.find((a) => a.action === 'delivery.replayed')).toMatchObject({ targetId: deliveryId, details: { url: receiver.url('/tunnel'), status: 202 } });
    await new Promise((ok) => setTimeout(ok, 500));
    expect(receiver.at('/tunnel')).toHaveLength(1); // once: nothing retries a replay
  });

  it('records a network error as the replay answer', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/gone`;
    const r = await herald.api.post(replayPath(), { url });
    expect(r.status).toBe(201);
    expect(r.body.response).toBeNull();
    expect(r.body.error.code).toBe('connect_refused');
    expect((await herald.api.get(`/v1/tenants/${tenant}/deliveries/${deliveryId}/replays`)).body.data).toHaveLength(2);
  });

  it('refuses bad input with a 400 naming the field, and unknown deliveries with 404', async () => {
    for (const body of [{}, { url: '' }, { url: 'ftp://example.com/x' }, { url: 'not a url' }, { url: receiver.url('/x'), extra: 1 }, { url: 5 }]) {
      const r = await herald.api.post(replayPath(), body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(r.body.error)).toMatch(/url|extra/);
    }
    expect((await herald.api.post(`/v1/tenants/${tenant}/deliveries/dlv_nope/replay`, { url: receiver.url('/x') })).status).toBe(404);
    expect((await herald.api.get(`/v1/tenants/${tenant}/deliveries/dlv_nope/replays`)).status).toBe(404);
    const other = await herald.api.tenant('Other');
    expect((await herald.api.post(`/v1/tenants/${other}/deliveries/${deliveryId}/replay`, { url: receiver.url('/x') })).status).toBe(404);
    expect(receiver.at('/x')).toHaveLength(0);
  });

  it('is refused to a read-only token, which may still list replays', async () => {
    const token = (await herald.api.post(`/v1/tenants/${tenant}/tokens`, { name: 'viewer', role: 'read' })).body.token as string;
    const reader = herald.api.as(token);
    expect((await reader.post(replayPath(), { url: receiver.url('/tunnel') })).status).toBe(403);
    const list = (await reader.get(`/v1/tenants/${tenant}/deliveries/${deliveryId}/replays`)).body;
    expect(list.data[0].request.headers['x-api-key']).toBe('[redacted]');
    expect(receiver.at('/tunnel')).toHaveLength(1);
  });
});

describe('replay URLs outside dev mode', () => {
  let prod: TestHerald;
  beforeAll(async () => {
    prod = await startHerald({ dev: false }, { api: true, worker: false });
  }, 30_000);
  afterAll(async () => prod?.stop());

  it('follows the endpoint address policy: https and public addresses only', async () => {
    const t = await prod.api.tenant('Prod');
    const cases: [string, RegExp][] = [
      [receiver.url('/tunnel'), /must use https/],
      [`https://127.0.0.1:${receiver.port}/tunnel`, /blocked address \(loopback\)/],
      ['https://10.0.0.8/hook', /blocked address \(private\)/],
      ['https://169.254.169.254/latest', /blocked address \(metadata\)/],
      ['https://localhost/hook', /localhost/],
    ];
    for (const [url, why] of cases) {
      const r = await prod.api.post(`/v1/tenants/${t}/deliveries/dlv_any/replay`, { url });
      expect(r.status, url).toBe(400);
      expect(r.body.error.message).toMatch(/^url: /);
      expect(r.body.error.message).toMatch(why);
    }
  });
});
