import { closedPort } from './helpers/process.js';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queryable } from '../src/db/db.js';
import { registerOperatorGauges } from '../src/api/operator/gauges.js';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

/**
 * The operator view across tenants (GET /v1/operator/overview) and the same
 * figures on /metrics: two tenants, one endpoint refusing connections (its
 * circuit opens), one answering 500 that holds an ordered delivery back in
 * the queue, one healthy.
 */

let herald: TestHerald;
let receiver: Receiver;
let alpha: string;
let beta: string;
let refused: string;
let down: string;
let closedUrl: string;


async function overviewWhen(pred: (o: any) => boolean, timeoutMs = 15_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await herald.api.get('/v1/operator/overview');
    expect(r.status).toBe(200);
    if (pred(r.body)) return r.body;
    if (Date.now() > until) throw new Error(`overview never matched: ${JSON.stringify(r.body)}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

beforeAll(async () => {
  herald = await startHerald({ circuitBreakerFailures: 2, circuitBreakerCooldownSeconds: 600 });
  receiver = await new Receiver().listen();
  receiver.respond = (r, res) => {
    if (r.path === '/down') res.writeHead(500, { 'content-type': 'text/plain' }).end('down for maintenance');
    else res.writeHead(200).end('ok');
  };
  alpha = await herald.api.tenant('Alpha');
  beta = await herald.api.tenant('Beta');
  closedUrl = `http://127.0.0.1:${await closedPort()}/hook`;
  refused = (await herald.api.endpoint(alpha, { url: closedUrl, eventTypes: ['gone.*'], retry: { schedule: [] } })).id;
  down = (await herald.api.endpoint(beta, { url: receiver.url('/down'), eventTypes: ['down.*'], ordered: true, retry: { schedule: [600] } })).id;
  await herald.api.endpoint(beta, { url: receiver.url('/ok'), eventTypes: ['ok.*'] });

  for (let i = 0; i < 2; i++) expect((await herald.api.publish(alpha, 'gone.thing', { i })).status).toBe(202);
  // Ordered: the first fails and waits 600 s for its retry; the second is due and held back behind it.
  for (let i = 0; i < 2; i++) expect((await herald.api.publish(beta, 'down.thing', { i })).status).toBe(202);
  for (let i = 0; i < 3; i++) expect((await herald.api.publish(beta, 'ok.thing', { i })).status).toBe(202);
  await receiver.waitForCount('/down', 1);
  await receiver.waitForCount('/ok', 3);
}, 30_000);

afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

describe('GET /v1/operator/overview', () => {
  it('lists the failing endpoints of every tenant with since when and the last error, and counts open circuits', async () => {
    const o = await overviewWhen((b) => b.endpointsFailing === 2 && b.circuitsOpen === 1);
    expect(o.failingTruncated).toBe(false);
    // no HERALD_ALERT_WEBHOOK_URL: alerting is off, and nothing is queued for it (test/alerts.test.ts has it on)
    expect(o.alerts).toEqual({ configured: false, target: null, afterFailures: 5, intervalSeconds: 30, pending: 0, recent: [] });
    const byId = new Map<string, any>(o.failing.map((f: any) => [f.endpointId, f]));
    const a = byId.get(refused);
    expect(a).toMatchObject({ tenantId: alpha, tenantName: 'Alpha', url: closedUrl, disabled: false, consecutiveFailures: 2, lastStatus: null });
    expect(a.lastErrorCode).toMatch(/connect/);
    expect(a.lastError).toBeTruthy();
    expect(Date.parse(a.failingSince)).toBeLessThanOrEqual(Date.parse(a.lastAttemptAt));
    expect(Date.parse(a.circuitOpenUntil)).toBeGreaterThan(Date.now() + 500_000);
    const b = byId.get(down);
    expect(b).toMatchObject({ tenantId: beta, tenantName: 'Beta', url: receiver.url('/down'), consecutiveFailures: 1, lastStatus: 500, lastError: null, circuitOpenUntil: null });
    expect(typeof b.failingSince).toBe('string');
    // Most recent attempt first.
    const times = o.failing.map((f: any) => Date.parse(f.lastAttemptAt));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
  });

  it('gives the oldest due delivery not under a lease, with its age', async () => {
    const held = await herald.api.get(`/v1/tenants/${beta}/deliveries?endpointId=${down}&status=pending`);
    const ids = (held.body.data as any[]).map((d) => d.id);
    const o = await overviewWhen((b) => b.oldestDue !== null && b.oldestDue.ageSeconds >= 1);
    expect(o.oldestDue).toMatchObject({ tenantId: beta, endpointId: down, writtenOut: true });
    expect(ids).toContain(o.oldestDue.deliveryId);
    const delivery = (await herald.api.get(`/v1/tenants/${beta}/deliveries/${o.oldestDue.deliveryId}`)).body;
    expect(o.oldestDue.eventId).toBe(delivery.eventId);
    expect(Math.abs(Date.now() - Date.parse(o.oldestDue.dueAt) - o.oldestDue.ageSeconds * 1000)).toBeLessThan(2_000);
  });

  it('counts attempts per minute over the last hour, every minute present', async () => {
    const o = (await herald.api.get('/v1/operator/overview')).body;
    expect(o.perMinute).toHaveLength(60);
    const starts = o.perMinute.map((m: any) => Date.parse(m.start));
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBe(60_000);
    expect(Date.now() - starts[59]).toBeLessThan(60_000);
    const sum = (k: string) => o.perMinute.reduce((n: number, m: any) => n + m[k], 0);
    expect(sum('attempts')).toBe(2 + 1 + 3);
    expect(sum('succeeded')).toBe(3);
    expect(sum('failed')).toBe(3);
  });

  it('is for the admin only: a tenant token gets 403', async () => {
    const token = (await herald.api.post(`/v1/tenants/${alpha}/tokens`, { name: 'ops' })).body.token as string;
    const r = await herald.api.as(token).get('/v1/operator/overview');
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('forbidden');
    expect((await herald.api.as('nope').get('/v1/operator/overview')).status).toBe(401);
  });
});

/** The value of an unlabelled sample in a Prometheus text exposition. */
const sample = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

describe('/metrics', () => {
  it('carries the same figures as gauges, read at scrape time', async () => {
    const text = (await herald.api.get('/metrics')).body as string;
    const value = (name: string) => sample(text, name);
    expect(value('herald_endpoints_failing')).toBe(2);
    expect(value('herald_circuits_open')).toBe(1);
    expect(value('herald_queue_oldest_due_age_seconds')).toBeGreaterThanOrEqual(1);
    expect(value('herald_queue_due_deliveries')).toBeGreaterThanOrEqual(1);
    // one name per figure: the oldest due delivery's age was once published twice
    expect(text).not.toMatch(/herald_oldest_due_delivery_age_seconds/);
  });

  it('reads every installation gauge in one statement, once per second however often it is scraped', async () => {
    let statements = 0;
    const db = herald.running.db;
    const counting: Queryable = {
      query: (sql, params, name) => {
        statements++;
        return db.query(sql, params, name);
      },
      exec: (sql) => db.exec(sql),
    };
    const registry = new Registry();
    registerOperatorGauges(registry, counting);
    const scrape = async () => {
      const text = await registry.metrics();
      return (name: string) => sample(text, name);
    };
    const first = await scrape();
    const second = await scrape();
    expect(statements).toBe(1);
    for (const name of ['herald_queue_due_deliveries', 'herald_queue_oldest_due_age_seconds', 'herald_endpoints_failing', 'herald_circuits_open']) {
      expect(first(name), name).toBe(second(name));
    }
    expect(first('herald_endpoints_failing')).toBe(2);
    await new Promise((ok) => setTimeout(ok, 1_100));
    await scrape();
    expect(statements).toBe(2);
  });
});
