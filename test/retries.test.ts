import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver } from './helpers/receiver.js';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { closedPort } from './helpers/process.js';

let herald: TestHerald;
let receiver: Receiver;

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
  receiver.respond = (r, res, n) => {
    const fail = (code: number, headers: Record<string, string> = {}, body = 'nope') => void res.writeHead(code, headers).end(body);
    if (r.path.startsWith('/down')) return fail(500, {}, 'receiver is down');
    if (r.path === '/retry-after-seconds' && n === 1) return fail(429, { 'retry-after': '1' });
    if (r.path === '/retry-after-date' && n === 1) return fail(503, { 'retry-after': new Date(Date.now() + 2000).toUTCString() });
    if (r.path === '/retry-after-huge' && n === 1) return fail(429, { 'retry-after': '999999' });
    if (r.path === '/redirect') return fail(302, { location: 'http://169.254.169.254/latest/meta-data/' });
    if (r.path === '/hang') return; // never answers: the attempt times out
    if (r.path.startsWith('/flaky') && n <= 2) return fail(500);
    res.writeHead(200).end('ok');
  };
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

async function deliveryOf(t: string, eventId: string): Promise<string> {
  const r = await herald.api.get(`/v1/tenants/${t}/events/${eventId}/deliveries`);
  return r.body.data[0].id;
}

describe('retries', () => {
  it('makes exactly 1 + schedule.length attempts, then fails and publishes webhook.failed to subscribers only', async () => {
    const t = await herald.api.tenant();
    const down = await herald.api.endpoint(t, { url: receiver.url('/down-1'), retry: { schedule: [0.2, 0.3], jitter: 0 } });
    await herald.api.endpoint(t, { url: receiver.url('/meta-failed'), eventTypes: ['webhook.failed'] });
    await herald.api.endpoint(t, { url: receiver.url('/meta-catchall'), eventTypes: ['*'] });
    const pub = await herald.api.publish(t, 'workflow.failed', { run: 7 });
    // '/meta-catchall' gets the event itself but never meta events; '/meta-failed' does not subscribe to workflow.*
    expect(pub.body.deliveries).toBe(2);
    const all = await herald.api.get(`/v1/tenants/${t}/events/${pub.body.id}/deliveries`);
    const delivery = all.body.data.find((d: any) => d.endpointId === down.id);
    const d = await herald.api.waitDelivery(t, delivery.id, (x) => x.status === 'failed');
    expect(d.attempts).toBe(3);
    expect(d.attemptLog.map((a: any) => a.response.status)).toEqual([500, 500, 500]);
    expect(d.attemptLog[2].response.body).toBe('receiver is down');
    expect(d.lastStatus).toBe(500);
    const times = receiver.at('/down-1').map((r) => r.at);
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(190);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(290);
    // and nothing more arrives
    await new Promise((r) => setTimeout(r, 600));
    expect(receiver.at('/down-1')).toHaveLength(3);

    await receiver.waitForCount('/meta-failed', 1);
    const meta = JSON.parse(receiver.at('/meta-failed')[0]!.body);
    expect(meta).toMatchObject({ type: 'webhook.failed', data: { deliveryId: delivery.id, eventId: pub.body.id, eventType: 'workflow.failed', attempts: 3, lastStatus: 500 } });
    expect(receiver.at('/meta-catchall').map((r) => JSON.parse(r.body))).toEqual([{ run: 7 }]);

    const audit = await herald.api.get(`/v1/tenants/${t}/audit-log?action=webhook.failed`);
    expect(audit.body.data.some((e: any) => e.targetId === delivery.id)).toBe(true);
  });

  it('publishes webhook.delivered only to endpoints that name it', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/ok-target'), eventTypes: ['order.*'] });
    await herald.api.endpoint(t, { url: receiver.url('/meta-delivered'), eventTypes: ['webhook.delivered'] });
    await herald.api.endpoint(t, { url: receiver.url('/meta-wild'), eventTypes: ['webhook.*'] });
    const pub = await herald.api.publish(t, 'order.paid', { order: 1 });
    await receiver.waitForCount('/meta-delivered', 1);
    await receiver.waitForCount('/meta-wild', 1);
    expect(JSON.parse(receiver.at('/meta-delivered')[0]!.body)).toMatchObject({ type: 'webhook.delivered', data: { eventId: pub.body.id } });
    // The meta events' own deliveries never produce further meta events (no recursion).
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.at('/meta-delivered')).toHaveLength(1);
    expect(receiver.at('/meta-wild')).toHaveLength(1);
  });

  it('counts attempts exactly for exponential backoff and for network failures', async () => {
    const t = await herald.api.tenant();
    const closed = await closedPort();
    await herald.api.endpoint(t, {
      url: receiver.url('/down-exp'),
      retry: { backoff: 'exponential', initialSeconds: 0.05, maxSeconds: 0.2, maxRetries: 3, jitter: 0 },
      eventTypes: ['exp.*'],
    });
    await herald.api.endpoint(t, { url: `http://127.0.0.1:${closed}/refused`, retry: { schedule: [0.05, 0.05], jitter: 0 }, eventTypes: ['refused.*'] });
    await herald.api.endpoint(t, { url: receiver.url('/hang'), retry: { schedule: [0.05], jitter: 0 }, timeoutMs: 300, eventTypes: ['hang.*'] });
    const a = await herald.api.publish(t, 'exp.x', { a: 1 });
    const b = await herald.api.publish(t, 'refused.x', { b: 1 });
    const c = await herald.api.publish(t, 'hang.x', { c: 1 });
    const da = await herald.api.waitDelivery(t, await deliveryOf(t, a.body.id), (x) => x.status === 'failed');
    const db = await herald.api.waitDelivery(t, await deliveryOf(t, b.body.id), (x) => x.status === 'failed');
    const dc = await herald.api.waitDelivery(t, await deliveryOf(t, c.body.id), (x) => x.status === 'failed');
    expect(da.attempts).toBe(4);
    expect(da.attemptLog).toHaveLength(4);
    expect(db.attempts).toBe(3);
    expect(db.attemptLog.map((x: any) => x.error?.code)).toEqual(['connect_refused', 'connect_refused', 'connect_refused']);
    expect(dc.attempts).toBe(2);
    expect(dc.attemptLog.map((x: any) => x.error?.code)).toEqual(['timeout', 'timeout']);
    expect(dc.attemptLog[0].durationMs).toBeGreaterThanOrEqual(280);
  });

  it('honours Retry-After in seconds and as an HTTP date, capped by configuration', async () => {
    const t = await herald.api.tenant();
    const retry = { schedule: [0.05, 0.05], jitter: 0 };
    await herald.api.endpoint(t, { url: receiver.url('/retry-after-seconds'), retry, eventTypes: ['s.*'] });
    await herald.api.endpoint(t, { url: receiver.url('/retry-after-date'), retry, eventTypes: ['d.*'] });
    await herald.api.publish(t, 's.x', {});
    await herald.api.publish(t, 'd.x', {});
    await receiver.waitForCount('/retry-after-seconds', 2, 8_000);
    await receiver.waitForCount('/retry-after-date', 2, 8_000);
    const s = receiver.at('/retry-after-seconds');
    expect(s[1]!.at - s[0]!.at).toBeGreaterThanOrEqual(950);
    const d = receiver.at('/retry-after-date');
    // an HTTP date has one-second resolution: two seconds ahead is at least one second away
    expect(d[1]!.at - d[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('caps a huge Retry-After at retryAfterMaxSeconds', async () => {
    const capped = await startHerald({ retryAfterMaxSeconds: 1 });
    try {
      const t = await capped.api.tenant();
      await capped.api.endpoint(t, { url: receiver.url('/retry-after-huge'), retry: { schedule: [0.05], jitter: 0 } });
      await capped.api.publish(t, 'h.x', {});
      await receiver.waitForCount('/retry-after-huge', 2, 8_000);
      const h = receiver.at('/retry-after-huge');
      expect(h[1]!.at - h[0]!.at).toBeGreaterThanOrEqual(950);
      expect(h[1]!.at - h[0]!.at).toBeLessThan(4_000);
    } finally {
      await capped.stop();
    }
  });

  it('never follows redirects', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/redirect'), retry: { schedule: [] } });
    const pub = await herald.api.publish(t, 'r.x', {});
    const d = await herald.api.waitDelivery(t, await deliveryOf(t, pub.body.id), (x) => x.status === 'failed');
    expect(d.attempts).toBe(1);
    expect(d.attemptLog[0].response.status).toBe(302);
    expect(receiver.at('/latest/meta-data/')).toHaveLength(0);
  });

  it('retries by hand once (never rescheduled) and recovers failed deliveries since a time', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/down-manual'), retry: { schedule: [] } });
    const since = new Date(Date.now() - 1000).toISOString();
    const p1 = await herald.api.publish(t, 'm.x', { i: 1 });
    const p2 = await herald.api.publish(t, 'm.x', { i: 2 });
    const d1 = await deliveryOf(t, p1.body.id);
    const d2 = await deliveryOf(t, p2.body.id);
    await herald.api.waitDelivery(t, d1, (x) => x.status === 'failed');
    await herald.api.waitDelivery(t, d2, (x) => x.status === 'failed');

    // a manual retry against a still-failing receiver: one more attempt, then failed again
    const r = await herald.api.post(`/v1/tenants/${t}/deliveries/${d1}/retry`);
    expect(r.status).toBe(202);
    const after = await herald.api.waitDelivery(t, d1, (x) => x.status === 'failed' && x.attempts === 2);
    await new Promise((res) => setTimeout(res, 400));
    expect((await herald.api.get(`/v1/tenants/${t}/deliveries/${d1}`)).body.attempts).toBe(after.attempts);

    // the receiver comes back: point the endpoint at a healthy path, then recover
    await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { url: receiver.url('/healthy-again') });
    const rec = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/recover`, { since });
    expect(rec.status).toBe(202);
    expect(rec.body.recovered).toBe(2);
    await herald.api.waitDelivery(t, d1, (x) => x.status === 'succeeded');
    await herald.api.waitDelivery(t, d2, (x) => x.status === 'succeeded');
    expect(receiver.at('/healthy-again').map((x) => JSON.parse(x.body).i).sort()).toEqual([1, 2]);
    // the same webhook-id as the failed attempts: receivers dedupe on it
    expect(receiver.at('/healthy-again').map((x) => x.headers['webhook-id']).sort()).toEqual([p1.body.id, p2.body.id].sort());
  });

  it('keeps webhook-id across attempts and moves webhook-timestamp forward', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/flaky-ids'), retry: { schedule: [1.1, 0.1], jitter: 0 } });
    const pub = await herald.api.publish(t, 'f.x', {});
    await receiver.waitForCount('/flaky-ids', 3, 8_000);
    const got = receiver.at('/flaky-ids');
    expect(new Set(got.map((g) => g.headers['webhook-id']))).toEqual(new Set([pub.body.id]));
    expect(Number(got[1]!.headers['webhook-timestamp'])).toBeGreaterThan(Number(got[0]!.headers['webhook-timestamp']));
    expect(new Set(got.map((g) => g.body)).size).toBe(1);
  });
});
