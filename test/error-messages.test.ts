import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, SECRET_KEY, startHerald, type TestHerald } from './helpers/herald.js';
import { freePort, runHerald } from './helpers/process.js';
import { createServer, type Server } from 'node:http';

/**
 * Issue 11, "Error messages": each of these was a raw PostgreSQL error,
 * Fastify's own error shape, a misleading message or a stack trace. Each is
 * now a 4xx (or a one-line refusal at start) in the documented shape
 * `{error: {code, message, details?}}`, naming the field.
 */
let herald: TestHerald;
let T: string;
let ep: string;

beforeAll(async () => {
  herald = await startHerald();
  T = await herald.api.tenant('Errors');
  ep = (await herald.api.endpoint(T, { url: 'http://127.0.0.1:9/x' })).id;
});
afterAll(async () => herald?.stop());

interface Shaped {
  status: number;
  error: { code: string; message: string; details?: { field: string; message: string }[] };
}

async function send(method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<Shaped> {
  const r = await fetch(herald.url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
  });
  const text = await r.text();
  const parsed = text ? JSON.parse(text) : {};
  return { status: r.status, error: parsed.error };
}

/** The documented shape, a 4xx, and the field named in the message. */
function expectNamed(r: Shaped, status: number, field: string): void {
  expect(r.status, JSON.stringify(r)).toBe(status);
  expect(typeof r.error?.code).toBe('string');
  expect(r.error.message.startsWith(`${field}: `) || r.error.message.includes(`.${field}: `), r.error.message).toBe(true);
}

describe('bodies', () => {
  it('answers a __proto__ key in valid JSON with a 400 naming where it is, not "not valid JSON"', async () => {
    const r = await send('POST', `/v1/tenants/${T}/events`, '{"type":"a.b","payload":{"x":{"__proto__":{"admin":true}}}}');
    expectNamed(r, 400, 'payload.x.__proto__');
    expect(r.error.code).toBe('validation_error');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    const top = await send('POST', '/v1/tenants', '{"name":"p","__proto__":{"x":1}}');
    expectNamed(top, 400, '__proto__');
  });

  it('answers text/plain and compressed bodies with 415', async () => {
    const plain = await send('POST', `/v1/tenants/${T}/events`, '{"type":"a.b","payload":{}}', { 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    expect(plain.error.code).toBe('unsupported_media_type');
    const gz = await send('POST', `/v1/tenants/${T}/events`, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]), { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(415);
    expect(gz.error.code).toBe('unsupported_media_type');
    expect(gz.error.message).toMatch(/content-encoding/i);
  });

  it('rotates a secret with no body at all', async () => {
    const r = await fetch(`${herald.url}/v1/tenants/${T}/endpoints/${ep}/secret/rotate`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(r.status).toBe(200);
    expect((await r.json()).secret).toMatch(/^whsec_/);
  });

  it('names the field holding a NUL byte instead of passing PostgreSQL’s error on', async () => {
    expectNamed(await send('POST', '/v1/tenants', JSON.stringify({ name: 'a\u0000b' })), 400, 'name');
    expectNamed(await send('PATCH', `/v1/tenants/${T}/endpoints/${ep}`, JSON.stringify({ description: 'x\u0000' })), 400, 'description');
    expectNamed(await send('POST', '/v1/event-types', JSON.stringify({ name: 'nul.desc', description: '\u0000' })), 400, 'description');
    expectNamed(await send('POST', `/v1/tenants/${T}/events`, JSON.stringify({ type: 'a.b', payload: {}, orderingKey: 'k\u0000' })), 400, 'orderingKey');
    expectNamed(await send('POST', `/v1/tenants/${T}/events/batch`, JSON.stringify({ events: [{ type: 'a.b', payload: {}, orderingKey: '\u0000' }] })), 400, 'events[0].orderingKey');
    expectNamed(await send('GET', `/v1/tenants/${T}/events?type=a%00b`), 400, 'type');
    expectNamed(await send('GET', `/v1/tenants/${T}/audit-log?action=x%00`), 400, 'action');
    // a payload may hold it (stored as JSON text, delivered as sent)
    expect((await send('POST', `/v1/tenants/${T}/events`, JSON.stringify({ type: 'a.b', payload: { s: 'x\u0000y' } }))).status).toBe(202);
  });

  it('names an out-of-range date', async () => {
    expectNamed(await send('GET', `/v1/tenants/${T}/events?since=0000-01-01T00:00:00Z`), 400, 'since');
    expectNamed(await send('POST', `/v1/tenants/${T}/endpoints/${ep}/recover`, JSON.stringify({ since: '0000-01-01T00:00:00Z' })), 400, 'since');
  });

  it('blames initialSeconds, not retry.schedule, for a bad backoff', async () => {
    const r = await send('POST', `/v1/tenants/${T}/endpoints`, JSON.stringify({ url: 'http://127.0.0.1:9/y', retry: { backoff: 'exponential', initialSeconds: -5, maxSeconds: 60, maxRetries: 3 } }));
    expect(r.status).toBe(400);
    expect(r.error.message).toMatch(/retry\.initialSeconds/);
    expect(r.error.message).not.toMatch(/schedule/);
    const s = await send('POST', `/v1/tenants/${T}/endpoints`, JSON.stringify({ url: 'http://127.0.0.1:9/y', retry: { schedule: [-1] } }));
    expect(s.error.message).toMatch(/retry\.schedule/);
  });

  it('answers a tenant id over 200 characters with 400 naming it, not 404 "no route"', async () => {
    const r = await send('GET', `/v1/tenants/${'t'.repeat(300)}/endpoints`);
    expectNamed(r, 400, 'tenantId');
  });

  it('answers a Content-Length shorter than the body in the documented shape', async () => {
    const port = new URL(herald.url).port;
    const body = '{"type":"a.b","payload":{"n":1}}';
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1', () => {
        s.write(
          `POST /v1/tenants/${T}/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${ADMIN_TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 10\r\nconnection: close\r\n\r\n${body}`,
        );
      });
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    const responses = text.split(/(?=HTTP\/1\.1 )/).filter(Boolean);
    expect(responses.length).toBeGreaterThan(0);
    for (const res of responses) {
      expect(res).toMatch(/^HTTP\/1\.1 4\d\d/);
      const json = res.slice(res.indexOf('\r\n\r\n') + 4);
      expect(JSON.parse(json).error.code, res).toMatch(/^[a-z_]+$/);
    }
  });

  it('answers a listing under an unknown tenant with 404, admin token included', async () => {
    for (const p of ['endpoints', 'events', 'deliveries', 'audit-log', 'stats']) {
      const r = await send('GET', `/v1/tenants/no-such-tenant/${p}`);
      expect(r.status, p).toBe(404);
      expect(r.error.message, p).toBe('tenant not found');
    }
    // an existing tenant with nothing in it is still an empty list
    const empty = await herald.api.tenant('Empty');
    expect((await herald.api.get(`/v1/tenants/${empty}/events`)).body.data).toEqual([]);
  });
});

describe('start', () => {
  let blocker: Server;
  afterAll(() => new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r())));

  it('says the port is in use instead of printing a stack trace', async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    const env: Record<string, string> = {
      PORT: String(port),
      HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
      HERALD_SECRET_KEYS: SECRET_KEY, // the test database's secrets are sealed with it (another key is refused at start)
      ...(herald.database.url ? { DATABASE_URL: herald.database.url } : { HERALD_DATA_DIR: `${herald.database.dataDir}-port` }),
    };
    const r = await runHerald(['api'], env);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`port ${port} is in use; set PORT`);
    expect(r.output).not.toMatch(/\n\s+at /);
  }, 60_000);
});
