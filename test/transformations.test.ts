import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Receiver } from './helpers/receiver.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

/*
 * Transformations end to end: checked when saved, run by the worker in the
 * QuickJS sandbox before signing, failing attempts (throw, loop, memory)
 * without holding up other endpoints, and tried on sample events.
 */

let herald: TestHerald;
let receiver: Receiver;

// 300 ms, not the 50 ms default: the test machine is shared and a slow
// scheduler must not turn a trivial transformation into a timeout here.
const LIMIT_MS = 300;

beforeAll(async () => {
  herald = await startHerald({ transformTimeoutMs: LIMIT_MS, transformMemoryMb: 16, circuitBreakerFailures: 0 });
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

/** The first delivery of an event, once `pred` holds for it. */
async function deliveryOf(t: string, eventId: string, pred: (d: any) => boolean, timeoutMs = 10_000): Promise<any> {
  const list = await herald.api.get(`/v1/tenants/${t}/events/${eventId}/deliveries`);
  const id = list.body.data?.[0]?.id ?? list.body[0]?.id;
  return herald.api.waitDelivery(t, id, pred, timeoutMs);
}

const RESHAPE = `(webhook) => {
  const { amount, currency } = webhook.payload;
  webhook.payload = { text: 'Paid ' + amount + ' ' + currency, id: webhook.eventId };
  webhook.headers['X-Channel'] = '#billing';
  webhook.eventType = 'slack.message';
  webhook.url = webhook.url + '?source=herald';
  return webhook;
}`;

describe('delivery', () => {
  it('sends the transformed body, headers, type and query, signed over the transformed body', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/reshaped'), headers: { 'X-Static': 'kept' }, transformation: RESHAPE });
    const plain = await herald.api.endpoint(t, { url: receiver.url('/untouched') });
    expect(plain.id).toBeTruthy();
    const pub = await herald.api.publish(t, 'invoice.paid', { amount: 42, currency: 'EUR' });
    expect(pub.status).toBe(202);
    await receiver.waitForCount('/reshaped?source=herald', 1);
    await receiver.waitForCount('/untouched', 1);
    const got = receiver.at('/reshaped?source=herald')[0]!;
    expect(JSON.parse(got.body)).toEqual({ text: 'Paid 42 EUR', id: pub.body.id });
    expect(got.headers['x-channel']).toBe('#billing');
    expect(got.headers['x-static']).toBe('kept');
    expect(got.headers['webhook-event-type']).toBe('slack.message');
    const headers = {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    };
    expect(new StandardWebhook(ep.secret).verify(got.body, headers)).toEqual({ text: 'Paid 42 EUR', id: pub.body.id });
    // the other endpoint got the event as published
    expect(JSON.parse(receiver.at('/untouched')[0]!.body)).toEqual({ amount: 42, currency: 'EUR' });
    expect(receiver.at('/untouched')[0]!.headers['webhook-event-type']).toBeUndefined();
  });

  it('records a throwing transformation as a failed attempt with its message; a fixed one then delivers', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, {
      url: receiver.url('/fixed'),
      retry: { schedule: [1, 1, 1, 1] },
      transformation: '(webhook) => { throw new Error("no amount in " + webhook.eventType) }',
    });
    const pub = await herald.api.publish(t, 'invoice.paid', { amount: 1 });
    const failed = await deliveryOf(t, pub.body.id, (d) => d.attemptLog?.length >= 1);
    expect(failed.status).toBe('pending');
    expect(failed.attemptLog[0].error).toEqual({ code: 'transformation_error', message: 'Error: no amount in invoice.paid (line 1)' });
    expect(failed.attemptLog[0].response?.status ?? null).toBeNull(); // no request was made
    expect(receiver.at('/fixed')).toHaveLength(0);

    const patched = await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { transformation: '(webhook) => { webhook.payload.fixed = true; return webhook }' });
    expect(patched.status).toBe(200);
    await receiver.waitForCount('/fixed', 1);
    expect(JSON.parse(receiver.at('/fixed')[0]!.body)).toEqual({ amount: 1, fixed: true });
    const done = await deliveryOf(t, pub.body.id, (d) => d.status === 'succeeded');
    expect(done.attemptLog.length).toBeGreaterThanOrEqual(2);
  });

  it('ends an endless loop at the time limit without holding up other endpoints', async () => {
    const t = await herald.api.tenant();
    const looping = await herald.api.endpoint(t, { url: receiver.url('/loop'), retry: { schedule: [] }, transformation: '(w) => { for (;;) {} }' });
    await herald.api.endpoint(t, { url: receiver.url(`/beside-plain-${t}`) });
    await herald.api.endpoint(t, { url: receiver.url(`/beside-transformed-${t}`), transformation: '(w) => { w.payload.seen = true; return w }' });
    const N = 6;
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < N; i++) ids.push((await herald.api.publish(t, 'job.queued', { i })).body.id as string);
    // six loops take at least six limits on the one sandbox thread; the others are not in that line
    await receiver.waitForCount(`/beside-plain-${t}`, N, 5_000);
    const plainDone = Date.now() - started;
    await receiver.waitForCount(`/beside-transformed-${t}`, N, 10_000);
    const transformedDone = Date.now() - started;
    expect(plainDone).toBeLessThan(N * LIMIT_MS);
    // round-robin between endpoints: the transformed endpoint waits for about one loop per event, not all six first
    expect(transformedDone).toBeLessThan(N * LIMIT_MS * 2 + 2_000);
    expect(receiver.at(`/beside-transformed-${t}`).every((r) => JSON.parse(r.body).seen === true)).toBe(true);

    for (const id of ids) {
      const d = await herald.api.waitDelivery(t, await deliveryIdFor(t, id, looping.id), (x) => x.status === 'failed', 15_000);
      expect(d.attemptLog[0].error).toEqual({ code: 'transformation_timeout', message: `the transformation ran longer than ${LIMIT_MS} ms` });
    }
    expect(receiver.at('/loop')).toHaveLength(0);
  });

  it('fails a transformation that allocates without bound, and the sandbox serves the next one', async () => {
    const t = await herald.api.tenant();
    const bomb = await herald.api.endpoint(t, {
      url: receiver.url('/bomb'),
      retry: { schedule: [] },
      transformation: '(w) => { const a = []; for (;;) a.push(new Array(100000).fill(a.length)); }',
    });
    const huge = await herald.api.endpoint(t, { url: receiver.url('/huge'), retry: { schedule: [] }, transformation: '(w) => { w.payload = "x".repeat(2 ** 28); return w }' });
    const pub = await herald.api.publish(t, 'job.queued', { n: 1 });
    for (const ep of [bomb.id, huge.id]) {
      const d = await herald.api.waitDelivery(t, await deliveryIdFor(t, pub.body.id, ep), (x) => x.status === 'failed');
      // a bomb ends at the memory cap, or at the time limit if the machine is slow enough that filling 16 MB takes longer
      expect(['transformation_memory', 'transformation_timeout']).toContain(d.attemptLog[0].error.code);
    }
    expect(receiver.at('/bomb')).toHaveLength(0);
    await herald.api.endpoint(t, { url: receiver.url(`/after-bomb-${t}`), transformation: '(w) => w' });
    await herald.api.publish(t, 'job.queued', { n: 2 });
    await receiver.waitForCount(`/after-bomb-${t}`, 1);
  });
});

/** The delivery of `eventId` to endpoint `endpointId`. */
async function deliveryIdFor(t: string, eventId: string, endpointId: string): Promise<string> {
  const r = await herald.api.get(`/v1/tenants/${t}/events/${eventId}/deliveries`);
  const list: any[] = r.body.data ?? r.body;
  const d = list.find((x) => x.endpointId === endpointId);
  if (!d) throw new Error(`no delivery of ${eventId} to ${endpointId}: ${JSON.stringify(r.body)}`);
  return d.id as string;
}

describe('sandbox', () => {
  const tryOut = async (t: string, ep: string, transformation: string, payload: Record<string, unknown> = { a: 1 }) =>
    herald.api.post(`/v1/tenants/${t}/endpoints/${ep}/transformation/test`, { event: { type: 'invoice.paid', payload }, transformation });

  it('has no require, process, network, timers, clock or Math.random', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/sandbox') });
    const r = await tryOut(
      t,
      ep.id,
      `(w) => { w.payload = ['require', 'process', 'fetch', 'XMLHttpRequest', 'setTimeout', 'Date', 'performance', 'WebAssembly', 'std', 'os']
        .map((n) => n + ':' + typeof globalThis[n]).concat('random:' + typeof Math.random); return w }`,
    );
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.request.body)).toEqual([
      'require:undefined', 'process:undefined', 'fetch:undefined', 'XMLHttpRequest:undefined', 'setTimeout:undefined',
      'Date:undefined', 'performance:undefined', 'WebAssembly:undefined', 'std:undefined', 'os:undefined', 'random:undefined',
    ]);
    const importing = await tryOut(t, ep.id, '(w) => { import("fs"); return w }');
    expect(importing.body.request === null || !/fs/.test(importing.body.request.body)).toBe(true);
  });

  it('keeps no state between calls: globals and closures start afresh', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/state') });
    const counters = [
      '(w) => { globalThis.n = (globalThis.n || 0) + 1; w.payload = { n: globalThis.n, leak: ({}).leak ?? null }; Object.prototype.leak = 1; return w }',
      '(() => { let n = 0; return (w) => { n++; w.payload = { n, leak: ({}).leak ?? null }; Object.prototype.leak = 1; return w } })()',
    ];
    for (const source of counters) {
      for (let i = 0; i < 3; i++) {
        const r = await tryOut(t, ep.id, source);
        expect(JSON.parse(r.body.request.body)).toEqual({ n: 1, leak: null });
      }
    }
    // and through the worker too, where calls follow each other on the same thread
    await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { transformation: counters[0] });
    for (let i = 0; i < 3; i++) await herald.api.publish(t, 'job.queued', { i });
    await receiver.waitForCount('/state', 3);
    expect(receiver.at('/state').map((r) => JSON.parse(r.body))).toEqual([{ n: 1, leak: null }, { n: 1, leak: null }, { n: 1, leak: null }]);
  });
});

describe('API', () => {
  it('refuses at save time a transformation that does not parse, is not a function, or is too long (400 naming it)', async () => {
    const t = await herald.api.tenant();
    const bad = async (transformation: unknown) => {
      const r = await herald.api.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/bad'), transformation });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.message).toMatch(/transformation/);
      return r.body.error.message as string;
    };
    expect(await bad('(webhook) => { return webhook')).toMatch(/^transformation: SyntaxError: .+\(line \d+\)$/);
    expect(await bad('42')).toMatch(/must be a function/);
    expect(await bad('(w) => w\n' + '//'.padEnd(70_000, 'x'))).toMatch(/transformation/);
    expect(await bad('')).toMatch(/transformation/);
    expect(await bad(7)).toMatch(/transformation/);
    expect(await bad('(() => { for (;;) {} })()')).toMatch(/ran longer than/);
    // nothing half-written
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints`)).body.data).toHaveLength(0);

    const ep = await herald.api.endpoint(t, { url: receiver.url('/good') });
    const patch = await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { transformation: 'function (' });
    expect(patch.status).toBe(400);
    expect(patch.body.error.message).toMatch(/^transformation: SyntaxError/);
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}`)).body.transformation).toBeNull();
  });

  it('saves, shows, audits and removes a transformation', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/audited') });
    const source = 'function handler(webhook) {\n  webhook.payload.v = 2;\n  return webhook;\n}';
    const saved = await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { transformation: source });
    expect(saved.status).toBe(200);
    expect(saved.body.transformation).toBe(source);
    expect((await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}`)).body.transformation).toBe(source);
    const removed = await herald.api.patch(`/v1/tenants/${t}/endpoints/${ep.id}`, { transformation: null });
    expect(removed.body.transformation).toBeNull();
    const audit = await herald.api.get(`/v1/tenants/${t}/audit-log`);
    const changes = (audit.body.data as any[]).filter((a) => a.action === 'endpoint.updated').map((a) => a.details.changes.transformation);
    expect(changes).toEqual(expect.arrayContaining([{ from: null, to: source }, { from: source, to: null }]));
  });

  it('tries a transformation on a sample event: the signed request, or the error, and sends nothing', async () => {
    const t = await herald.api.tenant();
    const ep = await herald.api.endpoint(t, { url: receiver.url('/tried'), transformation: RESHAPE });
    const saved = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/transformation/test`, { event: { type: 'invoice.paid', payload: { amount: 5, currency: 'USD' } } });
    expect(saved.status).toBe(200);
    expect(saved.body.error).toBeNull();
    const req = saved.body.request;
    expect(req.method).toBe('POST');
    expect(req.url).toBe(receiver.url('/tried') + '?source=herald');
    expect(JSON.parse(req.body)).toEqual({ text: 'Paid 5 USD', id: 'evt_sample' });
    expect(req.headers['x-channel']).toBe('#billing');
    expect(new StandardWebhook(ep.secret).verify(req.body, req.headers)).toEqual({ text: 'Paid 5 USD', id: 'evt_sample' });

    const unsaved = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/transformation/test`, { transformation: '(w) => { w.payload = null.x; return w }' });
    expect(unsaved.status).toBe(200);
    expect(unsaved.body.request).toBeNull();
    expect(unsaved.body.error.code).toBe('transformation_error');
    expect(unsaved.body.error.message).toMatch(/^TypeError: /);
    const wrongShape = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/transformation/test`, { transformation: '(w) => ({ ...w, headers: { "Content-Type": "text/plain" } })' });
    expect(wrongShape.body.error).toEqual({ code: 'transformation_error', message: 'header Content-Type is set by Herald' });
    const offOrigin = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/transformation/test`, { transformation: '(w) => ({ ...w, url: "https://elsewhere.example/x" })' });
    expect(offOrigin.body.error.message).toMatch(/not its origin/);
    const noSource = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/transformation/test`, { transformation: null });
    expect(JSON.parse(noSource.body.request.body)).toEqual({ type: 'herald.test', test: true, message: 'Test event sent from Herald' });
    const badSource = await herald.api.post(`/v1/tenants/${t}/endpoints/${ep.id}/transformation/test`, { transformation: '(w) =>' });
    expect(badSource.status).toBe(400);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.at('/tried')).toHaveLength(0);
    expect(receiver.at('/tried?source=herald')).toHaveLength(0);
  });
});
