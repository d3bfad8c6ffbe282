import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResponseBudget, SMALL_RESPONSE_BYTES, send } from '../src/delivery/sender.js';
import { startHerald, type TestHerald } from './helpers/herald.js';

/*
 * Receivers that answer every delivery with a large body (issue 10): the
 * worker keeps the first HERALD_RESPONSE_BODY_CAP_BYTES, hangs up on the
 * rest instead of reading it, and drains about as fast as when receivers
 * answer with a few bytes. The receiver is a real node:http server on
 * loopback that streams its body lazily with backpressure, so what it
 * managed to write shows how much the worker read (plus socket buffers).
 */

const CAP = 64 * 1024; // HERALD_RESPONSE_BODY_CAP_BYTES used below
const BIG = 16 * 1024 * 1024;
const ENDPOINTS = 20;
const EVENTS = 10; // × ENDPOINTS deliveries per tenant
const TIMEOUT_MS = 10_000; // per-endpoint HTTP timeout

interface Answer {
  written: number;
  closedEarly: boolean;
}

let herald: TestHerald;
let server: Server;
let port = 0;
let connections = 0;
/** Sockets that carried a 16 MB answer, and requests that came on one of them afterwards. */
const carriedBig = new WeakSet<object>();
let reusedAfterBig = 0;
const answers: Promise<Answer>[] = [];
const block = Buffer.alloc(64 * 1024, 'x'); // reused: nothing of 16 MB is ever allocated here

/** Streams BIG bytes honouring backpressure; resolves with what got written before the client went away. */
function streamBig(res: ServerResponse): Promise<Answer> {
  return new Promise((resolve) => {
    let written = 0;
    let closed = false;
    res.on('close', () => {
      closed = true;
      resolve({ written, closedEarly: written < BIG || !res.writableFinished });
    });
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BIG) });
    const pump = () => {
      while (!closed && written < BIG) {
        written += block.length;
        if (!res.write(block)) return void res.once('drain', pump);
      }
      if (!closed) res.end();
    };
    pump();
  });
}

/** 200 with no content-length, then one byte every 50 ms until the client goes away. */
function trickle(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  const timer = setInterval(() => res.write('.'), 50);
  res.on('close', () => clearInterval(timer));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (carriedBig.has(req.socket)) reusedAfterBig++;
    if (req.url?.startsWith('/big/')) carriedBig.add(req.socket);
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/big/')) answers.push(streamBig(res));
      else if (req.url?.startsWith('/direct/')) void streamBig(res);
      else if (req.url?.startsWith('/trickle/')) trickle(res);
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.on('connection', () => connections++);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  herald = await startHerald({ responseBodyCapBytes: CAP, circuitBreakerFailures: 0 });
}, 120_000);

afterAll(async () => {
  await herald?.stop();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

/** A tenant with ENDPOINTS endpoints under `/<kind>/<i>`, EVENTS events published in one batch; resolves once nothing is pending. */
async function drain(kind: 'big' | 'small'): Promise<{ tenant: string; seconds: number }> {
  const tenant = await herald.api.tenant(`large-responses-${kind}`);
  for (let i = 0; i < ENDPOINTS; i++) await herald.api.endpoint(tenant, { url: `http://127.0.0.1:${port}/${kind}/${i}`, timeoutMs: TIMEOUT_MS });
  const started = performance.now();
  const events = Array.from({ length: EVENTS }, (_, i) => ({ type: 'large.test', payload: { i } }));
  const pub = await herald.api.post(`/v1/tenants/${tenant}/events/batch`, { events });
  expect(pub.status).toBe(202);
  const until = Date.now() + 60_000;
  for (;;) {
    const pending = await herald.api.get(`/v1/tenants/${tenant}/deliveries?status=pending&limit=1`);
    expect(pending.status).toBe(200);
    if (pending.body.data.length === 0) break;
    if (Date.now() > until) throw new Error(`${kind}: deliveries still pending after 60 s`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { tenant, seconds: (performance.now() - started) / 1000 };
}

async function deliveriesOf(tenant: string): Promise<any[]> {
  const list = await herald.api.get(`/v1/tenants/${tenant}/deliveries?limit=250`);
  expect(list.status).toBe(200);
  return Promise.all(list.body.data.map(async (d: { id: string }) => (await herald.api.get(`/v1/tenants/${tenant}/deliveries/${d.id}`)).body));
}

describe('receivers answering with 16 MB bodies', () => {
  it('every attempt succeeds once with the body capped at 64 KiB (4 KiB past the budget), the receiver is cut off early, and the drain keeps pace with small answers', async () => {
    const small = await drain('small');
    const connectionsBefore = connections;
    const big = await drain('big');
    const bigConnections = connections - connectionsBefore;

    const ds = await deliveriesOf(big.tenant);
    expect(ds).toHaveLength(ENDPOINTS * EVENTS);
    let whole = 0;
    for (const d of ds) {
      expect(d.status).toBe('succeeded');
      expect(d.attempts).toBe(1);
      const a = d.attemptLog[0];
      expect(a.error).toBeNull();
      expect(a.response.status).toBe(200);
      expect(a.response.bodyTruncated).toBe(true);
      // ASCII body: exactly the cap, not a byte more, not a chunk less; or, for the sends
      // past the process's 4 MiB budget (64 at once), exactly the short prefix
      if (a.response.body.length === CAP) whole++;
      else expect(a.response.body).toBe('x'.repeat(SMALL_RESPONSE_BYTES));
      expect(a.response.body).toMatch(/^x+$/);
      expect(a.durationMs).toBeLessThan(TIMEOUT_MS);
    }
    expect(whole).toBeGreaterThanOrEqual(64);

    // The worker hung up on every answer long before its end instead of reading 16 MB.
    const done = await Promise.race([Promise.all(answers), new Promise<Answer[]>((r) => setTimeout(() => r([]), 10_000))]);
    expect(done).toHaveLength(ENDPOINTS * EVENTS);
    expect(done.every((s) => s.closedEarly)).toBe(true);
    const writtenMb = done.reduce((n, s) => n + s.written, 0) / 2 ** 20;
    // Hanging up costs a connection per answer (draining 16 MB to keep one would cost far more):
    // no connection that carried a 16 MB answer is used again. (Some of the first big deliveries
    // reuse keep-alive connections of the small drain, so new connections are fewer than answers.)
    expect(reusedAfterBig).toBe(0);

    console.log(
      `[large-responses] ${ENDPOINTS * EVENTS} deliveries: small answers ${small.seconds.toFixed(2)} s, 16 MB answers ${big.seconds.toFixed(2)} s; ` +
        `receiver wrote ${(writtenMb / done.length).toFixed(1)} MiB per 16 MB answer on average (socket buffers), ${bigConnections} new connections`,
    );
    // Not slowed: a generous bound, the machine is shared. Reading the bodies to the end would take
    // ENDPOINTS × EVENTS × 16 MB = 3.2 GB through loopback.
    expect(big.seconds).toBeLessThan(small.seconds * 4 + 5);
  }, 120_000);
});

/** Remembers the most bytes it ever held. */
class WatchedBudget extends ResponseBudget {
  most = 0;

  protected override add(bytes: number): void {
    super.add(bytes);
    this.most = Math.max(this.most, this.held);
  }
}

describe('the response budget (send() directly, 16 MB answers)', () => {
  const request = (path: string, timeoutMs = TIMEOUT_MS) => ({
    url: `http://127.0.0.1:${port}${path}`,
    headers: { 'content-type': 'application/json' },
    body: '{}',
    timeoutMs,
  });

  it('sends beyond the budget keep their first 4 KiB: never more held than the budget and the short prefixes, every body capped, all of it given back', async () => {
    const dispatcher = new Agent({ connections: 16 });
    const budget = new WatchedBudget(2 * CAP);
    try {
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => send(dispatcher, request(`/direct/${i}`), CAP, budget)));
      for (const r of results) {
        expect(r.errorCode).toBeNull();
        expect(r.status).toBe(200);
        expect(r.bodyTruncated).toBe(true);
        expect([CAP, SMALL_RESPONSE_BYTES]).toContain(r.body?.length);
        expect(r.body).toMatch(/^x+$/);
      }
      expect(results.some((r) => r.body?.length === CAP)).toBe(true);
      expect(budget.most).toBeLessThanOrEqual(2 * CAP + 12 * SMALL_RESPONSE_BYTES);
      expect(budget.most).toBeGreaterThan(0);
      expect(budget.held).toBe(0);
    } finally {
      await dispatcher.close();
    }
  });

  it('reserves the whole want while it fits (or nothing else is held), the short prefix past it, and small answers in full', () => {
    const budget = new ResponseBudget(CAP);
    expect(budget.reserve(2 * CAP)).toBe(2 * CAP); // nothing else held: one answer may take more than the limit
    expect(budget.reserve(SMALL_RESPONSE_BYTES + 1)).toBe(SMALL_RESPONSE_BYTES);
    expect(budget.reserve(100)).toBe(100);
    expect(budget.reserve(SMALL_RESPONSE_BYTES)).toBe(SMALL_RESPONSE_BYTES);
    expect(budget.held).toBe(2 * CAP + 2 * SMALL_RESPONSE_BYTES + 100);
    budget.release(2 * CAP);
    expect(budget.reserve(CAP - 2 * SMALL_RESPONSE_BYTES - 100)).toBe(CAP - 2 * SMALL_RESPONSE_BYTES - 100);
    expect(budget.reserve(SMALL_RESPONSE_BYTES + 1)).toBe(SMALL_RESPONSE_BYTES);
    budget.release(CAP - 2 * SMALL_RESPONSE_BYTES - 100);
    budget.release(3 * SMALL_RESPONSE_BYTES);
    budget.release(100);
    expect(budget.held).toBe(0);
  });

  it('a send the budget has no room for is answered at once with its first 4 KiB, never held until its deadline', async () => {
    const dispatcher = new Agent({ connections: 4 });
    const budget = new ResponseBudget(CAP);
    try {
      // No content-length: the trickling answer reserves the whole cap and keeps it until its own timeout.
      const holder = send(dispatcher, request('/trickle/0', 1_500), CAP, budget);
      await new Promise((r) => setTimeout(r, 200));
      expect(budget.held).toBe(CAP);
      const late = await send(dispatcher, request('/direct/late', 1_000), CAP, budget);
      expect(late.errorCode).toBeNull();
      expect(late.ok).toBe(true);
      expect(late.bodyTruncated).toBe(true);
      expect(late.body).toBe('x'.repeat(SMALL_RESPONSE_BYTES));
      expect(late.durationMs).toBeLessThan(900);
      expect(budget.held).toBe(CAP);
      const held = await holder;
      expect(held.errorCode).toBe('timeout');
      expect(budget.held).toBe(0);
    } finally {
      await dispatcher.close();
    }
  });
});
