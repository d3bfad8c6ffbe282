import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type ApiResponse, type TestHerald } from './helpers/herald.js';

/**
 * Bad input is answered with a 4xx that names the offending field, never a
 * 500, and never leaves a row behind.
 */

let herald: TestHerald; // dev mode (http and loopback allowed), as every test Herald
let prod: TestHerald; // dev: false
let small: TestHerald; // maxBodyBytes: 2048
let T: string; // endpoints are created here (nothing is ever published to it)
let P: string; // events are published here (it has no endpoints, so no deliveries)
let epId: string;

const TABLES = ['tenants', 'endpoints', 'events', 'deliveries', 'event_types', 'api_tokens', 'audit_log'] as const;

async function counts(h: TestHerald): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) {
    const r = await h.running.db.query<{ n: number }>(`select count(*)::int as n from ${t}`);
    out[t] = Number(r.rows[0]!.n);
  }
  return out;
}

interface Expect {
  status?: number;
  code?: string;
  /** The field the error must name, in its message and in `details`. */
  field?: string;
}

/** Sends a request that must be refused as `want` says, and checks no table gained or lost a row. */
async function refused(h: TestHerald, method: string, path: string, body: unknown, want: Expect = {}): Promise<ApiResponse> {
  const before = await counts(h);
  const r = await h.api.req(method, path, body);
  const what = `${method} ${path} ${typeof body === 'string' ? body.slice(0, 80) : JSON.stringify(body)?.slice(0, 120)} -> ${r.status} ${JSON.stringify(r.body)}`;
  expect(r.status, what).toBe(want.status ?? 400);
  expect(r.body?.error?.code, what).toBe(want.code ?? 'validation_error');
  expect(typeof r.body.error.message, what).toBe('string');
  if (want.field !== undefined) {
    expect(r.body.error.message, what).toContain(want.field);
    expect(Array.isArray(r.body.error.details), what).toBe(true);
    expect(r.body.error.details.map((d: { field: string }) => d.field), what).toContain(want.field);
  }
  expect(await counts(h), `rows changed after ${what}`).toEqual(before);
  return r;
}

const b64 = (n: number) => Buffer.alloc(n, 7).toString('base64');
const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

beforeAll(async () => {
  [herald, prod, small] = await Promise.all([
    startHerald(),
    startHerald({ dev: false }, { api: true, worker: false }),
    startHerald({ maxBodyBytes: 2048 }, { api: true, worker: false }),
  ]);
  T = await herald.api.tenant('Validation');
  P = await herald.api.tenant('Publisher');
  epId = (await herald.api.endpoint(T, { url: 'https://example.com/hook' })).id;
}, 180_000);

afterAll(async () => {
  await Promise.all([herald?.stop(), prod?.stop(), small?.stop()]);
});

describe('endpoint create', () => {
  const post = (body: unknown, want: Expect) => refused(herald, 'POST', `/v1/tenants/${T}/endpoints`, body, want);

  it('refuses URLs that are not http(s), not URLs, or carry credentials, naming url', async () => {
    for (const url of ['ftp://x', 'not a url', 'https://user:pw@example.com', 'https://user@example.com/', 'javascript:alert(1)', 'file:///etc/passwd', '']) {
      await post({ url }, { field: 'url' });
    }
    await post({}, { field: 'url' }); // missing
    await post({ url: 42 }, { field: 'url' });
    // Metadata addresses stay refused even in dev mode.
    await post({ url: 'http://169.254.169.254/latest/meta-data' }, { field: 'url' });
  });

  it('allows http and loopback in dev mode', async () => {
    for (const url of ['https://127.0.0.1/', 'http://127.0.0.1:9/hook', 'http://localhost:9/x', 'https://[::1]/']) {
      const r = await herald.api.post(`/v1/tenants/${T}/endpoints`, { url });
      expect(r.status, `${url}: ${JSON.stringify(r.body)}`).toBe(201);
    }
  });

  it('refuses http, loopback, private and localhost URLs outside dev mode, naming url', async () => {
    const t = await prod.api.tenant('Prod');
    const urls = [
      'http://example.com/hook',
      'https://127.0.0.1/',
      'https://127.1/',
      'https://2130706433/',
      'https://0x7f000001/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://10.0.0.1/',
      'https://172.16.5.4/',
      'https://192.168.1.1/',
      'https://100.64.0.1/',
      'https://169.254.169.254/latest',
      'https://0.0.0.0/',
      'https://[fd00::1]/',
      'https://localhost/',
      'https://LOCALHOST./',
      'https://api.localhost/',
    ];
    for (const url of urls) await refused(prod, 'POST', `/v1/tenants/${t}/endpoints`, { url }, { field: 'url' });
    const ok = await prod.api.post(`/v1/tenants/${t}/endpoints`, { url: 'https://example.com/hook' });
    expect(ok.status).toBe(201);
    // The same rules apply when a URL is changed.
    for (const url of ['https://127.0.0.1/', 'http://example.com/']) {
      await refused(prod, 'PATCH', `/v1/tenants/${t}/endpoints/${ok.body.id}`, { url }, { field: 'url' });
    }
    expect((await prod.api.get(`/v1/tenants/${t}/endpoints/${ok.body.id}`)).body.url).toBe('https://example.com/hook');
  });

  it('refuses weak secrets, naming secret', async () => {
    await post({ url: 'https://example.com/', secret: 'short' }, { field: 'secret' });
    const r = await post({ url: 'https://example.com/', secret: 'whsec_' + b64(16) }, { field: 'secret' });
    expect(r.body.error.message).toContain('24 bytes');
    await post({ url: 'https://example.com/', secret: 'whsec_not base64!' }, { field: 'secret' });
    await post({ url: 'https://example.com/', secret: 'a'.repeat(40) + '\n' }, { field: 'secret' });
    await post({ url: 'https://example.com/', secret: '' }, { field: 'secret' });
  });

  it('refuses timeoutMs as a string (no coercion), out of range, or above the configured maximum', async () => {
    await post({ url: 'https://example.com/', timeoutMs: '5' }, { field: 'timeoutMs' });
    await post({ url: 'https://example.com/', timeoutMs: '5000' }, { field: 'timeoutMs' });
    await post({ url: 'https://example.com/', timeoutMs: 50 }, { field: 'timeoutMs' });
    await post({ url: 'https://example.com/', timeoutMs: 1500.5 }, { field: 'timeoutMs' });
    await post({ url: 'https://example.com/', timeoutMs: 300_001 }, { field: 'timeoutMs' });
    const r = await post({ url: 'https://example.com/', timeoutMs: 60_000 }, { field: 'timeoutMs' }); // maxTimeoutMs is 30000
    expect(r.body.error.message).toContain('30000');
  });

  it('refuses unknown fields, naming them', async () => {
    const r = await post({ url: 'https://example.com/', colour: 'red' }, { field: 'colour' });
    expect(r.body.error.details[0].message).toBe('is not a known field');
    await post({ url: 'https://example.com/', signature: { scheme: 'standard', extra: 1 } }, {});
    await post({ url: 'https://example.com/', retry: { schedule: [1], jitter: 0.1, typo: true } }, {});
  });

  it('refuses bad event-type patterns, naming eventTypes', async () => {
    for (const p of ['bad pattern!', '', 'a..b', '*.a', 'a.*.b']) {
      const r = await post({ url: 'https://example.com/', eventTypes: [p] }, {});
      expect(r.body.error.message).toContain('eventTypes');
      expect(r.body.error.details[0].field).toMatch(/^eventTypes/);
    }
  });

  it('refuses header injection and reserved headers, naming headers.<name>', async () => {
    await post({ url: 'https://example.com/', headers: { 'X-A': 'v\r\nX-Injected: 1' } }, { field: 'headers.X-A' });
    await post({ url: 'https://example.com/', headers: { 'X-A': 'v\nX-Injected: 1' } }, { field: 'headers.X-A' });
    await post({ url: 'https://example.com/', headers: { 'X-A': 'nul\u0000byte' } }, { field: 'headers.X-A' });
    for (const name of ['webhook-signature', 'Host', 'content-length', 'Webhook-Id', 'Transfer-Encoding', 'user-agent']) {
      await post({ url: 'https://example.com/', headers: { [name]: 'x' } }, { field: `headers.${name}` });
    }
    await post({ url: 'https://example.com/', headers: { 'Bad Name': 'x' } }, { field: 'headers.Bad Name' });
    await post({ url: 'https://example.com/', headers: { 'X-A:': 'x' } }, { field: 'headers.X-A:' });
    // the HMAC header of the endpoint's own signature scheme is Herald's too
    await post(
      { url: 'https://example.com/', secret: 'x'.repeat(40), signature: { scheme: 'hmac-sha256', header: 'X-Sig' }, headers: { 'x-sig': 'forged' } },
      { field: 'headers.x-sig' },
    );
  });

  it('refuses a retry policy whose maxSeconds is below initialSeconds, naming retry.maxSeconds', async () => {
    await post(
      { url: 'https://example.com/', retry: { backoff: 'exponential', initialSeconds: 10, maxSeconds: 5, maxRetries: 3 } },
      { field: 'retry.maxSeconds' },
    );
    await post({ url: 'https://example.com/', retry: { backoff: 'exponential', initialSeconds: 1, maxSeconds: 5, maxRetries: 51 } }, {});
    await post({ url: 'https://example.com/', retry: { schedule: [-1] } }, {});
  });

  it('leaves an endpoint untouched when a PATCH is refused', async () => {
    const path = `/v1/tenants/${T}/endpoints/${epId}`;
    const before = (await herald.api.get(path)).body;
    await refused(herald, 'PATCH', path, { description: 'changed', url: 'ftp://x' }, { field: 'url' });
    await refused(herald, 'PATCH', path, { description: 'changed', headers: { Host: 'evil' } }, { field: 'headers.Host' });
    await refused(herald, 'PATCH', path, { description: 'changed', timeoutMs: 60_000 }, { field: 'timeoutMs' });
    await refused(herald, 'PATCH', path, { description: 'changed', secret: 'x'.repeat(40) }, { field: 'secret' }); // not patchable
    await refused(
      herald,
      'PATCH',
      path,
      { description: 'changed', retry: { backoff: 'exponential', initialSeconds: 10, maxSeconds: 5, maxRetries: 3 } },
      { field: 'retry.maxSeconds' },
    );
    expect((await herald.api.get(path)).body).toEqual(before);
  });

  it('refuses a client-chosen endpoint id (ids are generated, so none can reveal another tenant’s endpoint)', async () => {
    const other = await herald.api.tenant('Other');
    await refused(herald, 'POST', `/v1/tenants/${other}/endpoints`, { id: epId, url: 'https://example.com/' }, { field: 'id' });
    await refused(herald, 'POST', `/v1/tenants/${T}/endpoints`, { id: epId, url: 'https://example.com/' }, { field: 'id' });
  });

  it('answers 400 (not 500) to text PostgreSQL cannot store (NUL bytes)', async () => {
    await refused(herald, 'POST', `/v1/tenants/${T}/endpoints`, { url: 'https://example.com/', description: 'a\u0000b' });
    await refused(herald, 'POST', '/v1/tenants', { name: 'nul\u0000name' });
    await refused(herald, 'PATCH', `/v1/tenants/${T}`, { name: 'nul\u0000name' });
    await refused(herald, 'POST', `/v1/tenants/${T}/tokens`, { name: 'nul\u0000' });
    await refused(herald, 'POST', '/v1/event-types', { name: 'nul.schema', schema: { description: 'x\u0000' } });
    await refused(herald, 'POST', '/v1/event-types', { name: 'nul.desc', description: 'x\u0000' });
    const r = await herald.api.get(`/v1/tenants/${T}/audit-log?action=%00`);
    expect(r.status).toBe(400);
    expect((await herald.api.get(`/v1/tenants/${T}`)).body.name).toBe('Validation');
  });
});

describe('publish', () => {
  const publish = (body: unknown, want: Expect) => refused(herald, 'POST', `/v1/tenants/${P}/events`, body, want);

  it('refuses a payload that is not an object, naming payload', async () => {
    for (const payload of [[], [1, 2], 'string', 5, true, null]) await publish({ type: 'a.b', payload }, { field: 'payload' });
    await publish({ type: 'a.b' }, { field: 'payload' });
  });

  it('refuses a missing or malformed type, naming type', async () => {
    await publish({ payload: {} }, { field: 'type' });
    for (const type of ['bad type!', 'a..b', '.a', 'a.', '', 'é.x', 'a/b', 7]) await publish({ type, payload: {} }, { field: 'type' });
    await publish({ type: 'x'.repeat(201), payload: {} }, { field: 'type' });
  });

  it('refuses malformed ids and unknown fields', async () => {
    await publish({ id: 'has space', type: 'a.b', payload: {} }, { field: 'id' });
    await publish({ id: '', type: 'a.b', payload: {} }, { field: 'id' });
    await publish({ type: 'a.b', payload: {}, tenantId: P }, { field: 'tenantId' });
  });

  it('answers malformed JSON, an empty body and a non-object body with 400, not 500', async () => {
    for (const raw of ['{"type":', '{type: "a.b"}', "{'a':1}", '[1,', 'nul', '{"a":1}}']) {
      await publish(raw, { code: 'bad_request' });
    }
    await publish('', { code: 'bad_request' });
    await publish('null', {});
    await publish('"a string"', {});
    await publish('[]', {});
    // valid JSON with a __proto__ key: refused, naming the key (issue 11), never merged into a prototype
    await publish('{"type":"a.b","payload":{},"__proto__":{"polluted":true}}', { field: '__proto__' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a bad batch whole, naming events.<i>, and never answers 500', async () => {
    const batch = (body: unknown, want: Expect) => refused(herald, 'POST', `/v1/tenants/${P}/events/batch`, body, want);
    await batch({}, { field: 'events' });
    await batch({ events: [] }, { field: 'events' });
    await batch({ events: {} }, { field: 'events' });
    await batch({ events: [{ type: 'a.b', payload: {} }, { type: 'a.b', payload: [] }] }, { field: 'events.1.payload' });
    await batch({ events: [{ type: 'a.b', payload: {} }, { type: 'bad type!', payload: {} }] }, { field: 'events.1.type' });
    await batch({ events: [{ type: 'a.b', payload: {} }, { type: 'a.b' }] }, { field: 'events.1.payload' });
    await batch({ events: Array.from({ length: 1001 }, () => ({ type: 'a.b', payload: {} })) }, { field: 'events' });
    await refused(herald, 'POST', '/v1/tenants/no-such-tenant/events/batch', { events: [{ type: 'a.b', payload: {} }] }, { status: 404, code: 'not_found' });
    // The same id twice in one batch with the same content is one event, not an error
    // (with other content it is 409 idempotency_conflict: test/idempotency-conflict.test.ts).
    const r = await herald.api.post(`/v1/tenants/${P}/events/batch`, {
      events: [
        { id: 'twice-in-batch', type: 'a.b', payload: { n: 1 } },
        { id: 'twice-in-batch', type: 'a.b', payload: { n: 1 } },
      ],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const rows = await herald.running.db.query(`select 1 from events where tenant_id = $1 and id = 'twice-in-batch'`, [P]);
    expect(rows.rows).toHaveLength(1);
  });

  it('answers 413 to a body over maxBodyBytes, and writes nothing', async () => {
    const t = await small.api.tenant('Small');
    const big = { type: 'a.b', payload: { blob: 'x'.repeat(4096) } };
    const r = await refused(small, 'POST', `/v1/tenants/${t}/events`, big, { status: 413, code: 'payload_too_large' });
    expect(r.body.error.message).toContain('2048');
    await refused(small, 'POST', `/v1/tenants/${t}/endpoints`, { url: 'https://example.com/', description: 'x'.repeat(1990), headers: { a: 'y'.repeat(2000) } }, {
      status: 413,
      code: 'payload_too_large',
    });
    // just under the limit is fine
    expect((await small.api.publish(t, 'a.b', { blob: 'x'.repeat(1800) })).status).toBe(202);
  });

  it('answers 404 to an unknown tenant, including one deleted a moment ago', async () => {
    await refused(herald, 'POST', '/v1/tenants/no-such-tenant/events', { type: 'a.b', payload: {} }, { status: 404, code: 'not_found' });
    const gone = await herald.api.tenant('Soon gone');
    expect((await herald.api.publish(gone, 'a.b', {})).status).toBe(202); // the tenant is now known (cached)
    expect((await herald.api.delete(`/v1/tenants/${gone}`)).status).toBe(204);
    await refused(herald, 'POST', `/v1/tenants/${gone}/events`, { type: 'a.b', payload: {} }, { status: 404, code: 'not_found' });
  });

  it.skipIf(!process.env.DATABASE_URL)('answers 404, not 500, when another API process deleted the tenant it has cached', async () => {
    // A second API process on the same database (PostgreSQL only: PGlite is single-process).
    const other = await startHerald({}, { api: true, worker: false }, herald.database);
    try {
      const t = await herald.api.tenant('Deleted elsewhere');
      expect((await other.api.publish(t, 'a.b', {})).status).toBe(202); // `other` now has the tenant cached
      expect((await herald.api.delete(`/v1/tenants/${t}`)).status).toBe(204);
      await refused(other, 'POST', `/v1/tenants/${t}/events`, { type: 'a.b', payload: {} }, { status: 404, code: 'not_found' });
      const t2 = await herald.api.tenant('Deleted elsewhere too');
      expect((await other.api.post(`/v1/tenants/${t2}/events/batch`, { events: [{ type: 'a.b', payload: {} }] })).status).toBe(202);
      expect((await herald.api.delete(`/v1/tenants/${t2}`)).status).toBe(204);
      await refused(other, 'POST', `/v1/tenants/${t2}/events/batch`, { events: [{ type: 'a.b', payload: {} }] }, { status: 404, code: 'not_found' });
    } finally {
      await other.stop();
    }
  });

  it('answers 422 naming the payload field when a payload breaks its event type schema', async () => {
    const et = await herald.api.post('/v1/event-types', {
      name: 'user.signup',
      schema: {
        type: 'object',
        required: ['email'],
        properties: { email: { type: 'string', format: 'email' }, age: { type: 'integer', minimum: 0 } },
      },
    });
    expect(et.status).toBe(201);
    let r = await publish({ type: 'user.signup', payload: { email: 'a@example.com', age: 'old' } }, { status: 422, code: 'unprocessable', field: 'payload.age' });
    r = await publish({ type: 'user.signup', payload: { email: 'not an email' } }, { status: 422, code: 'unprocessable', field: 'payload.email' });
    r = await publish({ type: 'user.signup', payload: { age: 3 } }, { status: 422, code: 'unprocessable' });
    expect(r.body.error.message).toContain('email');
    expect((await herald.api.publish(P, 'user.signup', { email: 'a@example.com', age: 3 })).status).toBe(202);
    // In a batch, one bad payload refuses the whole batch, naming its index.
    r = await refused(
      herald,
      'POST',
      `/v1/tenants/${P}/events/batch`,
      { events: [{ type: 'user.signup', payload: { email: 'b@example.com' } }, { type: 'user.signup', payload: { email: 'c@example.com', age: -1 } }] },
      { status: 422, code: 'unprocessable', field: 'payload.age' },
    );
    expect(r.body.error.message).toContain('events[1]');
  });
});

describe('catalogue and tenants', () => {
  it('answers 409 to a duplicate tenant id', async () => {
    expect((await herald.api.post('/v1/tenants', { id: 'dup-tenant', name: 'One' })).status).toBe(201);
    const r = await refused(herald, 'POST', '/v1/tenants', { id: 'dup-tenant', name: 'Two' }, { status: 409, code: 'conflict' });
    expect(r.body.error.message).toContain('dup-tenant');
    expect((await herald.api.get('/v1/tenants/dup-tenant')).body.name).toBe('One');
    await refused(herald, 'POST', '/v1/tenants', { id: 'bad id!', name: 'x' }, { field: 'id' });
    await refused(herald, 'POST', '/v1/tenants', { name: '' }, { field: 'name' });
    await refused(herald, 'POST', '/v1/tenants', {}, { field: 'name' });
  });

  it('refuses an event type whose schema is not a valid JSON Schema, naming schema', async () => {
    await refused(herald, 'POST', '/v1/event-types', { name: 'bad.schema', schema: { type: 'nonsense' } }, { field: 'schema' });
    await refused(herald, 'POST', '/v1/event-types', { name: 'bad.schema', schema: { properties: { a: { minimum: 'x' } } } }, { field: 'schema' });
    await refused(herald, 'POST', '/v1/event-types', { name: 'bad.schema', schema: [] }, { field: 'schema' });
    await refused(herald, 'POST', '/v1/event-types', { name: 'bad name!' }, { field: 'name' });
    expect((await herald.api.get('/v1/event-types/bad.schema')).status).toBe(404);
    // and on update
    expect((await herald.api.post('/v1/event-types', { name: 'good.schema', schema: { type: 'object' } })).status).toBe(201);
    await refused(herald, 'PATCH', '/v1/event-types/good.schema', { schema: { type: 'nonsense' } }, { field: 'schema' });
    expect((await herald.api.get('/v1/event-types/good.schema')).body.schema).toEqual({ type: 'object' });
  });
});

describe('queries', () => {
  const lists = () => [
    '/v1/tenants',
    `/v1/tenants/${P}/endpoints`,
    `/v1/tenants/${P}/events`,
    `/v1/tenants/${P}/deliveries`,
    `/v1/tenants/${P}/audit-log`,
  ];

  it('refuses limit=0, limit=1000 and non-integers, naming limit', async () => {
    for (const path of lists()) {
      for (const limit of ['0', '1000', '251', '-1', '1.5', 'ten', '']) {
        await refused(herald, 'GET', `${path}?limit=${limit}`, undefined, { field: 'limit' });
      }
      expect((await herald.api.get(`${path}?limit=250`)).status).toBe(200);
    }
  });

  it('refuses cursors it did not issue, naming cursor', async () => {
    const forged = [
      'not-a-cursor!!',
      'eyJub3QiOiJqc29u', // base64 of a truncated object
      cursor(null),
      cursor([]),
      cursor({ id: 5 }),
      cursor({ createdAt: 'garbage', id: 'x' }),
      cursor({ createdAt: '0000-01-01T00:00:00.000Z', id: 'x' }),
      cursor({ createdAt: '2024-02-30T00:00:00.000Z', id: 'x' }),
      cursor({ createdAt: '+275760-09-13T00:00:00.000Z', id: 'x' }),
    ];
    for (const path of lists()) {
      for (const c of forged) await refused(herald, 'GET', `${path}?cursor=${encodeURIComponent(c)}`, undefined, { field: 'cursor' });
    }
    // audit cursors hold bigint ids
    for (const id of ['abc', '9'.repeat(25), '-1', '1e3']) {
      await refused(herald, 'GET', `/v1/tenants/${P}/audit-log?cursor=${cursor({ id })}`, undefined, { field: 'cursor' });
    }
    // and the cursors it does issue work
    for (const path of lists()) {
      const first = await herald.api.get(`${path}?limit=1`);
      expect(first.status).toBe(200);
      if (first.body.nextCursor) expect((await herald.api.get(`${path}?limit=1&cursor=${first.body.nextCursor}`)).status).toBe(200);
    }
  });

  it('refuses malformed or unstorable times, naming them, and never answers 500', async () => {
    await refused(herald, 'GET', `/v1/tenants/${P}/events?since=yesterday`, undefined, { field: 'since' });
    await refused(herald, 'GET', `/v1/tenants/${P}/events?until=2024-13-01T00:00:00Z`, undefined, { field: 'until' });
    for (const t of ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59-23:59']) {
      const r = await herald.api.get(`/v1/tenants/${P}/events?since=${encodeURIComponent(t)}`);
      expect(r.status, `${t}: ${JSON.stringify(r.body)}`).toBe(400);
    }
    await refused(herald, 'GET', `/v1/tenants/${P}/deliveries?status=lost`, undefined, { field: 'status' });
  });

  it('refuses a recovery window whose until is not after since, naming until', async () => {
    const path = `/v1/tenants/${T}/endpoints/${epId}/recover`;
    await refused(herald, 'POST', path, { since: '2024-05-02T00:00:00Z', until: '2024-05-01T00:00:00Z' }, { field: 'until' });
    await refused(herald, 'POST', path, { since: '2024-05-01T00:00:00Z', until: '2024-05-01T00:00:00Z' }, { field: 'until' });
    await refused(herald, 'POST', path, {}, { field: 'since' });
    await refused(herald, 'POST', path, { since: 'last week' }, { field: 'since' });
    await refused(herald, 'POST', path, { since: '0000-01-01T00:00:00Z' });
    expect((await herald.api.post(path, { since: '2024-05-01T00:00:00Z' })).status).toBe(202);
  });
});

describe('arbitrary bodies (fast-check)', () => {
  const str = fc.string({ unit: 'binary', maxLength: 30 });
  const anyJson = fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 });
  const serialize = (v: unknown) => {
    try {
      return JSON.stringify(v) ?? '';
    } catch {
      return String(v);
    }
  };

  /** Whole bodies: any JSON value, anything serialized, or raw text. */
  const rawBody = fc.oneof(
    anyJson.map(serialize),
    fc.jsonValue().map(serialize),
    fc.anything({ maxDepth: 3 }).map(serialize),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ maxLength: 200 }),
  );

  /** Mostly `valid`, sometimes `junk`: bodies get past the first check often enough to reach the database. */
  const mostly = <T, U>(valid: fc.Arbitrary<T>, junk: fc.Arbitrary<U>) =>
    fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: junk, weight: 1 });
  const headerName = fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}$/);
  const idArb = fc.stringMatching(/^[A-Za-z0-9_:-]{1,12}$/);

  /** Bodies of the right shape holding arbitrary values. */
  const endpointish = fc
    .record(
      {
        url: mostly(
          fc.webUrl({ withQueryParameters: true, withFragments: true }),
          fc.oneof(str, fc.constantFrom('https://127.0.0.1/', 'https://[::1]:0/', 'https://example.com/%00', 'https://exa\u0000mple.com/', 'https://169.254.169.254/')),
        ),
        description: mostly(fc.string({ maxLength: 40 }), str),
        eventTypes: mostly(fc.array(fc.constantFrom('*', 'a.*', 'a.b', 'order.created'), { maxLength: 3 }), fc.oneof(fc.constant(null), fc.array(str, { maxLength: 2 }))),
        disabled: mostly(fc.boolean(), anyJson),
        headers: mostly(fc.dictionary(headerName, fc.string({ maxLength: 20 }), { maxKeys: 3 }), fc.oneof(fc.dictionary(str, str, { maxKeys: 2 }), anyJson)),
        signature: mostly(
          fc.oneof(
            fc.constant({ scheme: 'standard' }),
            fc.record({ scheme: fc.constant('hmac-sha256'), header: headerName, encoding: fc.constantFrom('hex', 'base64') }),
          ),
          fc.oneof(fc.record({ scheme: fc.constant('hmac-sha256'), header: str, encoding: str }), anyJson),
        ),
        retry: mostly(
          fc.oneof(
            fc.record({ schedule: fc.array(fc.integer({ min: 0, max: 3600 }), { maxLength: 4 }), jitter: fc.double({ min: 0, max: 1, noNaN: true }) }),
            fc.record({
              backoff: fc.constant('exponential'),
              initialSeconds: fc.integer({ min: 0, max: 100 }),
              maxSeconds: fc.integer({ min: 0, max: 1000 }),
              maxRetries: fc.integer({ min: 0, max: 50 }),
            }),
          ),
          fc.record({ backoff: fc.constant('exponential'), initialSeconds: fc.double(), maxSeconds: fc.double(), maxRetries: fc.integer(), factor: fc.double() }, { requiredKeys: [] }),
        ),
        timeoutMs: mostly(fc.integer({ min: 100, max: 30_000 }), fc.oneof(fc.integer(), fc.double(), str)),
        // the secret must suit the signature scheme: whsec_ suits both
        secret: mostly(fc.constant('whsec_' + b64(32)), fc.oneof(str, fc.string({ minLength: 32, maxLength: 40 }))),
        id: mostly(idArb, str),
      },
      { requiredKeys: ['url'] },
    )
    .map(serialize);

  const publishish = fc
    .record(
      {
        id: mostly(idArb, str),
        type: mostly(fc.stringMatching(/^[a-z]{1,4}(\.[a-z]{1,4}){0,2}$/), str),
        payload: mostly(fc.dictionary(str, anyJson, { maxKeys: 4 }), anyJson),
      },
      { requiredKeys: ['type', 'payload'] },
    )
    .map(serialize);

  async function stable(): Promise<Record<string, number>> {
    return counts(herald);
  }

  /** Posts `body`; a 5xx fails, and a 4xx must be a well-formed error that wrote nothing. */
  async function check(path: string, body: string): Promise<void> {
    const before = await stable();
    const r = await herald.api.req('POST', path, body);
    expect(r.status, `${path} <- ${body.slice(0, 200)}: ${JSON.stringify(r.body)}`).toBeLessThan(500);
    if (r.status >= 400) {
      expect(typeof r.body?.error?.code).toBe('string');
      expect(typeof r.body?.error?.message).toBe('string');
      expect(await stable()).toEqual(before);
    }
  }

  async function stillUp(): Promise<void> {
    expect((await fetch(herald.url + '/healthz')).status).toBe(200);
    expect((await herald.api.publish(P, 'still.up', { ok: true })).status).toBe(202);
  }

  it('never answers 5xx to arbitrary endpoint-create and publish bodies', { timeout: 180_000 }, async () => {
    const t = await herald.api.tenant('Fuzz endpoints'); // never published to: no deliveries leave
    const p = await herald.api.tenant('Fuzz events'); // has no endpoints: no deliveries at all
    await fc.assert(
      fc.asyncProperty(rawBody, async (body) => {
        await check(`/v1/tenants/${t}/endpoints`, body);
        await check(`/v1/tenants/${p}/events`, body);
      }),
      { numRuns: 200 },
    );
    await stillUp();
  });

  it('never answers 5xx to well-shaped bodies holding arbitrary values', { timeout: 180_000 }, async () => {
    const t = await herald.api.tenant('Fuzz endpoints 2');
    const p = await herald.api.tenant('Fuzz events 2');
    await fc.assert(
      fc.asyncProperty(endpointish, publishish, async (ep, ev) => {
        await check(`/v1/tenants/${t}/endpoints`, ep);
        await check(`/v1/tenants/${p}/events`, ev);
      }),
      { numRuns: 200 },
    );
    await stillUp();
  });

  it('never answers 5xx to arbitrary list query strings', { timeout: 180_000 }, async () => {
    const isoish = fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59-23:59', '2024-01-01T00:00:00+15:59', '2016-12-31T23:59:60Z'),
      str,
    );
    const cursorish = fc.oneof(
      str,
      fc.record({ createdAt: isoish, id: str }, { requiredKeys: [] }).map(cursor),
      fc.record({ id: fc.oneof(str, fc.bigInt().map(String)) }).map(cursor),
    );
    const query = fc.record(
      {
        limit: fc.oneof(fc.integer().map(String), str),
        cursor: cursorish,
        since: isoish,
        until: isoish,
        type: str,
        status: fc.oneof(str, fc.constantFrom('pending', 'failed', 'succeeded')),
        endpointId: str,
        action: str,
      },
      { requiredKeys: [] },
    );
    const paths = ['/v1/tenants', `/v1/tenants/${P}/endpoints`, `/v1/tenants/${P}/events`, `/v1/tenants/${P}/deliveries`, `/v1/tenants/${P}/audit-log`];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), query, async (path, q) => {
        const qs = new URLSearchParams(q as Record<string, string>).toString();
        const r = await herald.api.get(`${path}?${qs}`);
        expect(r.status, `${path}?${qs}: ${JSON.stringify(r.body)}`).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
    await stillUp();
  });
});

describe('every operation that takes a body (generated from /openapi.json)', () => {
  // On `prod`: API only (no worker, so nothing is ever sent) and dev off.
  it('never answers 5xx to arbitrary bodies on any operation, and a refused body writes nothing', { timeout: 240_000 }, async () => {
    const doc = (await prod.api.get('/openapi.json')).body as { paths: Record<string, Record<string, { requestBody?: unknown }>> };
    const t = await prod.api.tenant('Fuzz every route');
    const ep = await prod.api.endpoint(t, { url: 'https://example.com/hook' });
    const pub = await prod.api.publish(t, 'fuzz.seed', { n: 1 });
    const deliveryId = (await prod.api.get(`/v1/tenants/${t}/events/${pub.body.id}/deliveries`)).body.data[0].id as string;
    await prod.api.post('/v1/event-types', { name: 'fuzz.type', description: 'x' });
    const ids: Record<string, string> = { tenantId: t, endpointId: ep.id, eventId: pub.body.id, deliveryId, name: 'fuzz.type' };
    const ops: { method: string; path: string }[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        // DELETE /v1/tenants/{tenantId} takes no body; it would only remove the fixtures
        if (op.requestBody !== undefined) ops.push({ method: method.toUpperCase(), path: path.replace(/\{(\w+)\}/g, (_m, n: string) => ids[n]!) });
      }
    }
    expect(ops.length).toBeGreaterThanOrEqual(12);
    const anyJson = fc.jsonValue({ stringUnit: 'binary', maxDepth: 5 });
    const body = fc.oneof(
      anyJson.map((v) => JSON.stringify(v) ?? ''),
      fc.dictionary(fc.string({ maxLength: 12 }), anyJson, { maxKeys: 6 }).map((v) => JSON.stringify(v)),
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    const seen = new Map<string, number>();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ops), body, async (op, raw) => {
        runs++;
        const before = await counts(prod);
        const r = await prod.api.req(op.method, op.path, raw);
        const k = `${op.method} ${op.path}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
        expect(r.status, `${k} <- ${raw.slice(0, 200)}: ${JSON.stringify(r.body)}`).toBeLessThan(500);
        if (r.status >= 400) {
          expect(typeof r.body?.error?.code).toBe('string');
          expect(await counts(prod), `${k} refused ${raw.slice(0, 200)} but changed rows`).toEqual(before);
        }
      }),
      { numRuns: 400 },
    );
    expect((await fetch(prod.url + '/healthz')).status).toBe(200);
    console.log(`[bad-input] ${ops.length} body-taking operations from /openapi.json, ${runs} fast-check runs (each operation hit ${Math.min(...seen.values())}-${Math.max(...seen.values())} times): 0 answers 5xx, 0 rows written by a refused body`);
  });

  it('answers deep nesting, huge strings and invalid UTF-8 with a 4xx or a 202, never a 5xx', async () => {
    const t = await prod.api.tenant('Odd bodies');
    // `n` arrays inside the body object and the payload object: n + 2 levels
    const deep = (n: number) => '{"type":"a.b","payload":{"x":' + '['.repeat(n) + ']'.repeat(n) + ',"s":"[[[[{{{{"}}';
    const cases: [string, string | Uint8Array<ArrayBuffer>][] = [
      ['nesting depth 128', deep(126)],
      ['nesting depth 129', deep(127)],
      ['nesting depth 100,000', deep(100_000)],
      ['1 MB string', JSON.stringify({ type: 'a.b', payload: { s: 'x'.repeat(1_000_000) } })],
      ['invalid UTF-8 in a string', new Uint8Array(Buffer.concat([Buffer.from('{"type":"a.b","payload":{"s":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}}')]))],
      ['lone surrogate escape', '{"type":"a.b","payload":{"s":"\\ud800"}}'],
      ['NUL escape', '{"type":"a.b","payload":{"s":"a\\u0000b"}}'],
    ];
    const outcome: string[] = [];
    for (const [what, raw] of cases) {
      const before = await counts(prod);
      const res = await fetch(`${prod.url}/v1/tenants/${t}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${prod.api.token}`, 'content-type': 'application/json' },
        body: new Blob([raw]),
      });
      const text = await res.text();
      expect(res.status, `${what}: ${text.slice(0, 200)}`).toBeLessThan(500);
      if (res.status >= 400) expect(await counts(prod), what).toEqual(before);
      else {
        // accepted: stored and readable
        const ev = await prod.api.get(`/v1/tenants/${t}/events/${JSON.parse(text).id}`);
        expect(ev.status).toBe(200);
      }
      outcome.push(`${what} ${res.status}`);
    }
    // within the limit is accepted, one level more is refused, whatever the brackets inside strings
    expect(outcome.slice(0, 3)).toEqual(['nesting depth 128 202', 'nesting depth 129 400', 'nesting depth 100,000 400']);
    console.log(`[bad-input] odd bodies: ${outcome.join(', ')}`);
  });
});
