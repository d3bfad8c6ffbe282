import { createHmac } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver } from './helpers/receiver.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

let herald: TestHerald;

/** Deliveries of tenant `t` to the endpoint whose URL ends with `path`. */
async function deliveriesTo(t: string, path: string): Promise<number> {
  const r = await herald.running.db.query<{ n: number }>(
    `select count(*)::int as n from deliveries d join endpoints e on e.id = d.endpoint_id where d.tenant_id = $1 and e.url like '%' || $2`,
    [t, path],
  );
  return Number(r.rows[0]!.n);
}

/** Waits until no delivery of tenant `t` is pending. */
async function waitAllFinal(t: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const r = await herald.running.db.query<{ n: number }>(`select count(*)::int as n from deliveries where tenant_id = $1 and status = 'pending'`, [t]);
    if (Number(r.rows[0]!.n) === 0) return;
    if (Date.now() > until) throw new Error(`deliveries of ${t} still pending`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

describe('delivery', () => {
  it('POSTs the compact payload with Standard Webhooks headers that standardwebhooks and svix verify', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/std'), headers: { 'X-Custom': 'yes' } });
    expect(ep.secret).toMatch(/^whsec_/);
    const payload = { campaignId: 'c_1', name: 'Spring "sale"', nested: { list: [1, 2.5, null, true], emoji: '🚀' } };
    const pub = await herald.api.publish(t, 'campaign.enqueued', payload);
    expect(pub.status).toBe(202);
    expect(pub.body).toMatchObject({ type: 'campaign.enqueued', deliveries: 1 });

    await receiver.waitForCount('/std', 1);
    const got = receiver.at('/std')[0]!;
    expect(got.body).toBe(JSON.stringify(payload));
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toMatch(/^Herald\/\d+\.\d+\.\d+/);
    expect(got.headers['webhook-id']).toBe(pub.body.id);
    expect(got.headers['x-custom']).toBe('yes');
    const ts = Number(got.headers['webhook-timestamp']);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(10);

    const headers = {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    };
    expect(new StandardWebhook(ep.secret).verify(got.body, headers)).toEqual(payload);
    const svixHeaders = { 'svix-id': headers['webhook-id'], 'svix-timestamp': headers['webhook-timestamp'], 'svix-signature': headers['webhook-signature'] };
    expect(new SvixWebhook(ep.secret).verify(got.body, svixHeaders)).toEqual(payload);
    // and a wrong secret does not verify
    expect(() => new StandardWebhook('whsec_' + Buffer.alloc(32, 7).toString('base64')).verify(got.body, headers)).toThrow();

    const d = await herald.api.get(`/v1/tenants/${t}/events/${pub.body.id}/deliveries`);
    const delivery = await herald.api.waitDelivery(t, d.body.data[0].id, (x) => x.status === 'succeeded');
    expect(delivery.attempts).toBe(1);
    expect(delivery.attemptLog).toHaveLength(1);
    expect(delivery.attemptLog[0].response.status).toBe(200);
    expect(delivery.attemptLog[0].response.body).toBe('ok');
    expect(delivery.attemptLog[0].request.headers['webhook-signature']).toBe(headers['webhook-signature']);
  });

  it('delivers integers beyond 2^53 byte-exact, single and batch', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/bigint') });
    const raw = '{"id": 12345678901234567890, "neg": -98765432109876543210, "safe": 9007199254740991, "small": 1.50, "s": "\\u00e9"}';
    const expected = '{"id":12345678901234567890,"neg":-98765432109876543210,"safe":9007199254740991,"small":1.5,"s":"é"}';
    expect((await herald.api.req('POST', `/v1/tenants/${t}/events`, `{"type": "big.num", "payload": ${raw}}`)).status).toBe(202);
    expect((await herald.api.req('POST', `/v1/tenants/${t}/events/batch`, `{"events": [{"type": "big.num", "payload": ${raw}}]}`)).status).toBe(202);
    await receiver.waitForCount('/bigint', 2);
    for (const got of receiver.at('/bigint')) {
      expect(got.body).toBe(expected);
      expect(() => new StandardWebhook(ep.secret).verify(got.body, got.headers as Record<string, string>)).not.toThrow();
    }
  });

  it('signs with a named header-HMAC in hex or base64 over the raw body', async () => {
    const t = await herald.api.tenant();
    const secret = 'adflow-secret-that-is-long-enough-0123456789';
    await herald.api.endpoint(t, {
      url: receiver.url('/hex'),
      secret,
      signature: { scheme: 'hmac-sha256', header: 'X-AdFlow-Signature' },
    });
    await herald.api.endpoint(t, {
      url: receiver.url('/b64'),
      secret,
      signature: { scheme: 'hmac-sha256', header: 'Signature', encoding: 'base64' },
    });
    await herald.api.publish(t, 'offer.removed', { offerId: 'o_9' });
    await receiver.waitForCount('/hex', 1);
    await receiver.waitForCount('/b64', 1);
    const hex = receiver.at('/hex')[0]!;
    expect(hex.headers['x-adflow-signature']).toBe(createHmac('sha256', secret).update(hex.body).digest('hex'));
    expect(hex.headers['webhook-signature']).toBeUndefined();
    const b64 = receiver.at('/b64')[0]!;
    expect(b64.headers['signature']).toBe(createHmac('sha256', secret).update(b64.body).digest('base64'));
    // A receiver that re-serializes the parsed JSON gets the same bytes: the body is compact JSON.
    expect(JSON.stringify(JSON.parse(b64.body))).toBe(b64.body);
  });

  it('fans out by event-type patterns: exact, prefix.* and * (absent = all), never disabled endpoints', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/f-exact'), eventTypes: ['campaign.enqueued'] });
    await herald.api.endpoint(t, { url: receiver.url('/f-prefix'), eventTypes: ['campaign.*'] });
    await herald.api.endpoint(t, { url: receiver.url('/f-star'), eventTypes: ['*'] });
    await herald.api.endpoint(t, { url: receiver.url('/f-all') });
    await herald.api.endpoint(t, { url: receiver.url('/f-offer'), eventTypes: ['offer.removed'] });
    await herald.api.endpoint(t, { url: receiver.url('/f-off'), disabled: true });

    const a = await herald.api.publish(t, 'campaign.enqueued', { n: 1 });
    const b = await herald.api.publish(t, 'campaign.paused', { n: 2 });
    const c = await herald.api.publish(t, 'offer.removed', { n: 3 });
    const d = await herald.api.publish(t, 'campaigns.other', { n: 4 });
    expect([a.body.deliveries, b.body.deliveries, c.body.deliveries, d.body.deliveries]).toEqual([4, 3, 3, 2]);
    await receiver.waitFor(() => receiver.at('/f-all').length === 4 && receiver.at('/f-star').length === 4);
    await receiver.waitForCount('/f-prefix', 2);
    await receiver.waitForCount('/f-offer', 1);
    // Nothing more can arrive: every delivery the publishes created is final (waiting a fixed time
    // and seeing nothing would prove nothing on a slow worker), and the disabled endpoint has none.
    await waitAllFinal(t);
    expect(await deliveriesTo(t, '/f-off')).toBe(0);
    expect(await deliveriesTo(t, '/f-exact')).toBe(1);
    expect(receiver.at('/f-exact').map((r) => JSON.parse(r.body).n)).toEqual([1]);
    expect(receiver.at('/f-prefix').map((r) => JSON.parse(r.body).n).sort()).toEqual([1, 2]);
    expect(receiver.at('/f-offer').map((r) => JSON.parse(r.body).n)).toEqual([3]);
    expect(receiver.at('/f-off')).toHaveLength(0);
  });

  it('works out the patterns that match a type: *, the type, every prefix.*, and only its own for Herald\'s events', async () => {
    const patterns = async (t: string) => (await herald.running.db.query<{ p: string[] }>('select herald_type_patterns($1) as p', [t])).rows[0]!.p;
    expect(await patterns('campaign.budget.exhausted')).toEqual(['*', 'campaign.budget.exhausted', 'campaign.*', 'campaign.budget.*']);
    expect(await patterns('ping')).toEqual(['*', 'ping']);
    expect(await patterns('a..b')).toEqual(['*', 'a..b', 'a.*', 'a..*']);
    expect(await patterns('webhook.failed')).toEqual(['webhook.failed', 'webhook.*']);
    expect(await patterns('endpoint.disabled')).toEqual(['endpoint.disabled']);
  });

  it('never sends an event to another tenant', async () => {
    const t1 = await herald.api.tenant('One');
    const t2 = await herald.api.tenant('Two');
    await herald.api.endpoint(t1, { url: receiver.url('/t1') });
    await herald.api.endpoint(t2, { url: receiver.url('/t2') });
    await herald.api.publish(t1, 'x.y', { only: 'one' });
    await receiver.waitForCount('/t1', 1);
    // Tenant two has no delivery at all, so nothing can ever be sent to it.
    const rows = await herald.running.db.query<{ n: number }>(`select count(*)::int as n from deliveries where tenant_id = $1`, [t2]);
    expect(Number(rows.rows[0]!.n)).toBe(0);
    expect(receiver.at('/t2')).toHaveLength(0);
  });

  it('sends a test event to one endpoint whatever it subscribes to', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/test-ev'), eventTypes: ['nothing.matches'] });
    await herald.api.endpoint(t, { url: receiver.url('/test-other') });
    const r = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/test`, {});
    expect(r.status).toBe(202);
    expect(r.body.eventType).toBe('herald.test');
    const d = await herald.api.waitDelivery(t, r.body.deliveryId, (x) => x.status === 'succeeded');
    expect(d.endpointId).toBe(ep.id);
    expect(receiver.at('/test-ev')).toHaveLength(1);
    expect(JSON.parse(receiver.at('/test-ev')[0]!.body)).toMatchObject({ test: true });
    expect(receiver.at('/test-other')).toHaveLength(0);
  });

  it('wakes an idle worker on publish (NOTIFY) instead of waiting for the next poll', async () => {
    // a poll interval of 10 s: only the notification can explain a delivery within 2 s
    const idle = await startHerald({ pollIntervalMs: 10_000 });
    try {
      const t = await idle.api.tenant();
      await idle.api.endpoint(t, { url: receiver.url('/fast') });
      await new Promise((r) => setTimeout(r, 300));
      const before = Date.now();
      await idle.api.publish(t, 'a.b', { x: 1 });
      await receiver.waitForCount('/fast', 1, 5_000);
      expect(receiver.at('/fast')[0]!.at - before).toBeLessThan(2_000);
    } finally {
      await idle.stop();
    }
  });
});

describe('fairness', () => {
  it('keeps delivering to healthy endpoints while another endpoint hangs', async () => {
    const small = await startHerald({ endpointConcurrency: 4, workerConcurrency: 16 });
    const slow = await new Receiver().listen();
    slow.respond = () => undefined; // never answers
    try {
      const t = await small.api.tenant();
      await small.api.endpoint(t, { url: slow.url('/hang'), timeoutMs: 10_000, eventTypes: ['jam.*'], retry: { schedule: [] } });
      await small.api.endpoint(t, { url: receiver.url('/healthy'), eventTypes: ['ok.*'] });
      const batch = (type: string) => ({ events: Array.from({ length: 30 }, (_, i) => ({ type, payload: { i } })) });
      await small.api.post(`/v1/tenants/${t}/events/batch`, batch('jam.x'));
      await slow.waitFor(() => slow.received.length >= 4, 10_000, 'the hanging endpoint to fill its cap');
      const start = Date.now();
      await small.api.post(`/v1/tenants/${t}/events/batch`, batch('ok.x'));
      await receiver.waitForCount('/healthy', 30, 9_000);
      // healthy deliveries did not wait behind the hanging endpoint's 10 s timeouts
      expect(receiver.at('/healthy').at(-1)!.at - start).toBeLessThan(9_000);
      // and the hanging endpoint never had more than its cap in flight
      expect(slow.received.length).toBeLessThanOrEqual(4);
    } finally {
      await small.stop();
      await slow.close();
    }
  });
});
