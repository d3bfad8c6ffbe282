import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryIdempotencyStore, onceOnly, verify } from '../packages/verify/src/index.js';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver, type Received } from './helpers/receiver.js';

/*
 * docs/recipes.md: platforms moving to Herald keep the webhook contract
 * their customers already verify. Each receiver below is written the way
 * that platform's docs tell customers to write one; none knows Herald.
 */
let herald: TestHerald;
let receiver: Receiver;
/** What each receiver decided, by path. */
const verdicts = new Map<string, string[]>();
/** Receivers answer 500 while their path is in here. */
const down = new Set<string>();

function judge(path: string, verdict: string) {
  verdicts.set(path, [...(verdicts.get(path) ?? []), verdict]);
}

beforeAll(async () => {
  // the breaker would pause the 21-attempt recipe for its cool-down between fast-forwarded attempts
  herald = await startHerald({ circuitBreakerFailures: 0 });
  receiver = await new Receiver().listen();
  receiver.respond = async (r, res) => {
    const ok = await receivers[r.path.split('/')[1]!]?.(r);
    judge(r.path, ok ? 'ok' : 'bad');
    if (down.has(r.path)) return void res.writeHead(500).end('maintenance');
    res.writeHead(ok ? 200 : 401).end(ok ? 'ok' : 'bad signature');
  };
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

const SECRETS = {
  adflow: 'adflow_live_8f3a9c2e7b1d4f6a0c5e9b2d7f1a3c8e',
  offerwall: 'ow-secret-2b7e151628aed2a6abf7158809cf4f3c',
  aetherflow: 'af_whsec_5a1f9e3c7b2d8f4a6c0e1b9d3f7a2c5e8b',
};

/** Receivers as each platform documents them. */
const receivers: Record<string, (r: Received) => boolean | Promise<boolean>> = {
  // AdFlow: "compute the hex HMAC-SHA256 of the raw request body with your secret and compare it
  // to X-AdFlow-Signature using a constant-time comparison"
  adflow(r) {
    const expected = createHmac('sha256', SECRETS.adflow).update(r.body).digest('hex');
    const got = String(r.headers['x-adflow-signature'] ?? '');
    return got.length === expected.length && timingSafeEqual(Buffer.from(got), Buffer.from(expected));
  },
  // OfferWall: "JSON.stringify the parsed body and compare the hex HMAC with the Signature header"
  offerwall(r) {
    const body = JSON.parse(r.body) as unknown;
    return createHmac('sha256', SECRETS.offerwall).update(JSON.stringify(body)).digest('hex') === r.headers['signature'];
  },
  // AetherFlow: "compare the hex digests as buffers with crypto.timingSafeEqual"
  aetherflow(r) {
    const sig = Buffer.from(String(r.headers['x-aetherflow-signature'] ?? ''), 'hex');
    const mac = createHmac('sha256', SECRETS.aetherflow).update(r.body).digest();
    return sig.length === mac.length && timingSafeEqual(sig, mac);
  },
  // ScreenShots: Standard Webhooks via the public library
  screenshots(r) {
    try {
      new Webhook(screenshotSecret).verify(r.body, r.headers as Record<string, string>);
      return true;
    } catch {
      return false;
    }
  },
  // Snapshots: @herald/verify plus dedupe on the event id
  async snapshots(r) {
    const hook = await verify(r.body, r.headers, snapshotSecret);
    await onceOnly(store, hook.id!, async () => processed.push(hook.payload as { offer: { id: string; version: number } }));
    return true;
  },
};
let screenshotSecret = '';
let snapshotSecret = '';
const store = new MemoryIdempotencyStore();
const processed: { offer: { id: string; version: number } }[] = [];

/** Time travel: make a pending delivery due now instead of waiting out its schedule. */
async function fastForward(deliveryId: string): Promise<void> {
  await herald.running.db.query(
    `update queue set due_at = now() where delivery_id = $1 and lease_token is null returning pg_notify('herald_deliveries', '')`,
    [deliveryId],
  );
}

async function onlyDelivery(t: string, eventId: string): Promise<string> {
  const r = await herald.api.get(`/v1/tenants/${t}/events/${eventId}/deliveries`);
  expect(r.body.data).toHaveLength(1);
  return r.body.data[0].id;
}

describe('platform contract recipes', () => {
  it('AdFlow: X-AdFlow-Signature hex HMAC, envelope, retries after 30 s, 1 min, 5 min, then webhook.failed', async () => {
    const t = await herald.api.tenant('AdFlow customer');
    expect(t).toMatch(/^org_/);
    await herald.api.patch(`/v1/tenants/${t}`, {
      settings: {
        envelope: { id: '{{event.id}}', event: '{{event.type}}', occurred_at: '{{event.createdAt}}', organization_id: '{{tenant.id}}', data: '{{payload}}' },
        endpointDefaults: {
          signature: { scheme: 'hmac-sha256', header: 'X-AdFlow-Signature', encoding: 'hex' },
          retry: { schedule: [30, 60, 300], jitter: 0 },
          timeoutMs: 10_000,
        },
      },
    });
    // the customer registers only a URL and a secret of 32+ characters
    const short = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/adflow'), secret: 'too-short' });
    expect(short.status).toBe(400);
    const ep = await herald.api.endpoint(t, { url: receiver.url('/adflow'), secret: SECRETS.adflow, eventTypes: ['campaign.*'] });
    const cfg = (await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}`)).body;
    expect(cfg).toMatchObject({ timeoutMs: 10_000, retry: { schedule: [30, 60, 300] }, signature: { header: 'X-AdFlow-Signature' } });
    const notify = await herald.api.endpoint(t, { url: receiver.url('/adflow/failures'), secret: SECRETS.adflow, eventTypes: ['webhook.failed'] });
    expect(notify.id).toBeTruthy();

    const pub = await herald.api.publish(t, 'campaign.enqueued', { campaignId: 'cmp_1', budget: 1200 });
    await receiver.waitForCount('/adflow', 1);
    const body = JSON.parse(receiver.at('/adflow')[0]!.body);
    expect(body).toEqual({ id: pub.body.id, event: 'campaign.enqueued', occurred_at: pub.body.createdAt, organization_id: t, data: { campaignId: 'cmp_1', budget: 1200 } });
    expect(body.id).toMatch(/^evt_/);
    expect(body.occurred_at).toMatch(/Z$/);
    expect(verdicts.get('/adflow')).toEqual(['ok']);

    // the receiver goes down: exactly 30 s, 60 s and 300 s between attempts, then failed
    down.add('/adflow');
    const second = await herald.api.publish(t, 'campaign.enqueued', { campaignId: 'cmp_2' });
    const id = await onlyDelivery(t, second.body.id);
    for (const [n, delay] of [[1, 30], [2, 60], [3, 300]] as const) {
      const d = await herald.api.waitDelivery(t, id, (x) => x.attempts === n && x.nextAttemptAt !== null);
      expect(Date.parse(d.nextAttemptAt) - Date.parse(d.lastAttemptAt)).toBeGreaterThanOrEqual(delay * 1000 - 50);
      expect(Date.parse(d.nextAttemptAt) - Date.parse(d.lastAttemptAt)).toBeLessThan(delay * 1000 + 1000);
      await fastForward(id);
    }
    const failed = await herald.api.waitDelivery(t, id, (x) => x.status === 'failed');
    expect(failed.attempts).toBe(4);
    await receiver.waitForCount('/adflow/failures', 1);
    const meta = JSON.parse(receiver.at('/adflow/failures')[0]!.body);
    expect(meta).toMatchObject({ event: 'webhook.failed', organization_id: t, data: { data: { deliveryId: id, eventId: second.body.id, attempts: 4 } } });
    const audit = await herald.api.get(`/v1/tenants/${t}/audit-log?action=webhook.failed`);
    expect(audit.body.data.map((e: any) => e.targetId)).toContain(id);
  });

  it('OfferWall: Signature header over JSON.stringify of the parsed body, up to 3 retries', async () => {
    const t = await herald.api.tenant('OfferWall publisher');
    await herald.api.patch(`/v1/tenants/${t}`, {
      settings: {
        envelope: { type: '{{event.type}}', timestamp: '{{event.createdAt}}', data: '{{payload}}' },
        endpointDefaults: { signature: { scheme: 'hmac-sha256', header: 'Signature' }, retry: { schedule: [60, 300, 900] } },
      },
    });
    await herald.api.endpoint(t, { url: receiver.url('/offerwall'), secret: SECRETS.offerwall });
    // unicode, escapes and numbers that JSON.stringify writes one way only
    await herald.api.publish(t, 'offer.removed', { offerId: 'off_ü/"1"', ratio: 0.5, big: 1e21, list: [] });
    await receiver.waitForCount('/offerwall', 1);
    const body = JSON.parse(receiver.at('/offerwall')[0]!.body);
    expect(body).toMatchObject({ type: 'offer.removed', data: { offerId: 'off_ü/"1"' } });
    expect(verdicts.get('/offerwall')).toEqual(['ok']);
    const ep = (await herald.api.get(`/v1/tenants/${t}/endpoints`)).body.data[0];
    expect(ep.retry.schedule).toHaveLength(3);
  });

  it('AetherFlow: X-AetherFlow-Signature hex compared as buffers, 3 retries, 10 s timeout', async () => {
    const t = await herald.api.tenant('AetherFlow workspace');
    await herald.api.patch(`/v1/tenants/${t}`, {
      settings: {
        envelope: { event: '{{event.type}}', id: '{{event.id}}', timestamp: '{{event.createdAt}}', data: '{{payload}}' },
        endpointDefaults: { signature: { scheme: 'hmac-sha256', header: 'X-AetherFlow-Signature' }, retry: { schedule: [10, 60, 300] }, timeoutMs: 10_000 },
      },
    });
    await herald.api.endpoint(t, { url: receiver.url('/aetherflow'), secret: SECRETS.aetherflow });
    const pub = await herald.api.publish(t, 'workflow.completed', { workflowId: 'wf_1', steps: 3 });
    await receiver.waitForCount('/aetherflow', 1);
    expect(JSON.parse(receiver.at('/aetherflow')[0]!.body)).toEqual({
      event: 'workflow.completed',
      id: pub.body.id,
      timestamp: pub.body.createdAt,
      data: { workflowId: 'wf_1', steps: 3 },
    });
    expect(verdicts.get('/aetherflow')).toEqual(['ok']);
    // a wrong secret on the receiver's side is refused
    const r = receiver.at('/aetherflow')[0]!;
    const forged = createHmac('sha256', 'another-secret-of-enough-length-000').update(r.body).digest('hex');
    expect(receivers.aetherflow!({ ...r, headers: { ...r.headers, 'x-aetherflow-signature': forged } })).toBe(false);
  });

  it('ScreenShots: exponential backoff with 20 retries and a nested envelope', async () => {
    const t = await herald.api.tenant('ScreenShots team');
    await herald.api.post('/v1/event-types', {
      name: 'screenshot_set.approved',
      description: 'A screenshot set was approved',
      envelope: { id: '{{event.id}}', type: 'event', created_at: '{{event.createdAt}}', topic: '{{event.type}}', data: { object: '{{payload}}' } },
    });
    const ep = await herald.api.endpoint(t, {
      url: receiver.url('/screenshots'),
      retry: { backoff: 'exponential', initialSeconds: 60, maxSeconds: 6 * 3600, maxRetries: 20, jitter: 0 },
    });
    screenshotSecret = ep.secret;
    const pub = await herald.api.publish(t, 'screenshot_set.approved', { id: 'ss_9', approvedBy: 'u_1' });
    await receiver.waitForCount('/screenshots', 1);
    expect(JSON.parse(receiver.at('/screenshots')[0]!.body)).toEqual({
      id: pub.body.id,
      type: 'event',
      created_at: pub.body.createdAt,
      topic: 'screenshot_set.approved',
      data: { object: { id: 'ss_9', approvedBy: 'u_1' } },
    });
    expect(verdicts.get('/screenshots')).toEqual(['ok']);

    // a dead receiver: 21 attempts in all, the delays doubling from 60 s up to the 6 h ceiling
    down.add('/screenshots');
    const again = await herald.api.publish(t, 'screenshot_set.approved', { id: 'ss_10' });
    const id = await onlyDelivery(t, again.body.id);
    const delays: number[] = [];
    for (let n = 1; n <= 20; n++) {
      const d = await herald.api.waitDelivery(t, id, (x) => x.attempts === n && x.nextAttemptAt !== null);
      delays.push(Math.round((Date.parse(d.nextAttemptAt) - Date.parse(d.lastAttemptAt)) / 1000));
      await fastForward(id);
    }
    const done = await herald.api.waitDelivery(t, id, (x) => x.status === 'failed');
    expect(done.attempts).toBe(21);
    expect(delays.slice(0, 4).map((s) => Math.round(s / 60))).toEqual([1, 2, 4, 8]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(6 * 3600 + 1);
    expect(delays.at(-1)).toBeGreaterThanOrEqual(6 * 3600 - 1);
  }, 60_000);

  it('Snapshots: resource snapshots on create and update, processed once per event id', async () => {
    const t = await herald.api.tenant('Snapshot consumer');
    const ep = await herald.api.endpoint(t, { url: receiver.url('/snapshots'), eventTypes: ['offer.*', 'conversion.registered'] });
    snapshotSecret = ep.secret;
    const created = await herald.api.publish(t, 'offer.created', { offer: { id: 'of_1', version: 1 } });
    await herald.api.publish(t, 'offer.updated', { offer: { id: 'of_1', version: 2 } });
    await receiver.waitForCount('/snapshots', 2);
    // Herald delivers at least once: send the first event again (a manual retry of a delivered event)
    const first = await onlyDelivery(t, created.body.id);
    await herald.api.waitDelivery(t, first, (x) => x.status === 'succeeded');
    expect((await herald.api.post(`/v1/tenants/${t}/deliveries/${first}/retry`)).status).toBe(202);
    await receiver.waitForCount('/snapshots', 3);
    await herald.api.waitDelivery(t, first, (x) => x.status === 'succeeded' && x.attempts === 2);
    expect(receiver.at('/snapshots').map((r) => r.headers['webhook-id'])).toContain(created.body.id);
    expect(processed.map((p) => p.offer.version).sort()).toEqual([1, 2]);
  });
});

describe('recipe receivers refuse forgeries', () => {
  // Runs after the recipes above: each receiver judges a real delivery it accepted, altered.
  const tamper = (body: string) => body.replace(/"data":/, '"data" :');
  for (const name of ['adflow', 'offerwall', 'aetherflow', 'screenshots'] as const) {
    it(`${name}: a tampered body or a signature made with another secret is refused`, async () => {
      const real = receiver.at(`/${name}`)[0]!;
      expect(await receivers[name]!(real)).toBe(true);
      const tampered = { ...real, body: name === 'offerwall' ? real.body.replace(/"type":"/, '"type":"x') : tamper(real.body) };
      expect(await receivers[name]!(tampered)).toBe(false);
      const other = 'a-completely-different-secret-0123456789';
      const forged = { ...real, headers: { ...real.headers } };
      for (const h of ['x-adflow-signature', 'signature', 'x-aetherflow-signature']) {
        if (h in forged.headers) forged.headers[h] = createHmac('sha256', other).update(real.body).digest('hex');
      }
      if (name === 'screenshots') {
        forged.headers['webhook-signature'] = new Webhook('whsec_' + Buffer.from(other).toString('base64')).sign(
          String(real.headers['webhook-id']), new Date(Number(real.headers['webhook-timestamp']) * 1000), real.body,
        );
      }
      expect(await receivers[name]!(forged)).toBe(false);
    });
  }

  it('screenshots: a correctly signed delivery replayed 6 minutes later is refused (stale timestamp)', async () => {
    const real = receiver.at('/screenshots')[0]!;
    const stale = new Date(Date.now() - 6 * 60_000);
    const headers = {
      ...real.headers,
      'webhook-timestamp': String(Math.floor(stale.getTime() / 1000)),
      'webhook-signature': new Webhook(screenshotSecret).sign(String(real.headers['webhook-id']), stale, real.body),
    };
    expect(await receivers.screenshots!({ ...real, headers })).toBe(false);
  });
});

describe('configuration rights', () => {
  it('lets a read-only token read endpoints but not change them', async () => {
    const t = await herald.api.tenant('Network admins only');
    const ep = await herald.api.endpoint(t, { url: receiver.url('/ro') });
    const issued = await herald.api.post(`/v1/tenants/${t}/tokens`, { name: 'analyst', role: 'read' });
    expect(issued.status).toBe(201);
    expect(issued.body.role).toBe('read');
    const ro = herald.api.as(issued.body.token);
    expect((await ro.get(`/v1/tenants/${t}/endpoints`)).body.data).toHaveLength(1);
    expect((await ro.get(`/v1/tenants/${t}/endpoints/${ep.id}`)).status).toBe(200);
    expect((await ro.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/ro2') })).status).toBe(403);
    expect((await ro.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { disabled: true })).status).toBe(403);
    expect((await ro.delete(`/v1/tenants/${t}/endpoints/${ep.id}`)).status).toBe(403);
    expect((await ro.post(`/v1/tenants/${t}/endpoints/${ep.id}/secret/rotate`, {})).status).toBe(403);
    const manage = herald.api.as((await herald.api.post(`/v1/tenants/${t}/tokens`, { name: 'admin' })).body.token);
    expect((await manage.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { description: 'changed' })).status).toBe(200);
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}`)).body.disabled).toBe(false);
  });

  it('refuses envelope templates with unknown placeholders or no payload', async () => {
    const t = await herald.api.tenant();
    const bad = await herald.api.patch(`/v1/tenants/${t}`, { settings: { envelope: { id: '{{event.uuid}}', data: '{{payload}}' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^settings\.envelope: id: unknown placeholder/);
    const none = await herald.api.patch(`/v1/tenants/${t}`, { settings: { envelope: { id: '{{event.id}}' } } });
    expect(none.status).toBe(400);
    expect(none.body.error.message).toMatch(/\{\{payload\}\}/);
  });
});
