import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WebhookVerificationError,
  expressMiddleware,
  fastifyVerify,
  signHmac,
  signStandardHeaders,
  verifyNodeRequest,
  verifyRequest,
  type VerifiedWebhook,
} from '../src/index.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_adapter_1';
const BODY = JSON.stringify({ type: 'user.created', data: { id: 42 } });

async function signed(body = BODY): Promise<Record<string, string>> {
  return {
    'content-type': 'application/json',
    ...(await signStandardHeaders(SECRET, ID, Math.floor(Date.now() / 1000), body)),
  };
}

describe('node:http (verifyNodeRequest)', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const options = req.url === '/hmac' ? { header: 'x-signature' } : { maxBytes: 1024 };
      verifyNodeRequest(req, SECRET, options).then(
        (webhook) => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(webhook));
        },
        (error: unknown) => {
          const status = error instanceof WebhookVerificationError ? 400 : 500;
          res.writeHead(status, { 'content-type': 'application/json' }).end(
            JSON.stringify({ error: (error as WebhookVerificationError).code, message: (error as Error).message }),
          );
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('answers 200 to a signed request', async () => {
    const response = await fetch(`${url}/`, { method: 'POST', headers: await signed(), body: BODY });
    expect(response.status).toBe(200);
    const webhook = (await response.json()) as VerifiedWebhook;
    expect(webhook.id).toBe(ID);
    expect(webhook.payload).toEqual(JSON.parse(BODY));
  });

  it('answers 400 to a tampered body and to missing headers', async () => {
    const tampered = await fetch(`${url}/`, { method: 'POST', headers: await signed(), body: BODY.replace('42', '43') });
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({ error: 'no_matching_signature' });

    const headers = await signed();
    delete headers['webhook-signature'];
    const missing = await fetch(`${url}/`, { method: 'POST', headers, body: BODY });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: 'missing_header', message: expect.stringContaining('webhook-signature') });
  });

  it('verifies header-HMAC requests', async () => {
    const headers = { 'content-type': 'application/json', 'x-signature': await signHmac(SECRET, BODY) };
    expect((await fetch(`${url}/hmac`, { method: 'POST', headers, body: BODY })).status).toBe(200);
    expect((await fetch(`${url}/hmac`, { method: 'POST', headers, body: BODY + '\n' })).status).toBe(400);
  });

  it('reads a body sent in several chunks', async () => {
    const encoder = new TextEncoder();
    const parts = [BODY.slice(0, 5), BODY.slice(5, 20), BODY.slice(20)];
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (const part of parts) {
          controller.enqueue(encoder.encode(part));
          await new Promise((r) => setTimeout(r, 5));
        }
        controller.close();
      },
    });
    const response = await fetch(`${url}/`, {
      method: 'POST',
      headers: await signed(),
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(200);
  });

  it('answers 400 to a body over maxBytes, by Content-Length or while streaming', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(2000) });
    const response = await fetch(`${url}/`, { method: 'POST', headers: await signed(big), body: big });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_body', message: expect.stringContaining('1024') });

    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const chunked = await fetch(`${url}/`, {
      method: 'POST',
      headers: await signed(big),
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(400);
    // The server still answers the next request on a fresh or reused connection.
    expect((await fetch(`${url}/`, { method: 'POST', headers: await signed(), body: BODY })).status).toBe(200);
  });
});

describe('web Request (verifyRequest)', () => {
  it('verifies a signed Request and rejects a tampered one', async () => {
    const request = new Request('https://example.test/webhooks', { method: 'POST', headers: await signed(), body: BODY });
    expect(await verifyRequest(request, SECRET)).toMatchObject({ id: ID, payload: JSON.parse(BODY) });

    const tampered = new Request('https://example.test/webhooks', {
      method: 'POST',
      headers: await signed(),
      body: BODY.replace('user', 'admin'),
    });
    await expect(verifyRequest(tampered, SECRET)).rejects.toMatchObject({ code: 'no_matching_signature' });
  });

  it('throws a TypeError when the body was already read', async () => {
    const request = new Request('https://example.test/webhooks', { method: 'POST', headers: await signed(), body: BODY });
    await request.text();
    await expect(verifyRequest(request, SECRET)).rejects.toBeInstanceOf(TypeError);
  });
});

describe('fastify (fastifyVerify)', () => {
  it('verifies with the raw-body content-type parser and answers 400 on failure', async () => {
    const app = Fastify();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.post('/webhooks', async (request, reply) => {
      try {
        const webhook = await fastifyVerify(request, SECRET);
        return { ok: true, id: webhook.id, payload: webhook.payload };
      } catch (error) {
        if (error instanceof WebhookVerificationError) return reply.code(400).send({ error: error.code });
        throw error;
      }
    });
    const ok = await app.inject({ method: 'POST', url: '/webhooks', headers: await signed(), payload: BODY });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ ok: true, id: ID, payload: JSON.parse(BODY) });
    const bad = await app.inject({ method: 'POST', url: '/webhooks', headers: await signed(), payload: BODY + ' ' });
    expect(bad.statusCode).toBe(400);
    await app.close();
  });

  it('throws a TypeError pointing at the parser setup when the body was parsed', async () => {
    await expect(fastifyVerify({ body: { a: 1 }, headers: await signed() }, SECRET)).rejects.toThrow(/addContentTypeParser/);
  });
});

describe('express (expressMiddleware) with fake req/res', () => {
  function fakeRes() {
    const res = {
      statusCode: 200,
      sent: undefined as unknown,
      status(code: number) {
        res.statusCode = code;
        return res;
      },
      json(body: unknown) {
        res.sent = body;
        return res;
      },
    };
    return res;
  }

  function run(middleware: ReturnType<typeof expressMiddleware>, req: { body?: unknown; headers: Record<string, string> }) {
    const res = fakeRes();
    return new Promise<{ res: ReturnType<typeof fakeRes>; nextArgs?: unknown[]; req: typeof req & { webhook?: VerifiedWebhook } }>(
      (resolve) => {
        const originalJson = res.json;
        res.json = (body: unknown) => {
          originalJson(body);
          resolve({ res, req });
          return res;
        };
        middleware(req, res, (...args: unknown[]) => resolve({ res, nextArgs: args, req }));
      },
    );
  }

  it('sets req.webhook and calls next() for a signed Buffer body', async () => {
    const middleware = expressMiddleware(SECRET);
    const out = await run(middleware, { body: Buffer.from(BODY), headers: await signed() });
    expect(out.nextArgs).toEqual([]);
    expect(out.req.webhook).toMatchObject({ id: ID, payload: JSON.parse(BODY) });
  });

  it('answers 400 with the error code on failure', async () => {
    const middleware = expressMiddleware(SECRET);
    const out = await run(middleware, { body: Buffer.from(BODY + 'x'), headers: await signed() });
    expect(out.nextArgs).toBeUndefined();
    expect(out.res.statusCode).toBe(400);
    expect(out.res.sent).toMatchObject({ error: 'no_matching_signature' });
  });

  it('throws a clear error when express.raw() is missing', async () => {
    const middleware = expressMiddleware(SECRET);
    const res = fakeRes();
    const headers = await signed();
    expect(() => middleware({ body: undefined, headers }, res, () => {})).toThrow(/express\.raw/);
    expect(() => middleware({ body: JSON.parse(BODY), headers }, res, () => {})).toThrow(/parsed object/);
  });

  it('throws at setup for a bad secret', () => {
    expect(() => expressMiddleware('')).toThrow(TypeError);
  });
});
