import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { metric } from './helpers/metrics.js';
import { Receiver } from './helpers/receiver.js';

let receiver: Receiver;
const failing = new Set<string>();

beforeAll(async () => {
  receiver = await new Receiver().listen();
  receiver.respond = (r, res) => {
    if (r.path.startsWith('/gone')) return void res.writeHead(410).end('gone for good');
    if (failing.has(r.path)) return void res.writeHead(500).end('broken');
    res.writeHead(200).end('ok');
  };
});
afterAll(async () => {
  await receiver?.close();
});

async function onlyDelivery(h: TestHerald, t: string, eventId: string): Promise<string> {
  const r = await h.api.get(`/v1/tenants/${t}/events/${eventId}/deliveries`);
  return r.body.data[0].id;
}

async function waitEndpoint(h: TestHerald, t: string, id: string, pred: (e: any) => boolean): Promise<any> {
  const until = Date.now() + 10_000;
  for (;;) {
    const e = (await h.api.get(`/v1/tenants/${t}/endpoints/${id}`)).body;
    if (pred(e)) return e;
    if (Date.now() > until) throw new Error(`endpoint never matched: ${JSON.stringify(e)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('endpoint health', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startHerald({ endpointDisableAfterFailures: 3, circuitBreakerFailures: 0 });
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('disables an endpoint that answers 410 Gone, audits it and publishes endpoint.disabled', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/gone'), eventTypes: ['order.*'] });
    await herald.api.endpoint(t, { url: receiver.url('/ops'), eventTypes: ['endpoint.disabled'] });
    await herald.api.endpoint(t, { url: receiver.url('/catchall-410') });
    const pub = await herald.api.publish(t, 'order.created', { n: 1 });
    const all = (await herald.api.get(`/v1/tenants/${t}/events/${pub.body.id}/deliveries`)).body.data;
    const d = await herald.api.waitDelivery(t, all.find((x: any) => x.endpointId === ep.id).id, (x) => x.status === 'failed');
    expect(d.attempts).toBe(1);
    const e = await waitEndpoint(herald, t, ep.id, (x) => x.disabled);
    expect(e.disabledReason).toMatch(/410/);
    await receiver.waitForCount('/ops', 1);
    expect(JSON.parse(receiver.at('/ops')[0]!.body)).toMatchObject({ type: 'endpoint.disabled', data: { endpointId: ep.id } });
    // a catch-all subscription does not get operational events
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.at('/catchall-410').map((r) => JSON.parse(r.body))).toEqual([{ n: 1 }]);
    const audit = await herald.api.get(`/v1/tenants/${t}/audit-log?action=endpoint.disabled`);
    expect(audit.body.data[0]).toMatchObject({ actor: 'system', targetId: ep.id });
    // nothing new is sent to it while disabled
    await herald.api.publish(t, 'order.created', { n: 2 });
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.at('/gone')).toHaveLength(1);
  });

  it('disables after N consecutive failures; re-enabling resumes delivery and recover re-sends what failed meanwhile', async () => {
    const t = await herald.api.tenant();
    failing.add('/flappy');
    const since = new Date(Date.now() - 1000).toISOString();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/flappy'), retry: { schedule: [0.05, 0.05, 0.05, 0.05], jitter: 0 } });
    const first = await herald.api.publish(t, 'x.y', { n: 1 });
    const e = await waitEndpoint(herald, t, ep.id, (x) => x.disabled);
    expect(e.disabledReason).toBe('3 consecutive failed attempts');
    expect(receiver.at('/flappy')).toHaveLength(3);
    // the pending delivery is failed once the endpoint is disabled (no request is made)
    const id = await onlyDelivery(herald, t, first.body.id);
    const d = await herald.api.waitDelivery(t, id, (x) => x.status === 'failed');
    expect(d.attempts).toBe(3);
    expect(d.lastError).toBe('endpoint is disabled');
    const whileDisabled = await herald.api.publish(t, 'x.y', { n: 2 });
    expect(whileDisabled.body.deliveries).toBe(0);

    failing.delete('/flappy');
    const enabled = await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { disabled: false });
    expect(enabled.body).toMatchObject({ disabled: false, disabledReason: null });
    await herald.api.publish(t, 'x.y', { n: 3 });
    await receiver.waitFor(() => receiver.at('/flappy').some((r) => JSON.parse(r.body).n === 3), 5_000, 'n=3');
    const rec = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/recover`, { since });
    expect(rec.body.recovered).toBe(1);
    await herald.api.waitDelivery(t, id, (x) => x.status === 'succeeded');
    const audit = await herald.api.get(`/v1/tenants/${t}/audit-log`);
    const actions = audit.body.data.map((a: any) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['endpoint.disabled', 'endpoint.enabled', 'endpoint.recovered']));
  });

  it('forgets the failures on record after a success that a publish handed straight to the worker', async () => {
    const t = await herald.api.tenant();
    failing.add('/recovering');
    // no retry comes before the test ends: only fresh publishes reach the endpoint
    const ep = await herald.api.endpoint(t, { url: receiver.url('/recovering'), retry: { schedule: [3600], jitter: 0 } });
    const health = async () =>
      (await herald.running.db.query<{ n: number; since: string | null }>('select consecutive_failures as n, failing_since::text as since from endpoints where id = $1', [ep.id])).rows[0]!;
    for (let n = 1; n <= 2; n++) {
      await herald.api.publish(t, 'x.y', { n });
      await receiver.waitForCount('/recovering', n);
      const until = Date.now() + 10_000;
      while ((await health()).n < n && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect((await health()).n).toBe(n);
    }
    expect((await health()).since).not.toBeNull();

    failing.delete('/recovering');
    const taken = async () => metric(await (await fetch(`${herald.url}/metrics`)).text(), 'herald_deliveries_taken_total', 'via="handoff"');
    const handedBefore = await taken();
    const ok = await herald.api.publish(t, 'x.y', { n: 3 });
    await herald.api.waitDelivery(t, await onlyDelivery(herald, t, ok.body.id), (x) => x.status === 'succeeded');
    // it went by the hand-off, which carries the endpoint's health as the publish read it
    expect(await taken()).toBe(handedBefore + 1);
    const until = Date.now() + 10_000;
    while ((await health()).n > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(await health()).toEqual({ n: 0, since: null });
    // and one more failure is one, not three: the endpoint stays enabled
    failing.add('/recovering');
    await herald.api.publish(t, 'x.y', { n: 4 });
    await receiver.waitForCount('/recovering', 4);
    await new Promise((r) => setTimeout(r, 300));
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}`)).body.disabled).toBe(false);
    failing.delete('/recovering');
  });
});

describe('circuit breaker and failing-for-too-long', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startHerald({ circuitBreakerFailures: 3, circuitBreakerCooldownSeconds: 2, endpointDisableAfterSeconds: 0 });
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('pauses an endpoint after repeated failures and closes again after a success', async () => {
    const t = await herald.api.tenant();
    failing.add('/breaker');
    const ep = await herald.api.endpoint(t, { url: receiver.url('/breaker'), retry: { schedule: [0.05, 0.05, 0.05, 0.05, 0.05, 0.05], jitter: 0 } });
    await herald.api.publish(t, 'x.y', { n: 1 });
    await receiver.waitForCount('/breaker', 3);
    const opened = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    // open: nothing is sent during the cool-down although retries are due every 50 ms
    expect(receiver.at('/breaker')).toHaveLength(3);
    failing.delete('/breaker');
    await receiver.waitForCount('/breaker', 4, 8_000);
    expect(receiver.at('/breaker')[3]!.at - opened).toBeGreaterThanOrEqual(1_500);
    const e = await waitEndpoint(herald, t, ep.id, (x) => !x.disabled);
    expect(e.disabled).toBe(false);
    // closed again: the next event goes straight through
    const t0 = Date.now();
    await herald.api.publish(t, 'x.y', { n: 2 });
    await receiver.waitForCount('/breaker', 5, 5_000);
    expect(receiver.at('/breaker')[4]!.at - t0).toBeLessThan(1_500);
  });

  it('disables an endpoint that has only failed for longer than the configured time', async () => {
    const quick = await startHerald({ endpointDisableAfterSeconds: 1, circuitBreakerFailures: 0 });
    try {
      const t = await quick.api.tenant();
      failing.add('/long-fail');
      const ep = await quick.api.endpoint(t, { url: receiver.url('/long-fail'), retry: { schedule: [0.4, 0.4, 0.4, 0.4, 0.4], jitter: 0 } });
      await quick.api.publish(t, 'x.y', {});
      const e = await waitEndpoint(quick, t, ep.id, (x) => x.disabled);
      expect(e.disabledReason).toMatch(/^only failures since/);
    } finally {
      await quick.stop();
    }
  });
});
