import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver } from './helpers/receiver.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

let herald: TestHerald;
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

const headersOf = (r: { headers: Record<string, unknown> }) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

describe('secret rotation', () => {
  it('signs with both secrets during the grace period; a rotation without grace retires the current secret at once', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/rot') });
    const read = await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}/secret`);
    expect(read.body.secret).toBe(ep.secret);

    const rotated = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/secret/rotate`, { graceSeconds: 3600 });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(ep.secret);
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}/secret`)).body.secret).toBe(fresh);

    await herald.api.publish(t, 'a.b', { n: 1 });
    await receiver.waitForCount('/rot', 1);
    const during = receiver.at('/rot')[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    // a receiver on the old secret and one on the new both verify
    expect(new Webhook(ep.secret).verify(during.body, headersOf(during))).toEqual({ n: 1 });
    expect(new Webhook(fresh).verify(during.body, headersOf(during))).toEqual({ n: 1 });

    // rotating again with no grace retires `fresh` at once; the first secret keeps its own grace period
    const again = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/secret/rotate`, { graceSeconds: 0 });
    const newest = again.body.secret as string;
    await herald.api.publish(t, 'a.b', { n: 2 });
    await receiver.waitForCount('/rot', 2);
    const after = receiver.at('/rot')[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(newest).verify(after.body, headersOf(after))).toEqual({ n: 2 });
    expect(new Webhook(ep.secret).verify(after.body, headersOf(after))).toEqual({ n: 2 });
    expect(() => new Webhook(fresh).verify(after.body, headersOf(after))).toThrow();

    const audit = await herald.api.get(`/v1/tenants/${t}/audit-log?action=endpoint.secret_rotated`);
    expect(audit.body.data).toHaveLength(2);
    expect(audit.body.data[0].actor).toBe('admin');
    expect(JSON.stringify(audit.body.data)).not.toContain(fresh);
  });

  it('accepts a chosen secret and refuses a weak one', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/rot-chosen'), secret: 'whsec_' + Buffer.alloc(24, 1).toString('base64') });
    const chosen = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
    const ok = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/secret/rotate`, { secret: chosen });
    expect(ok.body.secret).toBe(chosen);
    const weak = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/secret/rotate`, { secret: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.error.message).toMatch(/^secret:/);
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}/secret`)).body.secret).toBe(chosen);
  });

  it('keeps the header-HMAC value single and puts the previous signature beside it', async () => {
    const t = await herald.api.tenant();
    const oldSecret = 'x'.repeat(40);
    const ep = await herald.api.endpoint(t, {
      url: receiver.url('/rot-hmac'),
      secret: oldSecret,
      signature: { scheme: 'hmac-sha256', header: 'X-AetherFlow-Signature' },
    });
    const r = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/secret/rotate`, { secret: 'y'.repeat(40), graceSeconds: 60 });
    expect(r.status).toBe(200);
    await herald.api.publish(t, 'workflow.completed', { id: 1 });
    await receiver.waitForCount('/rot-hmac', 1);
    const got = receiver.at('/rot-hmac')[0]!;
    expect(got.headers['x-aetherflow-signature']).toBe(createHmac('sha256', 'y'.repeat(40)).update(got.body).digest('hex'));
    expect(got.headers['x-aetherflow-signature-previous']).toBe(createHmac('sha256', oldSecret).update(got.body).digest('hex'));
  });
});
