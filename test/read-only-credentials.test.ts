import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type Api, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

/**
 * Issue 11, item 4: a read-only token or portal link may look at the
 * configuration but not hold a credential: 403 on the signing secret, and
 * static header values (on endpoints, tenant defaults and recorded
 * attempts) redacted. Manage tokens still see everything.
 */
let herald: TestHerald;
let receiver: Receiver;
let T: string;
let ep: { id: string; secret: string };
let deliveryId: string;
const SECRETS = ['Bearer s3cret-endpoint-password', 'k-9f8e7d', 'Bearer tenant-default-password'];

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
  const t = await herald.api.post('/v1/tenants', { name: 'Readers', settings: { endpointDefaults: { headers: { authorization: SECRETS[2] } } } });
  T = t.body.id;
  ep = await herald.api.endpoint(T, { url: receiver.url('/hook'), headers: { authorization: SECRETS[0], 'X-Api-Key': SECRETS[1] } });
  const pub = await herald.api.publish(T, 'order.created', { n: 1 });
  deliveryId = (await herald.api.get(`/v1/tenants/${T}/events/${pub.body.id}/deliveries`)).body.data[0].id;
  await herald.api.waitDelivery(T, deliveryId, (d) => d.status === 'succeeded');
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

async function readers(): Promise<[string, Api][]> {
  const token = (await herald.api.post(`/v1/tenants/${T}/tokens`, { name: 'grafana', role: 'read' })).body.token as string;
  const link = (await herald.api.post(`/v1/tenants/${T}/portal-links`, { role: 'read' })).body.token as string;
  return [
    ['read-only token', herald.api.as(token)],
    ['read-only portal link', herald.api.as(link)],
  ];
}

describe('read-only principals cannot read credentials', () => {
  it('get 403 on the signing secret', async () => {
    for (const [who, api] of await readers()) {
      const r = await api.get(`/v1/tenants/${T}/endpoints/${ep.id}/secret`);
      expect(r.status, who).toBe(403);
      expect(r.body.error.code).toBe('forbidden');
      expect(JSON.stringify(r.body)).not.toContain(ep.secret);
    }
  });

  it('see static header names with redacted values on endpoints, tenant defaults and attempts', async () => {
    for (const [who, api] of await readers()) {
      const one = await api.get(`/v1/tenants/${T}/endpoints/${ep.id}`);
      expect(one.status, who).toBe(200);
      expect(one.body.headers).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]' });
      const list = await api.get(`/v1/tenants/${T}/endpoints`);
      expect(list.body.data[0].headers).toEqual({ authorization: '[redacted]', 'x-api-key': '[redacted]' });
      const tenant = await api.get(`/v1/tenants/${T}`);
      expect(tenant.body.settings.endpointDefaults.headers).toEqual({ authorization: '[redacted]' });
      const tenants = await api.get('/v1/tenants');
      expect(tenants.body.data[0].settings.endpointDefaults.headers).toEqual({ authorization: '[redacted]' });
      const d = await api.get(`/v1/tenants/${T}/deliveries/${deliveryId}`);
      const sent = d.body.attemptLog[0].request.headers;
      expect(sent.authorization).toBe('[redacted]');
      expect(sent['x-api-key']).toBe('[redacted]');
      expect(sent['webhook-id']).toMatch(/^evt_/);
      expect(sent['webhook-signature']).toMatch(/^v1,/);
      for (const body of [one.body, list.body, tenant.body, tenants.body, d.body]) {
        for (const s of SECRETS) expect(JSON.stringify(body), who).not.toContain(s);
      }
    }
  });

  it('manage tokens still read the secret and the header values', async () => {
    const token = (await herald.api.post(`/v1/tenants/${T}/tokens`, { name: 'ci' })).body.token as string;
    for (const api of [herald.api, herald.api.as(token)]) {
      expect((await api.get(`/v1/tenants/${T}/endpoints/${ep.id}/secret`)).body).toEqual({ secret: ep.secret, publicKey: null });
      expect((await api.get(`/v1/tenants/${T}/endpoints/${ep.id}`)).body.headers).toEqual({ authorization: SECRETS[0], 'x-api-key': SECRETS[1] });
      const d = await api.get(`/v1/tenants/${T}/deliveries/${deliveryId}`);
      expect(d.body.attemptLog[0].request.headers.authorization).toBe(SECRETS[0]);
    }
  });
});
