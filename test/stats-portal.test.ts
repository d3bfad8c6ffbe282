import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portalSigningKey, signPortalToken } from '../src/security/portal-tokens.js';
import { hashToken } from '../src/security/tokens.js';
import { ADMIN_TOKEN, startHerald, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

/**
 * Stats routes (numbers computed in SQL from real deliveries, checked against
 * the attempt log) and customer portal links (signed, expiring, one tenant).
 */

let herald: TestHerald;

/** The incarnation and portal generation a link for `tenantId` must carry. */
async function boundTo(tenantId: string): Promise<{ incarnation: string; generation: number }> {
  const r = await herald.running.db.query<{ i: string; g: number }>(`select incarnation::text as i, portal_generation as g from tenants where id = $1`, [tenantId]);
  return { incarnation: r.rows[0]!.i, generation: Number(r.rows[0]!.g) };
}
let receiver: Receiver;
let tenant: string;
let other: string;
let okEndpoint: string;
let badEndpoint: string;
let otherEndpoint: string;
const attemptDurations: number[] = [];

/** percentile_cont: linear interpolation between the two nearest ranks. */
function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const rank = p * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo]! + (s[hi]! - s[lo]!) * (rank - lo);
}

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
  receiver.respond = (r, res) => {
    // A little latency so the percentiles are not all zero.
    setTimeout(() => {
      if (r.path === '/bad') res.writeHead(500, { 'content-type': 'text/plain' }).end('down for maintenance');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }, r.path === '/bad' ? 5 : 25);
  };
  tenant = await herald.api.tenant('Stats');
  other = await herald.api.tenant('Other');
  okEndpoint = (await herald.api.endpoint(tenant, { url: receiver.url('/ok'), eventTypes: ['good.*'] })).id;
  // No retries: one attempt, then failed for good.
  badEndpoint = (await herald.api.endpoint(tenant, { url: receiver.url('/bad'), eventTypes: ['bad.*'], retry: { schedule: [] } })).id;
  otherEndpoint = (await herald.api.endpoint(other, { url: receiver.url('/other') })).id;

  const published: string[] = [];
  for (let i = 0; i < 3; i++) published.push((await herald.api.publish(tenant, 'good.thing', { i })).body.id);
  for (let i = 0; i < 2; i++) published.push((await herald.api.publish(tenant, 'bad.thing', { i })).body.id);
  await herald.api.publish(other, 'good.thing', { secret: 'of the other tenant' });
  await receiver.waitForCount('/ok', 3);
  await receiver.waitForCount('/bad', 2);
  await receiver.waitForCount('/other', 1);
  for (const eventId of published) {
    const ds = await herald.api.get(`/v1/tenants/${tenant}/events/${eventId}/deliveries`);
    const d = await herald.api.waitDelivery(tenant, ds.body.data[0].id, (x) => x.status !== 'pending');
    for (const a of d.attemptLog) attemptDurations.push(a.durationMs);
  }
});

afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

describe('GET /v1/tenants/:tenantId/stats', () => {
  it('counts deliveries and attempts and computes latency percentiles from the attempts', async () => {
    const r = await herald.api.get(`/v1/tenants/${tenant}/stats?bucket=1h`);
    expect(r.status).toBe(200);
    const t = r.body.totals;
    expect(t).toMatchObject({ succeeded: 3, failed: 2, pending: 0, attempts: 5, attemptsSucceeded: 3, attemptsFailed: 2, successRate: 0.6 });
    expect(attemptDurations).toHaveLength(5);
    expect(t.p50Ms).toBeCloseTo(percentile(attemptDurations, 0.5), 1);
    expect(t.p95Ms).toBeCloseTo(percentile(attemptDurations, 0.95), 1);
    expect(t.p99Ms).toBeCloseTo(percentile(attemptDurations, 0.99), 1);

    // 24 hourly buckets (25 when the window does not start on the hour), summing to the totals.
    expect(r.body.bucket).toBe('1h');
    expect(r.body.series.length).toBeGreaterThanOrEqual(24);
    expect(r.body.series.length).toBeLessThanOrEqual(25);
    const sum = (k: string) => r.body.series.reduce((n: number, p: Record<string, number>) => n + p[k]!, 0);
    expect(sum('succeeded')).toBe(3);
    expect(sum('failed')).toBe(2);
    expect(sum('attempts')).toBe(5);
    const busy = r.body.series.filter((p: { attempts: number }) => p.attempts > 0);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const p of busy) expect(p.p95Ms).toBeGreaterThan(0);
    // Buckets are aligned to whole hours and contiguous.
    for (const [i, p] of r.body.series.entries()) {
      expect(Date.parse(p.start) % 3_600_000).toBe(0);
      if (i > 0) expect(Date.parse(p.start) - Date.parse(r.body.series[i - 1].start)).toBe(3_600_000);
    }
  });

  it('lists the health of each endpoint: success rate, p95 and last attempt', async () => {
    const r = await herald.api.get(`/v1/tenants/${tenant}/stats`);
    expect(r.status).toBe(200);
    const byId = new Map(r.body.endpoints.map((e: { endpointId: string }) => [e.endpointId, e]));
    expect([...byId.keys()].sort()).toEqual([okEndpoint, badEndpoint].sort());
    expect(byId.get(okEndpoint)).toMatchObject({ attempts: 3, attemptsSucceeded: 3, successRate: 1, disabled: false, lastAttempt: { status: 200, succeeded: true } });
    expect(byId.get(badEndpoint)).toMatchObject({ attempts: 2, attemptsSucceeded: 0, successRate: 0, lastAttempt: { status: 500, succeeded: false } });
    expect((byId.get(okEndpoint) as { p95Ms: number }).p95Ms).toBeGreaterThanOrEqual(20);
    expect(r.body.endpointsTruncated).toBe(false);
  });

  it('keeps to its window: a window before the deliveries is empty', async () => {
    const until = new Date(Date.now() - 3600_000).toISOString();
    const since = new Date(Date.now() - 7200_000).toISOString();
    const r = await herald.api.get(`/v1/tenants/${tenant}/stats?since=${since}&until=${until}&bucket=5m`);
    expect(r.status).toBe(200);
    expect(r.body.totals).toMatchObject({ succeeded: 0, failed: 0, attempts: 0, successRate: null, p50Ms: null });
    expect(r.body.series.length).toBeGreaterThanOrEqual(12);
    expect(r.body.series.every((p: { attempts: number; p95Ms: unknown }) => p.attempts === 0 && p.p95Ms === null)).toBe(true);
  });
});

describe('GET /v1/tenants/:tenantId/endpoints/:endpointId/stats', () => {
  it('counts only that endpoint', async () => {
    const ok = await herald.api.get(`/v1/tenants/${tenant}/endpoints/${okEndpoint}/stats?bucket=15m`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ endpointId: okEndpoint, bucket: '15m', totals: { succeeded: 3, failed: 0, attempts: 3, successRate: 1 } });
    expect(ok.body.lastAttempt).toMatchObject({ status: 200, errorCode: null, succeeded: true });
    const bad = await herald.api.get(`/v1/tenants/${tenant}/endpoints/${badEndpoint}/stats`);
    expect(bad.body.totals).toMatchObject({ succeeded: 0, failed: 2, attempts: 2, attemptsFailed: 2, successRate: 0 });
    expect(bad.body.lastAttempt).toMatchObject({ status: 500, succeeded: false });
  });

  it('answers 404 for an endpoint of another tenant', async () => {
    const r = await herald.api.get(`/v1/tenants/${tenant}/endpoints/${otherEndpoint}/stats`);
    expect(r.status).toBe(404);
  });
});

describe('stats validation', () => {
  const cases: [string, string][] = [
    ['bucket=2h', 'bucket'],
    ['bucket=', 'bucket'],
    ['since=yesterday', 'since'],
    ['until=2024-13-45T00:00:00Z', 'until'],
    [`since=${new Date(Date.now() + 3600_000).toISOString()}`, 'since'],
    [`since=${new Date(Date.now() - 30 * 86_400_000).toISOString()}&bucket=1m`, 'bucket'],
  ];
  for (const [query, field] of cases) {
    it(`${query} → 400 naming ${field}`, async () => {
      for (const path of [`/v1/tenants/${tenant}/stats`, `/v1/tenants/${tenant}/endpoints/${okEndpoint}/stats`]) {
        const r = await herald.api.get(`${path}?${query}`);
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('validation_error');
        expect(r.body.error.message).toContain(field);
        expect(JSON.stringify(r.body.error.details)).toContain(field);
      }
    });
  }

  it('answers 404 for a tenant that does not exist', async () => {
    expect((await herald.api.get(`/v1/tenants/nope/stats`)).status).toBe(404);
  });
});

describe('portal links', () => {
  async function link(tenantId: string, body: Record<string, unknown> = {}) {
    const r = await herald.api.post(`/v1/tenants/${tenantId}/portal-links`, body);
    expect(r.status).toBe(201);
    return r.body as { url: string; token: string; expiresAt: string };
  }

  it('returns a URL with a signed token in its fragment that expires when asked', async () => {
    const before = Date.now();
    const l = await link(tenant, { expiresInSeconds: 600, platformName: 'Acme Cloud', color: '#FF6600' });
    const u = new URL(l.url);
    expect(u.origin).toBe(herald.url);
    expect(u.pathname).toBe('/portal');
    expect(u.hash).toBe(`#token=${l.token}`);
    const exp = Date.parse(l.expiresAt);
    expect(exp).toBeGreaterThan(before + 595_000);
    expect(exp).toBeLessThanOrEqual(Date.now() + 600_000);

    const session = await herald.api.as(l.token).get('/v1/session');
    expect(session.status).toBe(200);
    expect(session.body).toEqual({ kind: 'tenant', tenantId: tenant, role: 'manage', portal: { platformName: 'Acme Cloud', color: '#ff6600', expiresAt: l.expiresAt } });
    expect((await herald.api.get('/v1/session')).body).toEqual({ kind: 'admin', tenantId: null, role: 'manage', portal: null });

    const audit = await herald.api.get(`/v1/tenants/${tenant}/audit-log?action=portal_link.created`);
    expect(audit.body.data[0]).toMatchObject({ actor: 'admin', action: 'portal_link.created' });
  });

  it('uses baseUrl when given, and validates its fields', async () => {
    const l = await link(tenant, { baseUrl: 'https://hooks.example.com/herald/' });
    expect(l.url.startsWith('https://hooks.example.com/herald/portal#token=hpt1.')).toBe(true);
    for (const [body, field] of [
      [{ expiresInSeconds: 10 }, 'expiresInSeconds'],
      [{ expiresInSeconds: 31 * 86_400 }, 'expiresInSeconds'],
      [{ color: 'red' }, 'color'],
      [{ platformName: '' }, 'platformName'],
      [{ baseUrl: 'javascript:alert(1)' }, 'baseUrl'],
      [{ tenantId: other }, 'tenantId'],
    ] as const) {
      const r = await herald.api.post(`/v1/tenants/${tenant}/portal-links`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.message).toContain(field);
    }
  });

  it('gives a token that reads and changes its own tenant only', async () => {
    const portal = herald.api.as((await link(tenant)).token);
    // Its own tenant: readable and writable.
    expect((await portal.get(`/v1/tenants/${tenant}/endpoints`)).body.data).toHaveLength(2);
    expect((await portal.get(`/v1/tenants/${tenant}/stats`)).status).toBe(200);
    expect((await portal.get(`/v1/tenants/${tenant}/endpoints/${okEndpoint}/stats`)).status).toBe(200);
    const tested = await portal.post(`/v1/tenants/${tenant}/endpoints/${okEndpoint}/test`, {});
    expect(tested.status).toBe(202);
    const tenants = await portal.get('/v1/tenants');
    expect(tenants.body.data.map((t: { id: string }) => t.id)).toEqual([tenant]);
    const patched = await portal.patch(`/v1/tenants/${tenant}/endpoints/${okEndpoint}`, { description: 'from the portal' });
    expect(patched.status).toBe(200);
    const audit = await herald.api.get(`/v1/tenants/${tenant}/audit-log?action=endpoint.updated`);
    expect(audit.body.data[0].actor).toMatch(/^token:portal:/);

    // Any other tenant: 404, exactly as if it did not exist.
    const events = await herald.api.get(`/v1/tenants/${other}/events`);
    const otherEvent = events.body.data[0].id;
    const otherDeliveries = await herald.api.get(`/v1/tenants/${other}/deliveries`);
    const otherDelivery = otherDeliveries.body.data[0].id;
    for (const [method, path] of [
      ['GET', `/v1/tenants/${other}`],
      ['GET', `/v1/tenants/${other}/endpoints`],
      ['GET', `/v1/tenants/${other}/endpoints/${otherEndpoint}`],
      ['GET', `/v1/tenants/${other}/endpoints/${otherEndpoint}/secret`],
      ['GET', `/v1/tenants/${other}/endpoints/${otherEndpoint}/stats`],
      ['GET', `/v1/tenants/${other}/stats`],
      ['GET', `/v1/tenants/${other}/events`],
      ['GET', `/v1/tenants/${other}/events/${otherEvent}`],
      ['GET', `/v1/tenants/${other}/deliveries`],
      ['GET', `/v1/tenants/${other}/deliveries/${otherDelivery}`],
      ['GET', `/v1/tenants/${other}/audit-log`],
      ['POST', `/v1/tenants/${other}/events`],
      ['POST', `/v1/tenants/${other}/endpoints`],
      ['POST', `/v1/tenants/${other}/deliveries/${otherDelivery}/retry`],
      ['POST', `/v1/tenants/${other}/endpoints/${otherEndpoint}/secret/rotate`],
      ['POST', `/v1/tenants/${other}/portal-links`],
      ['DELETE', `/v1/tenants/${other}/endpoints/${otherEndpoint}`],
    ] as const) {
      const body = method === 'POST' && path.endsWith('/events') ? { type: 'x.y', payload: {} } : method === 'POST' && path.endsWith('/endpoints') ? { url: receiver.url('/x') } : undefined;
      const r = await portal.req(method, path, method === 'POST' ? (body ?? {}) : undefined);
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(JSON.stringify(r.body)).not.toContain('of the other tenant');
    }
    // The other tenant's endpoint is untouched.
    expect((await herald.api.get(`/v1/tenants/${other}/endpoints/${otherEndpoint}`)).status).toBe(200);
    // Admin-only routes: 403 on its own tenant.
    expect((await portal.post(`/v1/tenants/${tenant}/portal-links`, {})).status).toBe(403);
    expect((await portal.post(`/v1/tenants/${tenant}/tokens`, {})).status).toBe(403);
    expect((await portal.post('/v1/tenants', { name: 'mine' })).status).toBe(403);
  });

  it('makes read-only links that may look but not change', async () => {
    const l = await link(tenant, { role: 'read' });
    expect(l).toMatchObject({ role: 'read' });
    const portal = herald.api.as(l.token);
    expect((await portal.get('/v1/session')).body).toMatchObject({ kind: 'tenant', tenantId: tenant, role: 'read' });
    expect((await portal.get(`/v1/tenants/${tenant}/endpoints`)).status).toBe(200);
    expect((await portal.get(`/v1/tenants/${tenant}/stats`)).status).toBe(200);
    expect((await portal.patch(`/v1/tenants/${tenant}/endpoints/${okEndpoint}`, { description: 'nope' })).status).toBe(403);
    expect((await portal.post(`/v1/tenants/${tenant}/endpoints/${okEndpoint}/test`, {})).status).toBe(403);
    expect((await portal.delete(`/v1/tenants/${tenant}/endpoints/${okEndpoint}`)).status).toBe(403);
    expect((await portal.get(`/v1/tenants/${other}/endpoints`)).status).toBe(404);
    // The role is signed: turning a read link into a manage link breaks the MAC.
    const [prefix, claims, mac] = l.token.split('.') as [string, string, string];
    const c = JSON.parse(Buffer.from(claims, 'base64url').toString());
    delete c.r;
    const forged = `${prefix}.${Buffer.from(JSON.stringify(c)).toString('base64url')}.${mac}`;
    expect((await herald.api.as(forged).patch(`/v1/tenants/${tenant}/endpoints/${okEndpoint}`, { description: 'nope' })).status).toBe(401);
  });

  it('refuses an expired token with 401', async () => {
    const key = portalSigningKey(hashToken(ADMIN_TOKEN));
    const expired = signPortalToken(key, { tenantId: tenant, ...(await boundTo(tenant)), expiresAt: Date.now() - 1000, platformName: null, color: null });
    const r = await herald.api.as(expired).get(`/v1/tenants/${tenant}/endpoints`);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthorized');
    // and one signed for the future works: the key is the server's
    const fresh = signPortalToken(key, { tenantId: tenant, ...(await boundTo(tenant)), expiresAt: Date.now() + 60_000, platformName: null, color: null });
    expect((await herald.api.as(fresh).get(`/v1/tenants/${tenant}/endpoints`)).status).toBe(200);
  });

  it('refuses a tampered token with 401', async () => {
    const { token } = await link(tenant);
    const [prefix, claims, mac] = token.split('.') as [string, string, string];
    const decoded = JSON.parse(Buffer.from(claims, 'base64url').toString());
    const forge = (c: Record<string, unknown>) => `${prefix}.${Buffer.from(JSON.stringify(c)).toString('base64url')}.${mac}`;
    const flip = (s: string) => s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.slice(-1);
    const tampered = [
      forge({ ...decoded, t: other }), // another tenant, same MAC
      forge({ ...decoded, exp: decoded.exp + 86_400 }), // longer life
      `${prefix}.${claims}.${flip(mac)}`, // a different MAC
      `${prefix}.${claims}.`, // no MAC
      `${prefix}.${claims}`, // no MAC at all
      `${prefix}.${claims}.${mac}x`, // longer MAC
      signPortalToken(portalSigningKey(hashToken('some-other-admin-token-0123456789')), { tenantId: other, ...(await boundTo(other)), expiresAt: Date.now() + 60_000, platformName: null, color: null }),
      'hpt1.',
      'hpt1.e30.',
    ];
    for (const t of tampered) {
      const r = await herald.api.as(t).get(`/v1/tenants/${other}/endpoints`);
      expect(r.status, t).toBe(401);
      const own = await herald.api.as(t).get(`/v1/tenants/${tenant}/endpoints`);
      expect(own.status, t).toBe(401);
    }
    expect((await herald.api.as(token).get(`/v1/tenants/${tenant}/endpoints`)).status).toBe(200);
  });

  it('is refused to tenant tokens: 403 for their own tenant, 404 for another', async () => {
    const tok = await herald.api.post(`/v1/tenants/${tenant}/tokens`, {});
    const asTenant = herald.api.as(tok.body.token);
    expect((await asTenant.post(`/v1/tenants/${tenant}/portal-links`, {})).status).toBe(403);
    expect((await asTenant.post(`/v1/tenants/${other}/portal-links`, {})).status).toBe(404);
    expect((await asTenant.get('/v1/session')).body).toEqual({ kind: 'tenant', tenantId: tenant, role: 'manage', portal: null });
    expect((await herald.api.post('/v1/tenants/nope/portal-links', {})).status).toBe(404);
  });
});

describe('the web UI at /', () => {
  it('serves the UI for UI paths and never shadows the API', async () => {
    const page = await fetch(`${herald.url}/t/${tenant}/event-types/invoice.paid`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(page.headers.get('content-security-policy')).toContain("style-src 'self';");

    const portal = await fetch(`${herald.url}/portal`);
    expect(portal.status).toBe(200);
    expect(portal.headers.get('x-frame-options')).toBeNull();
    expect(portal.headers.get('content-security-policy')).toContain('frame-ancestors *');

    const health = await fetch(`${herald.url}/healthz`);
    expect(health.headers.get('content-type')).toMatch(/json/);
    const openapi = await fetch(`${herald.url}/openapi.json`);
    expect(((await openapi.json()) as { paths: Record<string, unknown> }).paths['/v1/tenants/{tenantId}/stats']).toBeDefined();
    const unknown = await fetch(`${herald.url}/v1/nothing-here`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await fetch(`${herald.url}/v1/nothing-here`)).status).toBe(401);
    expect((await fetch(`${herald.url}/assets/missing-file.js`)).status).toBe(404);
    expect((await fetch(`${herald.url}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${herald.url}/t/x`, { method: 'POST' })).status).toBe(404);
  });
});
