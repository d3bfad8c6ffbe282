import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHerald, type Api, type ApiResponse, type TestHerald } from './helpers/herald.js';
import { Receiver } from './helpers/receiver.js';

/**
 * Tenant isolation, generated from the OpenAPI document: every tenant-scoped
 * operation is called with another tenant's token against real resources,
 * and must answer 404 exactly as for a tenant that does not exist, without
 * touching a row.
 */

let herald: TestHerald;
let receiver: Receiver;
let doc: { paths: Record<string, Record<string, OpenApiOp>> };

interface OpenApiOp {
  requestBody?: { content?: Record<string, { schema?: unknown }> };
}

interface Op {
  method: string;
  path: string;
  hasBody: boolean;
}

interface Ids {
  tenantId: string;
  endpointId: string;
  eventId: string;
  deliveryId: string;
  tokenId: string;
  sessionId: string;
  linkId: string;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const TENANT_PREFIX = '/v1/tenants/{tenantId}';

// Tenant A: the victim, with one of each resource. Tenant B: the attacker.
let A: Ids;
let aSecret: string;
let B: string;
let tokenB: string;
let asB: Api;

function operations(): Op[] {
  const ops: Op[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      ops.push({ method: method.toUpperCase(), path, hasBody: op.requestBody !== undefined });
    }
  }
  return ops;
}

const tenantScoped = () => operations().filter((o) => o.path === TENANT_PREFIX || o.path.startsWith(TENANT_PREFIX + '/'));
const key = (o: Op) => `${o.method} ${o.path}`;

/**
 * A valid body for each operation that takes one, so that a 404 can only
 * come from tenant scoping (an invalid body would be a 400 first). Every
 * body is also sent by a tenant to its own resources (the control run
 * below), which proves it passes validation.
 */
const BODIES: Record<string, (ids: Ids) => unknown> = {
  [`PATCH ${TENANT_PREFIX}`]: () => ({ name: 'renamed by another tenant' }),
  [`POST ${TENANT_PREFIX}/tokens`]: () => ({ name: 'planted token' }),
  [`POST ${TENANT_PREFIX}/endpoints`]: () => ({
    url: receiver.url('/planted'),
    description: 'planted endpoint',
    eventTypes: ['order.*'],
    headers: { 'X-Planted': '1' },
  }),
  [`PATCH ${TENANT_PREFIX}/endpoints/{endpointId}`]: () => ({
    url: receiver.url('/hijacked'),
    description: 'hijacked',
    disabled: true,
    timeoutMs: 1000,
  }),
  [`POST ${TENANT_PREFIX}/endpoints/{endpointId}/test`]: () => ({ eventType: 'probe.test', payload: { probe: true } }),
  [`POST ${TENANT_PREFIX}/endpoints/{endpointId}/recover`]: () => ({ since: new Date(Date.now() - 3_600_000).toISOString() }),
  [`POST ${TENANT_PREFIX}/endpoints/{endpointId}/secret/rotate`]: () => ({
    secret: 'whsec_' + Buffer.alloc(32, 9).toString('base64'),
    graceSeconds: 0,
  }),
  // The victim's own event id as the client id: a scoping bug would answer with A's event (replayed).
  [`POST ${TENANT_PREFIX}/events`]: (ids) => ({ id: A.eventId, type: 'order.created', payload: { from: ids.tenantId } }),
  [`POST ${TENANT_PREFIX}/events/batch`]: (ids) => ({
    events: [
      { id: A.eventId, type: 'order.created', payload: { from: ids.tenantId } },
      { type: 'order.created', payload: { from: ids.tenantId, n: 2 } },
    ],
  }),
  [`POST ${TENANT_PREFIX}/portal-links`]: () => ({ expiresInSeconds: 600, platformName: 'Planted' }),
  // the victim's own endpoint id: a scoping bug would retry A's failed deliveries
  [`POST ${TENANT_PREFIX}/deliveries/retry`]: (ids) => ({ endpointId: ids.endpointId, limit: 10 }),
  // a scoping bug would send A's signed event to this URL
  [`POST ${TENANT_PREFIX}/deliveries/{deliveryId}/replay`]: () => ({ url: receiver.url('/replayed') }),
  [`POST ${TENANT_PREFIX}/listen-sessions`]: () => ({ forwardTo: 'http://localhost:3000/planted' }),
  [`POST ${TENANT_PREFIX}/endpoints/{endpointId}/filter/test`]: () => ({
    event: { type: 'order.created', payload: { amount: 1 } },
    filter: { payload: { amount: { $gte: 0 } } },
  }),
  [`POST ${TENANT_PREFIX}/endpoints/{endpointId}/transformation/test`]: () => ({
    event: { type: 'order.created', payload: { amount: 1 } },
    transformation: '(webhook) => webhook',
  }),
  // a report for the victim's session: a scoping bug would answer a relay of A's
  [`POST ${TENANT_PREFIX}/listen-sessions/{sessionId}/reports`]: () => ({ relayId: 'relay_planted', durationMs: 1, status: 200 }),
};

function fill(path: string, ids: Ids): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = (ids as unknown as Record<string, string | undefined>)[name];
    if (v === undefined) throw new Error(`no value for path parameter {${name}} in ${path}: add it to the test`);
    return encodeURIComponent(v);
  });
}

function bodyFor(op: Op, ids: Ids): unknown {
  const make = BODIES[key(op)];
  if (op.hasBody && !make) throw new Error(`${key(op)} takes a request body: add a valid one to BODIES`);
  if (make) return make(ids);
  return op.method === 'POST' ? {} : undefined;
}

function call(api: Api, op: Op, ids: Ids): Promise<ApiResponse> {
  return api.req(op.method, fill(op.path, ids), bodyFor(op, ids));
}

const randomId = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;
const ghostIds = (tenantId = randomId('org')): Ids => ({
  tenantId,
  endpointId: randomId('ep'),
  eventId: randomId('evt'),
  tokenId: randomId('tok'),
  deliveryId: randomId('dlv'),
  sessionId: randomId('ls'),
  linkId: randomId('pl'),
});

/** A tenant with an endpoint (receiving on `path`), an event, its delivery, and audit entries. */
async function seed(tenantId: string, path: string, waitDelivered: boolean): Promise<Ids & { secret: string }> {
  const ep = await herald.api.endpoint(tenantId, { url: receiver.url(path), description: 'original' });
  const pub = await herald.api.publish(tenantId, 'order.created', { order: 1 });
  expect(pub.status).toBe(202);
  const ds = await herald.api.get(`/v1/tenants/${tenantId}/events/${pub.body.id}/deliveries`);
  expect(ds.body.data).toHaveLength(1);
  const deliveryId = ds.body.data[0].id as string;
  if (waitDelivered) await herald.api.waitDelivery(tenantId, deliveryId, (d) => d.status === 'succeeded');
  const tok = await herald.api.post(`/v1/tenants/${tenantId}/tokens`, { name: 'seeded' });
  expect(tok.status).toBe(201);
  // a herald listen session (after the publish: its temporary endpoint takes every type)
  const ls = await herald.api.post(`/v1/tenants/${tenantId}/listen-sessions`, { forwardTo: 'http://localhost:3000/webhooks' });
  expect(ls.status).toBe(201);
  const link = await herald.api.post(`/v1/tenants/${tenantId}/portal-links`, {});
  expect(link.status).toBe(201);
  return { tenantId, endpointId: ep.id, eventId: pub.body.id, deliveryId, tokenId: tok.body.id, sessionId: ls.body.id, linkId: link.body.id, secret: ep.secret };
}

async function tokenFor(tenantId: string): Promise<string> {
  const r = await herald.api.post(`/v1/tenants/${tenantId}/tokens`, { name: 'test' });
  expect(r.status).toBe(201);
  return r.body.token as string;
}

/** Every row tenant `t` owns, straight from the database. */
async function rowsOf(t: string): Promise<unknown> {
  const q = async (sql: string) => JSON.parse(JSON.stringify((await herald.running.db.query(sql, [t])).rows)) as unknown;
  return {
    tenant: await q(`select * from tenants where id = $1`),
    endpoints: await q(`select * from endpoints where tenant_id = $1 order by id`),
    events: await q(`select tenant_id, id, type, payload::text as payload, created_at from events where tenant_id = $1 order by id`),
    deliveries: await q(`select * from deliveries where tenant_id = $1 order by id`),
    attempts: await q(`select * from attempts where tenant_id = $1 order by id`),
    tokens: await q(`select * from api_tokens where tenant_id = $1 order by id`),
    portalLinks: await q(`select * from portal_links where tenant_id = $1 order by id`),
    audit: await q(`select id::text as id, tenant_id, actor, action, target_type, target_id, details::text as details, created_at
                      from audit_log where tenant_id = $1 order by id`),
  };
}

/** Tenant A as the admin sees it through the API. */
async function viewOfA(): Promise<Record<string, { status: number; body: unknown }>> {
  const paths = {
    tenant: `/v1/tenants/${A.tenantId}`,
    endpoint: `/v1/tenants/${A.tenantId}/endpoints/${A.endpointId}`,
    secret: `/v1/tenants/${A.tenantId}/endpoints/${A.endpointId}/secret`,
    endpoints: `/v1/tenants/${A.tenantId}/endpoints`,
    event: `/v1/tenants/${A.tenantId}/events/${A.eventId}`,
    events: `/v1/tenants/${A.tenantId}/events`,
    eventDeliveries: `/v1/tenants/${A.tenantId}/events/${A.eventId}/deliveries`,
    delivery: `/v1/tenants/${A.tenantId}/deliveries/${A.deliveryId}`,
    deliveries: `/v1/tenants/${A.tenantId}/deliveries`,
    audit: `/v1/tenants/${A.tenantId}/audit-log`,
  };
  const out: Record<string, { status: number; body: unknown }> = {};
  for (const [name, p] of Object.entries(paths)) {
    const r = await herald.api.get(p);
    out[name] = { status: r.status, body: r.body };
  }
  return out;
}

beforeAll(async () => {
  herald = await startHerald();
  receiver = await new Receiver().listen();
  const r = await herald.api.get('/openapi.json');
  expect(r.status).toBe(200);
  doc = r.body;

  const a = await herald.api.tenant('Victim A');
  const seeded = await seed(a, '/a', true);
  const { secret, ...ids } = seeded;
  A = ids;
  aSecret = secret;
  B = await herald.api.tenant('Attacker B');
  tokenB = await tokenFor(B);
  asB = herald.api.as(tokenB);
}, 120_000);

afterAll(async () => {
  await herald?.stop();
  await receiver?.close();
});

describe('tenant isolation (generated from /openapi.json)', () => {
  it('finds the tenant-scoped operations in the OpenAPI document', () => {
    const ops = tenantScoped();
    // Fail loudly rather than walk nothing if the document or the filter breaks.
    if (ops.length < 15) throw new Error(`only ${ops.length} tenant-scoped operations in /openapi.json: ${ops.map(key).join(', ')}`);
    // Every body in the table belongs to a documented operation (no stale entries).
    const known = new Set(ops.map(key));
    expect(Object.keys(BODIES).filter((k) => !known.has(k))).toEqual([]);
  });

  it("answers another tenant's token with 404 on every tenant-scoped operation, as for a tenant that does not exist, and changes nothing", async () => {
    const ops = tenantScoped();
    expect(ops.length).toBeGreaterThanOrEqual(15);
    const viewBefore = await viewOfA();
    expect(viewBefore.secret!.body).toEqual({ secret: aSecret, publicKey: null });
    expect(viewBefore.delivery!.body).toMatchObject({ status: 'succeeded', attempts: 1 });
    let rowsBefore = await rowsOf(A.tenantId);
    const hitsBefore = receiver.at('/a').length;
    const problems: string[] = [];

    // Destructive operations last, so that a leak in one cannot hide another.
    const ordered = [...ops].sort((x, y) => Number(x.method === 'DELETE') - Number(y.method === 'DELETE'));
    for (const op of ordered) {
      const res = await call(asB, op, A);
      // The same call against a tenant that does not exist: the answers must be indistinguishable.
      const ghost = await call(asB, op, ghostIds());
      if (res.status !== 404) problems.push(`${key(op)}: B's token on A answered ${res.status} ${JSON.stringify(res.body)}`);
      else if (JSON.stringify(res.body) !== JSON.stringify(ghost.body)) {
        problems.push(`${key(op)}: answer differs from a missing tenant's: ${JSON.stringify(res.body)} vs ${JSON.stringify(ghost.body)}`);
      }
      const rowsAfter = await rowsOf(A.tenantId);
      if (JSON.stringify(rowsAfter) !== JSON.stringify(rowsBefore)) {
        problems.push(`${key(op)}: changed tenant A's rows`);
        rowsBefore = rowsAfter;
      }
    }
    expect(problems).toEqual([]);

    // Nothing B did may have queued a delivery for A, or for an endpoint it tried to plant:
    // checked in the database (the rows above, and these), not by waiting for the worker.
    const planted = await herald.running.db.query<{ n: number }>(
      `select count(*)::int as n from deliveries d join endpoints e on e.id = d.endpoint_id
        where e.url like '%/planted' or e.url like '%/hijacked'`,
    );
    expect(planted.rows[0]!.n).toBe(0);
    expect(receiver.at('/a')).toHaveLength(hitsBefore);
    expect(receiver.at('/planted')).toHaveLength(0);
    expect(receiver.at('/hijacked')).toHaveLength(0);
    const viewAfter = await viewOfA();
    expect(viewAfter).toEqual(viewBefore);
    expect(viewAfter.endpoint!.body).toMatchObject({ description: 'original', disabled: false, url: receiver.url('/a') });
    expect(viewAfter.secret!.body).toEqual({ secret: aSecret, publicKey: null });
    expect(viewAfter.event!.status).toBe(200);
    expect(viewAfter.delivery!.body).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await rowsOf(A.tenantId)).toEqual(rowsBefore);
  });

  it("answers 404 for A's resource ids under B's own tenant path (B's token and the admin's), as for ids that do not exist", async () => {
    const ops = tenantScoped().filter((o) => /\{(endpointId|eventId|deliveryId|sessionId)\}/.test(o.path));
    expect(ops.length).toBeGreaterThanOrEqual(10);
    const rowsBefore = await rowsOf(A.tenantId);
    const problems: string[] = [];
    const ordered = [...ops].sort((x, y) => Number(x.method === 'DELETE') - Number(y.method === 'DELETE'));
    for (const api of [asB, herald.api]) {
      const who = api === asB ? "B's token" : 'admin token';
      for (const op of ordered) {
        const res = await call(api, op, { ...A, tenantId: B });
        const ghost = await call(api, op, ghostIds(B));
        if (res.status !== 404) problems.push(`${who} ${key(op)}: answered ${res.status} ${JSON.stringify(res.body)}`);
        else if (JSON.stringify(res.body) !== JSON.stringify(ghost.body)) {
          problems.push(`${who} ${key(op)}: answer differs from a missing id's: ${JSON.stringify(res.body)} vs ${JSON.stringify(ghost.body)}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(await rowsOf(A.tenantId)).toEqual(rowsBefore);
  });

  it("a read-only token of B gets 404 on A's resources to reads and 403 to writes, exactly as for a missing tenant", async () => {
    const r = await herald.api.post(`/v1/tenants/${B}/tokens`, { name: 'reader', role: 'read' });
    expect(r.status).toBe(201);
    const reader = herald.api.as(r.body.token as string);
    const rowsBefore = await rowsOf(A.tenantId);
    const problems: string[] = [];
    for (const op of tenantScoped()) {
      const res = await call(reader, op, A);
      const ghost = await call(reader, op, ghostIds());
      const want = op.method === 'GET' ? 404 : 403;
      if (res.status !== want) problems.push(`${key(op)}: B's read token on A answered ${res.status} ${JSON.stringify(res.body)}`);
      else if (JSON.stringify(res.body) !== JSON.stringify(ghost.body)) {
        problems.push(`${key(op)}: answer differs from a missing tenant's: ${JSON.stringify(res.body)} vs ${JSON.stringify(ghost.body)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(await rowsOf(A.tenantId)).toEqual(rowsBefore);
  });

  it('control: the same calls with a tenant token on its own resources pass validation and scoping', async () => {
    // Proves the bodies above are valid and the routes reachable: the 404s are scoping, not validation.
    const problems: string[] = [];
    for (const op of tenantScoped()) {
      // a session's own stream stays open (server-sent events) and a report needs a relay in
      // flight: both are exercised with the session's own token in test/listen.test.ts
      if (/\/listen-sessions\/\{sessionId\}\/(stream|reports)$/.test(op.path)) continue;
      const c = await herald.api.tenant('Control');
      const { secret: _s, ...ids } = await seed(c, '/control', false);
      const res = await call(herald.api.as(await tokenFor(c)), op, ids);
      // Tenant-level admin operations (rename, delete, new tokens, portal links) refuse a tenant
      // token with 403, which the route decides after validation: the body passed too.
      const adminOnly = op.path === TENANT_PREFIX ? op.method !== 'GET' : /^\/(tokens(\/\{tokenId\})?|portal-links(\/\{linkId\})?)$/.test(op.path.slice(TENANT_PREFIX.length));
      const ok = adminOnly ? res.status === 403 && res.body?.error?.code === 'forbidden' : res.status >= 200 && res.status < 300;
      if (!ok) problems.push(`${key(op)}: own token on own resources answered ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(problems).toEqual([]);
  });

  it('cannot plant an endpoint under the id of another tenant’s endpoint, nor alter it', async () => {
    const before = await rowsOf(A.tenantId);
    // Endpoint ids are generated: a chosen id is refused (400) before anything could collide.
    const r = await asB.post(`/v1/tenants/${B}/endpoints`, { id: A.endpointId, url: receiver.url('/collide') });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/id/);
    expect(await rowsOf(A.tenantId)).toEqual(before);
    const ep = await herald.api.get(`/v1/tenants/${A.tenantId}/endpoints/${A.endpointId}`);
    expect(ep.body).toMatchObject({ tenantId: A.tenantId, url: receiver.url('/a') });
  });
});

describe('admin-only routes and tenant listing', () => {
  it("refuses B's token on admin-only routes with 403 and changes nothing", async () => {
    await herald.api.post('/v1/event-types', { name: 'catalog.item', description: 'admin made' });
    const tenantsBefore = (await herald.running.db.query('select * from tenants order by id')).rows;
    const typesBefore = (await herald.running.db.query('select name, description from event_types order by name')).rows;
    const tokensBefore = (await herald.running.db.query('select id from api_tokens order by id')).rows;
    const calls: [string, string, unknown?][] = [
      ['POST', '/v1/tenants', { name: 'Made by B' }],
      ['POST', '/v1/tenants', { id: 'b-made', name: 'Made by B' }],
      ['POST', '/v1/event-types', { name: 'b.sneaky', description: 'x' }],
      ['PATCH', '/v1/event-types/catalog.item', { description: 'changed by B' }],
      ['PATCH', `/v1/tenants/${B}`, { name: 'B renamed itself' }],
      ['DELETE', `/v1/tenants/${B}`],
      ['POST', `/v1/tenants/${B}/tokens`, {}],
      ['POST', `/v1/tenants/${B}/tokens`, { name: 'second' }],
      // Every tenant's failing endpoints and queue: the operator view is the admin's.
      ['GET', '/v1/operator/overview'],
    ];
    for (const [method, path, body] of calls) {
      const r = await asB.req(method, path, body);
      expect({ call: `${method} ${path}`, status: r.status, code: r.body?.error?.code }).toEqual({
        call: `${method} ${path}`,
        status: 403,
        code: 'forbidden',
      });
    }
    expect((await herald.running.db.query('select * from tenants order by id')).rows).toEqual(tenantsBefore);
    expect((await herald.running.db.query('select name, description from event_types order by name')).rows).toEqual(typesBefore);
    expect((await herald.running.db.query('select id from api_tokens order by id')).rows).toEqual(tokensBefore);
    expect((await asB.get(`/v1/tenants/${B}`)).body.name).toBe('Attacker B');
  });

  it("GET /v1/tenants with B's token lists only B, on every page size", async () => {
    for (const q of ['', '?limit=1', '?limit=250']) {
      const r = await asB.get(`/v1/tenants${q}`);
      expect(r.status).toBe(200);
      expect(r.body.data.map((t: { id: string }) => t.id)).toEqual([B]);
      expect(r.body.nextCursor).toBeNull();
    }
    const all = await herald.api.get('/v1/tenants?limit=250');
    expect(all.body.data.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining([A.tenantId, B]));
    expect((await asB.get(`/v1/tenants/${A.tenantId}`)).status).toBe(404);
  });
});

describe("a tenant token on the tenant's own resources", () => {
  it('creates endpoints, publishes, lists and reads only its own things', async () => {
    const t = await herald.api.tenant('Own');
    const token = await tokenFor(t);
    const own = herald.api.as(token);
    const created = await own.post(`/v1/tenants/${t}/endpoints`, { url: receiver.url('/own') });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    const pub = await own.publish(t, 'order.created', { mine: true });
    expect(pub.status).toBe(202);
    expect(pub.body.deliveries).toBe(1);
    await receiver.waitForCount('/own', 1);

    const endpoints = await own.get(`/v1/tenants/${t}/endpoints`);
    expect(endpoints.body.data.map((e: { id: string }) => e.id)).toEqual([created.body.id]);
    const events = await own.get(`/v1/tenants/${t}/events`);
    expect(events.body.data.map((e: { id: string }) => e.id)).toEqual([pub.body.id]);
    expect((await own.get(`/v1/tenants/${t}/events/${pub.body.id}`)).body.payload).toEqual({ mine: true });
    const deliveries = await own.get(`/v1/tenants/${t}/deliveries`);
    expect(deliveries.body.data).toHaveLength(1);
    expect(deliveries.body.data[0]).toMatchObject({ tenantId: t, endpointId: created.body.id, eventId: pub.body.id });
    expect((await own.get(`/v1/tenants/${t}/deliveries/${deliveries.body.data[0].id}`)).status).toBe(200);
    expect((await own.get(`/v1/tenants/${t}/endpoints/${created.body.id}/secret`)).body.secret).toBe(created.body.secret);
    expect((await own.get(`/v1/tenants/${t}`)).body.id).toBe(t);
    expect((await own.get('/v1/event-types')).status).toBe(200);
    const audit = await own.get(`/v1/tenants/${t}/audit-log`);
    expect(audit.status).toBe(200);
    expect(audit.body.data.every((e: { tenantId: string }) => e.tenantId === t)).toBe(true);
    expect(audit.body.data.find((e: { action: string }) => e.action === 'endpoint.created').actor).toMatch(/^token:/);

    // ...and still nothing of A's.
    expect((await own.get(`/v1/tenants/${A.tenantId}/endpoints`)).status).toBe(404);
    expect((await own.get(`/v1/tenants/${t}/endpoints/${A.endpointId}`)).status).toBe(404);
  });
});

describe('authentication', () => {
  const garbage: [string, Record<string, string>][] = [
    ['no authorization header', {}],
    ['empty bearer', { authorization: 'Bearer ' }],
    ['garbage bearer', { authorization: 'Bearer garbage' }],
    ['unknown well-formed token', { authorization: `Bearer hrl_${randomBytes(32).toString('base64url')}` }],
    ['admin token plus a character', { authorization: `Bearer ${ADMIN_TOKEN}x` }],
    ['admin token without scheme', { authorization: ADMIN_TOKEN }],
    ['basic auth', { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` }],
  ];

  it('answers 401 on every /v1 operation to a missing or invalid token, before reading the body', async () => {
    const ops = operations().filter((o) => o.path.startsWith('/v1/'));
    expect(ops.length).toBeGreaterThanOrEqual(20);
    const ids: Ids & { name: string } = { ...A, name: 'catalog.item' };
    const problems: string[] = [];
    for (const op of ops) {
      for (const [label, headers] of garbage) {
        const hasBody = op.method !== 'GET' && op.method !== 'DELETE';
        const res = await fetch(herald.url + fill(op.path, ids), {
          method: op.method,
          headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
          // Not even JSON: authentication must come first.
          body: hasBody ? '{not json' : undefined,
        });
        const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
        if (res.status !== 401 || body?.error?.code !== 'unauthorized') problems.push(`${key(op)} with ${label}: ${res.status}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('cannot be skipped with a percent-encoded path', async () => {
    // The router decodes `%76` to `v`: these reach /v1 routes, so they need a token as well.
    const problems: string[] = [];
    const ids: Ids & { name: string } = { ...A, name: 'catalog.item' };
    for (const op of operations().filter((o) => o.path.startsWith('/v1/') && o.method === 'GET')) {
      const path = fill(op.path, ids);
      for (const variant of [path.replace('/v1/', '/%761/'), path.replace('/v1/', '/%76%31/')]) {
        const res = await fetch(herald.url + variant);
        if (res.status !== 401 && res.status !== 404) problems.push(`GET ${variant}: ${res.status} ${await res.text()}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('stores tokens hashed: the clear token appears nowhere in the database tables that mention it', async () => {
    const t = await herald.api.tenant('Hashed');
    const token = await tokenFor(t);
    expect(token).toMatch(/^hrl_/);
    const rows = (await herald.running.db.query('select * from api_tokens')).rows;
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(token.slice(4)); // nor its random part
    const hashes = (await herald.running.db.query<{ token_hash: string }>('select token_hash from api_tokens')).rows.map((r) => r.token_hash);
    expect(hashes).toContain(createHash('sha256').update(token).digest('hex'));
    expect(hashes.some((h) => h.includes(token))).toBe(false);
    const audit = JSON.stringify((await herald.running.db.query('select details::text as d, target_id from audit_log')).rows);
    expect(audit).not.toContain(token.slice(4));
    // and the token works
    expect((await herald.api.as(token).get(`/v1/tenants/${t}`)).status).toBe(200);
  });
});

describe('idempotency keys are per tenant', () => {
  it('the same client event id in A and in B makes two events, each delivered only to its own tenant', async () => {
    const t1 = await herald.api.tenant('Idem One');
    const t2 = await herald.api.tenant('Idem Two');
    const one = herald.api.as(await tokenFor(t1));
    const two = herald.api.as(await tokenFor(t2));
    await one.post(`/v1/tenants/${t1}/endpoints`, { url: receiver.url('/idem-1') });
    await two.post(`/v1/tenants/${t2}/endpoints`, { url: receiver.url('/idem-2') });
    const id = 'order-42';

    const p1 = await one.publish(t1, 'order.created', { tenant: 'one' }, id);
    const p2 = await two.publish(t2, 'order.created', { tenant: 'two' }, id);
    for (const p of [p1, p2]) {
      expect(p.status).toBe(202);
      expect(p.body).toMatchObject({ id, deliveries: 1 });
      expect(p.headers.get('idempotent-replayed')).toBeNull();
    }
    await receiver.waitForCount('/idem-1', 1);
    await receiver.waitForCount('/idem-2', 1);

    // A replay in one tenant creates nothing (other content would be 409 idempotency_conflict).
    const again = await one.publish(t1, 'order.created', { tenant: 'one' }, id);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toMatchObject({ id, deliveries: 1 });

    // the replay made no delivery (in the database, not by waiting for one to arrive)
    for (const t of [t1, t2]) {
      const n = await herald.running.db.query<{ n: number }>(`select count(*)::int as n from deliveries where tenant_id = $1 and event_id = $2`, [t, id]);
      expect(n.rows[0]!.n).toBe(1);
    }
    expect(receiver.at('/idem-1').map((r) => JSON.parse(r.body))).toEqual([{ tenant: 'one' }]);
    expect(receiver.at('/idem-2').map((r) => JSON.parse(r.body))).toEqual([{ tenant: 'two' }]);
    expect(receiver.at('/idem-1')[0]!.headers['webhook-id']).toBe(id);
    expect(receiver.at('/idem-2')[0]!.headers['webhook-id']).toBe(id);
    expect((await one.get(`/v1/tenants/${t1}/events/${id}`)).body).toMatchObject({ tenantId: t1, payload: { tenant: 'one' } });
    expect((await two.get(`/v1/tenants/${t2}/events/${id}`)).body).toMatchObject({ tenantId: t2, payload: { tenant: 'two' } });
    const d1 = (await one.get(`/v1/tenants/${t1}/events/${id}/deliveries`)).body.data;
    const d2 = (await two.get(`/v1/tenants/${t2}/events/${id}/deliveries`)).body.data;
    expect(d1).toHaveLength(1);
    expect(d2).toHaveLength(1);
    expect(d1[0].id).not.toBe(d2[0].id);
    const rows = (await herald.running.db.query<{ tenant_id: string }>('select tenant_id from events where id = $1 order by tenant_id', [id])).rows;
    expect(rows.map((r) => r.tenant_id).sort()).toEqual([t1, t2].sort());
    // Neither tenant can see the other's copy through its own path with a foreign token.
    expect((await two.get(`/v1/tenants/${t1}/events/${id}`)).status).toBe(404);
  });
});

describe('audit', () => {
  // Not configuration: publishing events and sending a test event are traffic, recorded as events and deliveries.
  // A listen session's reports are its deliveries' answers (attempts), not configuration.
  const TRAFFIC = new Set([
    `POST ${TENANT_PREFIX}/events`,
    `POST ${TENANT_PREFIX}/events/batch`,
    `POST ${TENANT_PREFIX}/endpoints/{endpointId}/test`,
    `POST ${TENANT_PREFIX}/listen-sessions/{sessionId}/reports`,
    // a dry run of a payload filter on a sample event: changes nothing
    `POST ${TENANT_PREFIX}/endpoints/{endpointId}/filter/test`,
    // a dry run of a transformation on a sample event: changes and sends nothing
    `POST ${TENANT_PREFIX}/endpoints/{endpointId}/transformation/test`,
  ]);
  // Operations a tenant token may not do (403): done with the admin token.
  const adminOnly = (op: Op) =>
    !op.path.startsWith(TENANT_PREFIX) || (op.path === TENANT_PREFIX ? op.method !== 'GET' : /^\/(tokens(\/\{tokenId\})?|portal-links(\/\{linkId\})?)$/.test(op.path.slice(TENANT_PREFIX.length)));
  const GLOBAL_BODIES: Record<string, (name: string) => unknown> = {
    'POST /v1/tenants': () => ({ name: 'Audited' }),
    'POST /v1/event-types': (name) => ({ name, description: 'audited' }),
    'PATCH /v1/event-types/{name}': () => ({ description: 'audited, changed' }),
  };

  it('records every configuration change with its actor (generated from /openapi.json)', async () => {
    const ops = operations().filter((o) => o.path.startsWith('/v1/') && o.method !== 'GET' && !TRAFFIC.has(key(o)));
    expect(ops.length).toBeGreaterThanOrEqual(12);
    const problems: string[] = [];
    let n = 0;
    for (const op of ops) {
      const c = await herald.api.tenant('Audited');
      const { secret: _s, ...ids } = await seed(c, '/audited', true);
      const tokenRow = await herald.api.post(`/v1/tenants/${c}/tokens`, { name: 'auditor' });
      const admin = adminOnly(op);
      const api = admin ? herald.api : herald.api.as(tokenRow.body.token as string);
      const actor = admin ? 'admin' : `token:${tokenRow.body.id as string}`;
      const name = `audit.t${++n}`;
      if (op.path.includes('{name}')) await herald.api.post('/v1/event-types', { name, description: 'before' });
      // recover and retry need a failed delivery: make the seeded one failed
      await herald.running.db.query(`update deliveries set status = 'failed', next_attempt_at = null where id = $1`, [ids.deliveryId]);
      await herald.running.db.query(`delete from queue where delivery_id = $1`, [ids.deliveryId]);
      const { max } = (await herald.running.db.query<{ max: string | null }>('select max(id)::text as max from audit_log')).rows[0]!;
      const global = GLOBAL_BODIES[key(op)];
      const path = fill(op.path, { ...ids, name } as Ids);
      const res = await api.req(op.method, path, global ? global(name) : bodyFor(op, ids));
      if (res.status < 200 || res.status >= 300) {
        problems.push(`${key(op)}: answered ${res.status} ${JSON.stringify(res.body)}`);
        continue;
      }
      const added = (
        await herald.running.db.query<{ actor: string; action: string }>('select actor, action from audit_log where id > $1 order by id', [max ?? '0'])
      ).rows;
      if (!added.some((a) => a.actor === actor)) problems.push(`${key(op)}: no audit entry by ${actor} (got ${JSON.stringify(added)})`);
    }
    console.log(`[audit] ${ops.length} configuration-changing operations walked from /openapi.json; ${ops.length - problems.length} left an audit entry naming their actor`);
    expect(problems).toEqual([]);
  });
});
