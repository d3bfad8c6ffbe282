import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

/**
 * Issue 11, item 5: the header-HMAC scheme's header name may not be one
 * Herald sets itself or one of HTTP's framing (before: accepted, then every
 * delivery failed or went out with a forged Host).
 */
let herald: TestHerald;
let receiver: Receiver;
let T: string;
const BAD = ['host', 'Host', 'content-length', 'transfer-encoding', 'expect', 'content-type', 'webhook-id', 'webhook-timestamp', 'connection', 'user-agent'];

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
  T = await herald.api.tenant('Signers');
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

async function endpointCount(): Promise<number> {
  return Number((await herald.running.db.query<{ n: number }>(`select count(*)::int as n from endpoints where tenant_id = $1`, [T])).rows[0]!.n);
}

describe('signature header names', () => {
  it('refuses reserved names on create, naming signature.header, and stores nothing', async () => {
    for (const header of BAD) {
      const r = await herald.api.post(`/v1/tenants/${T}/endpoints`, { url: receiver.url('/x'), signature: { scheme: 'hmac-sha256', header } });
      expect(r.status, header).toBe(400);
      expect(r.body.error.message).toMatch(/^signature\.header: /);
      expect(r.body.error.details[0].field).toBe('signature.header');
    }
    expect(await endpointCount()).toBe(0);
  });

  it('refuses them on update and in tenant endpoint defaults', async () => {
    const ep = await herald.api.endpoint(T, { url: receiver.url('/ok'), signature: { scheme: 'hmac-sha256', header: 'X-Signature' } });
    for (const header of BAD) {
      const p = await herald.api.patch(`/v1/tenants/${T}/endpoints/${ep.id}`, { signature: { scheme: 'hmac-sha256', header } });
      expect(p.status, header).toBe(400);
      expect(p.body.error.message).toMatch(/^signature\.header: /);
      const t = await herald.api.patch(`/v1/tenants/${T}`, { settings: { endpointDefaults: { signature: { scheme: 'hmac-sha256', header } } } });
      expect(t.status, header).toBe(400);
      expect(t.body.error.message).toMatch(/^settings\.endpointDefaults\.signature\.header: /);
    }
    expect((await herald.api.get(`/v1/tenants/${T}/endpoints/${ep.id}`)).body.signature.header).toBe('X-Signature');
  });

  it('still delivers with an ordinary header name and the Host of the endpoint', async () => {
    const ep = await herald.api.endpoint(T, { url: receiver.url('/signed'), eventTypes: ['sig.*'], signature: { scheme: 'hmac-sha256', header: 'X-Signature' } });
    const pub = await herald.api.publish(T, 'sig.test', { n: 1 });
    expect(pub.status).toBe(202);
    const ds = await herald.api.get(`/v1/tenants/${T}/events/${pub.body.id}/deliveries`);
    const d = ds.body.data.find((x: { endpointId: string }) => x.endpointId === ep.id);
    await herald.api.waitDelivery(T, d.id, (x) => x.status === 'succeeded');
    const got = receiver.at('/signed')[0]!;
    expect(got.headers['x-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(got.headers.host).toBe(new URL(receiver.url('/')).host);
  });
});
