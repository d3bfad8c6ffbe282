import { execFile } from 'node:child_process';
import dns from 'node:dns';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { freePort } from './helpers/process.js';

/*
 * Hostile and broken receivers (issue 3): every receiver here is a server
 * this file starts on 127.0.0.1, and the one hostname that is not loopback
 * (`*.invalid`, RFC 6761: never resolves) is answered by a resolver the test
 * controls, so no packet leaves the machine. Each case asserts what the
 * attempt log records and the exact number of attempts.
 */

const CAP = 64 * 1024; // HERALD_RESPONSE_BODY_CAP_BYTES used below
const RETRY_AFTER_MAX_S = 3; // HERALD_RETRY_AFTER_MAX_SECONDS used below
const THREE = { schedule: [0.05, 0.05], jitter: 0 }; // 1 + 2 retries = exactly 3 attempts
const GiB = 1024 ** 3;

let herald: TestHerald;
let tmp: string;
const closers: (() => Promise<void> | void)[] = [];
const realLookup = dns.lookup;
/** `.invalid` lookups answered by the test's resolver (none reaches the machine's resolver). */
let invalidLookups = 0;

// --- loopback servers --------------------------------------------------------

interface RawServer {
  port: number;
  /** Connections accepted. */
  connections: number;
  /** HTTP requests seen (request lines), across connections. */
  requests: number;
}

/** A raw TCP server: `onRequest` gets the socket once a request's first bytes arrive. */
async function rawServer(onRequest: (socket: Socket, s: RawServer) => void): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state: RawServer = { port: 0, connections: 0, requests: 0 };
  const server: NetServer = createNetServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let seen = false;
    socket.on('data', (d: Buffer) => {
      state.requests += (d.toString('latin1').match(/^POST /gm) ?? []).length;
      if (!seen) {
        seen = true;
        onRequest(socket, state);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return state;
}

interface Hit {
  path: string;
  at: number;
  webhookId: string;
  body: string;
}

/** An HTTP server that records every request and answers with `respond`. */
async function httpServer(respond: (req: IncomingMessage, res: ServerResponse, hit: Hit, n: number) => void): Promise<{ port: number; hits: Hit[]; url: (p: string) => string }> {
  const hits: Hit[] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit = { path: req.url ?? '/', at: Date.now(), webhookId: String(req.headers['webhook-id'] ?? ''), body: Buffer.concat(chunks).toString() };
      hits.push(hit);
      respond(req, res, hit, hits.filter((h) => h.path === hit.path).length);
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { port, hits, url: (p: string) => `http://127.0.0.1:${port}${p}` };
}

/**
 * Streams `total` bytes made by `chunk()` lazily, honouring backpressure, and
 * resolves with how many bytes it could write before the client went away.
 */
function streamLazily(res: ServerResponse, total: number, chunk: () => Buffer): Promise<{ written: number; closedEarly: boolean }> {
  return new Promise((resolve) => {
    let written = 0;
    let closed = false;
    res.on('close', () => {
      closed = true;
      resolve({ written, closedEarly: written < total });
    });
    const pump = () => {
      while (!closed && written < total) {
        const c = chunk();
        written += c.length;
        if (!res.write(c)) return void res.once('drain', pump);
      }
      if (!closed) res.end();
    };
    pump();
  });
}

// --- helpers -----------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tenant with one endpoint; publishes one event and returns the delivery id. */
async function oneDelivery(endpoint: Record<string, unknown>, payload: Record<string, unknown> = { hello: 'receiver' }) {
  const t = await herald.api.tenant('Hostile');
  const ep = await herald.api.endpoint(t, endpoint);
  const pub = await herald.api.publish(t, 'hostile.test', payload);
  expect(pub.status).toBe(202);
  const ds = await herald.api.get(`/v1/tenants/${t}/events/${pub.body.id}/deliveries`);
  return { t, endpointId: ep.id, eventId: pub.body.id as string, deliveryId: ds.body.data[0].id as string };
}

/** Waits for a final state, then a little longer to prove no further attempt is made. */
async function finalDelivery(t: string, id: string, timeoutMs = 20_000): Promise<any> {
  await herald.api.waitDelivery(t, id, (d) => d.status !== 'pending', timeoutMs);
  await sleep(400);
  return (await herald.api.get(`/v1/tenants/${t}/deliveries/${id}`)).body;
}

const codes = (d: any) => d.attemptLog.map((a: any) => a.error?.code ?? null);
const statuses = (d: any) => d.attemptLog.map((a: any) => a.response?.status ?? null);

/** Peak RSS growth while `fn` runs, sampled every 20 ms. */
async function peakRssGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; growthMb: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, growthMb: (peak - base) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'herald-hostile-'));
  // RFC 6761: `.invalid` never resolves. Answer it here (NXDOMAIN, as getaddrinfo
  // reports it) instead of asking the machine's resolver: nothing leaves loopback.
  // Must be in place before Herald builds its dispatcher (it captures dns.lookup).
  (dns as { lookup: unknown }).lookup = ((host: string, opts: unknown, cb?: unknown) => {
    const callback = (typeof opts === 'function' ? opts : cb) as (e: NodeJS.ErrnoException | null, a?: unknown, f?: number) => void;
    if (/\.invalid\.?$/i.test(host)) {
      invalidLookups++;
      const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${host}`);
      err.code = 'ENOTFOUND';
      (err as { hostname?: string }).hostname = host;
      return void process.nextTick(() => callback(err, typeof opts === 'object' && (opts as { all?: boolean }).all ? [] : undefined));
    }
    return (realLookup as (...a: unknown[]) => void)(host, opts, cb);
  }) as typeof dns.lookup;
  herald = await startHerald({ responseBodyCapBytes: CAP, retryAfterMaxSeconds: RETRY_AFTER_MAX_S, circuitBreakerFailures: 0 });
}, 120_000);

afterAll(async () => {
  await herald?.stop();
  for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => undefined);
  (dns as { lookup: unknown }).lookup = realLookup;
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('hostile receivers: network failures (each exactly 3 attempts with schedule [0.05, 0.05])', () => {
  it('timeout: the server accepts and never answers', async () => {
    const srv = await rawServer(() => undefined);
    const { t, deliveryId } = await oneDelivery({ url: `http://127.0.0.1:${srv.port}/hang`, retry: THREE, timeoutMs: 500 });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(codes(d)).toEqual(['timeout', 'timeout', 'timeout']);
    for (const a of d.attemptLog) {
      expect(a.durationMs).toBeGreaterThanOrEqual(480);
      expect(a.durationMs).toBeLessThan(500 + 3_000);
    }
    expect(srv.requests).toBe(3);
  });

  it('connection refused: nothing listens on the port', async () => {
    const port = await freePort();
    const { t, deliveryId } = await oneDelivery({ url: `http://127.0.0.1:${port}/closed`, retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(codes(d)).toEqual(['connect_refused', 'connect_refused', 'connect_refused']);
    expect(statuses(d)).toEqual([null, null, null]);
  });

  it('connection reset: the server sends RST on the first bytes of the request', async () => {
    const srv = await rawServer((socket) => socket.resetAndDestroy());
    const { t, deliveryId } = await oneDelivery({ url: `http://127.0.0.1:${srv.port}/reset`, retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(codes(d)).toEqual(['reset', 'reset', 'reset']);
    expect(srv.connections).toBe(3);
  });

  it('connection closed mid-body: fewer bytes than content-length, then FIN', async () => {
    const srv = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b');
      setTimeout(() => socket.end(), 20);
    });
    const { t, deliveryId } = await oneDelivery({ url: `http://127.0.0.1:${srv.port}/short`, retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    // a 200 whose body was cut short is not a success
    expect(new Set(codes(d))).toEqual(new Set([expect.stringMatching(/^(reset|invalid_response)$/)]));
  });

  it('TLS error: an https URL pointing at a plain-TCP HTTP server', async () => {
    const srv = await rawServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'));
    const { t, deliveryId } = await oneDelivery({ url: `https://127.0.0.1:${srv.port}/plain`, retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(codes(d)).toEqual(['tls', 'tls', 'tls']);
    expect(srv.requests).toBe(0); // nothing was sent in clear text
  });

  it('TLS error: a self-signed certificate (openssl, made at test time) is refused, never sent to', async () => {
    const key = join(tmp, 'key.pem');
    const cert = join(tmp, 'cert.pem');
    await promisify(execFile)(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      { timeout: 30_000 },
    );
    let requests = 0;
    let handshakes = 0;
    const server = createHttpsServer({ key: await readFile(key), cert: await readFile(cert) }, (_req, res) => {
      requests++;
      res.writeHead(200).end('ok');
    });
    server.on('connection', () => handshakes++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    const port = (server.address() as AddressInfo).port;
    const { t, deliveryId } = await oneDelivery({ url: `https://127.0.0.1:${port}/self-signed`, retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(codes(d)).toEqual(['tls', 'tls', 'tls']);
    expect(d.attemptLog[0].error.message).toMatch(/SELF_SIGNED|CERT/);
    expect(handshakes).toBe(3);
    expect(requests).toBe(0);
  });

  it('DNS failure: a hostname under .invalid', async () => {
    const { t, deliveryId } = await oneDelivery({ url: 'http://does-not-exist.invalid/hook', retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(codes(d)).toEqual(['dns', 'dns', 'dns']);
    expect(d.attemptLog[0].error.message).toMatch(/ENOTFOUND/);
    expect(invalidLookups).toBeGreaterThanOrEqual(3); // answered locally, once per attempt
  });

  it('slowloris (headers): the status line, then one header byte every 200 ms forever: cut at the endpoint timeout', async () => {
    const timers = new Set<NodeJS.Timeout>();
    closers.push(() => timers.forEach(clearInterval));
    const srv = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nX-Slow: ');
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('a')), 200);
      timers.add(timer);
      socket.on('close', () => clearInterval(timer));
    });
    const { t, deliveryId } = await oneDelivery({ url: `http://127.0.0.1:${srv.port}/slow-headers`, retry: THREE, timeoutMs: 1_000 });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(codes(d)).toEqual(['timeout', 'timeout', 'timeout']);
    // the trickle does not extend the budget: the timeout is total, not idle
    for (const a of d.attemptLog) {
      expect(a.durationMs).toBeGreaterThanOrEqual(980);
      expect(a.durationMs).toBeLessThan(1_000 + 3_000);
    }
    // three requests (undici may open a spare idle connection after an abort; it carries no request)
    expect(srv.requests).toBe(3);
  });

  it('slowloris (body): complete headers, then one body byte every 200 ms: cut at the endpoint timeout', async () => {
    const timers = new Set<NodeJS.Timeout>();
    closers.push(() => timers.forEach(clearInterval));
    const srv = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n');
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('b')), 200);
      timers.add(timer);
      socket.on('close', () => clearInterval(timer));
    });
    const { t, deliveryId } = await oneDelivery({ url: `http://127.0.0.1:${srv.port}/slow-body`, retry: THREE, timeoutMs: 1_000 });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(codes(d)).toEqual(['timeout', 'timeout', 'timeout']);
    for (const a of d.attemptLog) expect(a.durationMs).toBeLessThan(1_000 + 3_000);
  });

  it('invalid characters in a response header (X-Bad: a\\x01b) are a recorded failure, not a crash', async () => {
    const srv = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\ncontent-length: 2\r\n\r\nok', 'latin1'));
    const { t, deliveryId } = await oneDelivery({ url: `http://127.0.0.1:${srv.port}/bad-header`, retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    // undici 7 throws HTTPParserError without a code (it indexes llhttp's name->number table by
    // number): sender.classify recognises it by name (docs/reliability.md, finding 1, fixed).
    for (const a of d.attemptLog) {
      expect(a.error.code).toBe('invalid_response');
      expect(a.error.message).toMatch(/does not match the HTTP\/1\.1 protocol|HPE_/);
      expect(a.response).toBeNull();
    }
    expect(srv.requests).toBe(3);
    // the worker is still healthy: a good endpoint still gets its delivery
    const ok = await httpServer((_q, res) => res.writeHead(200).end('fine'));
    const good = await oneDelivery({ url: ok.url('/after-bad-header') });
    expect((await finalDelivery(good.t, good.deliveryId)).status).toBe('succeeded');
  });

  it('a 1 MB header block is refused by the parser (bounded), a recorded failure', async () => {
    const srv = await rawServer((socket) => {
      const line = `X-Filler: ${'h'.repeat(1000)}\r\n`;
      socket.end(`HTTP/1.1 200 OK\r\n${line.repeat(1024)}content-length: 2\r\n\r\nok`);
    });
    const { t, deliveryId } = await oneDelivery({ url: `http://127.0.0.1:${srv.port}/header-flood`, retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    for (const a of d.attemptLog) {
      expect(a.error.code).toBe('invalid_response');
      expect(a.error.message).toMatch(/HEADERS_OVERFLOW|Headers Overflow/i);
    }
  });

  it('a response that is not HTTP at all (garbage bytes) is a recorded failure', async () => {
    const srv = await rawServer((socket) => socket.end('\u0000\u0001garbage, not HTTP\r\n\r\n'));
    const { t, deliveryId } = await oneDelivery({ url: `http://127.0.0.1:${srv.port}/garbage`, retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    for (const a of d.attemptLog) expect(['invalid_response', 'network']).toContain(a.error.code);
  });

  it('HTTP 500 (the plain failure class)', async () => {
    const srv = await httpServer((_q, res) => res.writeHead(500).end('down'));
    const { t, deliveryId } = await oneDelivery({ url: srv.url('/500'), retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(statuses(d)).toEqual([500, 500, 500]);
    expect(srv.hits).toHaveLength(3);
  });
});

describe('hostile receivers: bodies', () => {
  it('a 1 GB response (200) is read up to the cap, marked truncated, memory stays flat and the server stops early', async () => {
    const sent: Promise<{ written: number; closedEarly: boolean }>[] = [];
    const block = Buffer.alloc(64 * 1024, 'x'); // reused: nothing near 1 GB is ever allocated
    const srv = await httpServer((_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(GiB) });
      sent.push(streamLazily(res, GiB, () => block));
    });
    const { value: d, growthMb } = await peakRssGrowth(async () => {
      const { t, deliveryId } = await oneDelivery({ url: srv.url('/gigabyte'), retry: THREE });
      const out = await finalDelivery(t, deliveryId);
      await Promise.race([Promise.all(sent), sleep(10_000)]);
      return out;
    });
    expect(d.status).toBe('succeeded');
    expect(d.attempts).toBe(1);
    const r = d.attemptLog[0].response;
    expect(r.status).toBe(200);
    expect(r.bodyTruncated).toBe(true);
    expect(r.body.length).toBeLessThanOrEqual(CAP);
    expect(r.body.length).toBeGreaterThan(CAP / 2);
    expect(sent).toHaveLength(1);
    const s = await Promise.race([sent[0]!, sleep(10_000).then(() => ({ written: -1, closedEarly: false }))]);
    expect(s.closedEarly).toBe(true);
    expect(s.written).toBeLessThan(64 * 2 ** 20); // the worker hung up long before 1 GB
    console.log(`[hostile] 1 GB body: server wrote ${(s.written / 2 ** 20).toFixed(1)} MiB before the worker closed; peak RSS growth ${growthMb.toFixed(1)} MB`);
    expect(growthMb).toBeLessThan(100);
  });

  it('a 1 GB chunked response (no content-length) with status 500 is a failure: 3 capped attempts', async () => {
    const sent: Promise<{ written: number; closedEarly: boolean }>[] = [];
    const block = Buffer.alloc(64 * 1024, 'y');
    const srv = await httpServer((_q, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' }); // no length: transfer-encoding chunked, an open-ended body
      sent.push(streamLazily(res, GiB, () => block));
    });
    const { value: d, growthMb } = await peakRssGrowth(async () => {
      const { t, deliveryId } = await oneDelivery({ url: srv.url('/gigabyte-500'), retry: THREE });
      return finalDelivery(t, deliveryId);
    });
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(statuses(d)).toEqual([500, 500, 500]);
    for (const a of d.attemptLog) {
      expect(a.response.bodyTruncated).toBe(true);
      expect(a.response.body.length).toBeLessThanOrEqual(CAP);
    }
    const done = await Promise.race([Promise.all(sent), sleep(10_000).then(() => [])]);
    expect(done).toHaveLength(3);
    expect(done.every((s) => s.closedEarly && s.written < 64 * 2 ** 20)).toBe(true);
    expect(growthMb).toBeLessThan(100);
  });

  it('a gzip bomb (content-encoding: gzip, ~16 MB inflating to 16 GiB) is stored raw and capped, never inflated', async () => {
    // One gzip member of 16 MiB of zeros is ~16 KB; members concatenated are one valid gzip stream.
    const member = gzipSync(Buffer.alloc(16 * 2 ** 20), { level: 9 });
    // 1024 x 16 MiB = 16 GiB inflated. The compressed stream must be larger than loopback socket
    // buffers (~4 MiB seen here), or the server writes all of it before the worker hangs up.
    const members = 1024;
    const sent: Promise<{ written: number; closedEarly: boolean }>[] = [];
    const srv = await httpServer((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(member.length * members) });
      sent.push(streamLazily(res, member.length * members, () => member));
    });
    const { value: d, growthMb } = await peakRssGrowth(async () => {
      const { t, deliveryId } = await oneDelivery({ url: srv.url('/bomb'), retry: THREE });
      return finalDelivery(t, deliveryId);
    });
    expect(d.status).toBe('succeeded');
    const r = d.attemptLog[0].response;
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.bodyTruncated).toBe(true);
    expect(r.body.length).toBeLessThanOrEqual(CAP);
    // the stored bytes are the compressed stream: gzip magic 1f 8b (8b is not UTF-8, so U+FFFD)
    expect(r.body.charCodeAt(0)).toBe(0x1f);
    expect(r.body.charCodeAt(1)).toBe(0xfffd);
    expect(growthMb).toBeLessThan(100);
    const s = await Promise.race([sent[0]!, sleep(10_000).then(() => ({ written: -1, closedEarly: false }))]);
    expect(s.closedEarly).toBe(true);
    console.log(`[hostile] gzip bomb: ${member.length * members} bytes compressed (16 GiB inflated); server wrote ${(s.written / 2 ** 20).toFixed(1)} MiB; peak RSS growth ${growthMb.toFixed(1)} MB`);
  });

  it('a small gzip body under the cap is stored exactly as its compressed bytes', async () => {
    const gz = gzipSync(Buffer.from('{"ok":true}'.repeat(100)));
    const srv = await httpServer((_q, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gz));
    const { t, deliveryId } = await oneDelivery({ url: srv.url('/small-gzip') });
    const d = await finalDelivery(t, deliveryId);
    const expected = new TextDecoder().decode(gz).replaceAll('\u0000', '\uFFFD');
    expect(d.attemptLog[0].response.body).toBe(expected);
    expect(d.attemptLog[0].response.bodyTruncated).toBe(false);
  });

  it('a body with NUL bytes and invalid UTF-8 is recorded (NULs replaced) and the state is right', async () => {
    const raw = Buffer.from([0x61, 0x00, 0x62, 0xff, 0xfe, 0x63, 0xc3, 0x28, 0x00]);
    const srv = await httpServer((req, res) => res.writeHead(req.url === '/nul-500' ? 500 : 200, { 'content-type': 'text/plain' }).end(raw));
    const ok = await oneDelivery({ url: srv.url('/nul-200'), retry: THREE });
    const bad = await oneDelivery({ url: srv.url('/nul-500'), retry: THREE });
    const dOk = await finalDelivery(ok.t, ok.deliveryId);
    const dBad = await finalDelivery(bad.t, bad.deliveryId);
    const expected = 'a\uFFFDb\uFFFD\uFFFDc\uFFFD(\uFFFD';
    expect(dOk.status).toBe('succeeded');
    expect(dOk.attempts).toBe(1);
    expect(dOk.attemptLog[0].response.body).toBe(expected);
    expect(dBad.status).toBe('failed');
    expect(dBad.attempts).toBe(3);
    expect(dBad.attemptLog.map((a: any) => a.response.body)).toEqual([expected, expected, expected]);
  });
});

describe('hostile receivers: redirects, 410, Retry-After', () => {
  it.each([301, 302, 307, 308])('a %i redirect is never followed; the target is never contacted', async (code) => {
    const target = await httpServer((_q, res) => res.writeHead(200).end('should never be reached'));
    const srv = await httpServer((_q, res) => res.writeHead(code, { location: target.url('/target') }).end());
    const { t, deliveryId } = await oneDelivery({ url: srv.url(`/redirect-${code}`), retry: THREE });
    const d = await finalDelivery(t, deliveryId);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(statuses(d)).toEqual([code, code, code]);
    expect(d.attemptLog[0].response.headers.location).toBe(target.url('/target'));
    expect(srv.hits).toHaveLength(3);
    expect(target.hits).toHaveLength(0);
  });

  it('410 Gone disables the endpoint after one attempt and publishes endpoint.disabled to its subscriber', async () => {
    const srv = await httpServer((req, res) => (req.url === '/gone' ? res.writeHead(410).end('gone') : res.writeHead(200).end('ok')));
    const t = await herald.api.tenant('Gone');
    const ep = await herald.api.endpoint(t, { url: srv.url('/gone'), retry: THREE, eventTypes: ['order.*'] });
    await herald.api.endpoint(t, { url: srv.url('/ops'), eventTypes: ['endpoint.disabled'] });
    const pub = await herald.api.publish(t, 'order.created', { n: 1 });
    const dl = (await herald.api.get(`/v1/tenants/${t}/events/${pub.body.id}/deliveries`)).body.data[0];
    const d = await finalDelivery(t, dl.id);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(1); // 410 is final: no retry
    expect(statuses(d)).toEqual([410]);
    const e = (await herald.api.get(`/v1/tenants/${t}/endpoints/${ep.id}`)).body;
    expect(e.disabled).toBe(true);
    const until = Date.now() + 10_000;
    while (!srv.hits.some((h) => h.path === '/ops') && Date.now() < until) await sleep(50);
    const ops = srv.hits.filter((h) => h.path === '/ops');
    expect(ops).toHaveLength(1);
    expect(JSON.parse(ops[0]!.body)).toMatchObject({ type: 'endpoint.disabled', data: { endpointId: ep.id } });
    expect(srv.hits.filter((h) => h.path === '/gone')).toHaveLength(1);
  });

  const soon = (s: number) => new Date(Date.now() + s * 1000).toUTCString();
  const cases: { name: string; status: number; header: () => string; min: number; max: number }[] = [
    // [min, max] ms between the first and the second request
    { name: '429, Retry-After: 2 (seconds)', status: 429, header: () => '2', min: 1_950, max: 2_000 + 3_000 },
    { name: '503, Retry-After: 2 (seconds)', status: 503, header: () => '2', min: 1_950, max: 2_000 + 3_000 },
    // an HTTP date has whole seconds: 3 s ahead is at least 2 s away
    { name: '429, Retry-After: HTTP date 3 s ahead', status: 429, header: () => soon(3), min: 1_950, max: 3_000 + 3_000 },
    { name: '503, Retry-After: HTTP date 3 s ahead', status: 503, header: () => soon(3), min: 1_950, max: 3_000 + 3_000 },
    // capped at retryAfterMaxSeconds (3 s)
    { name: '429, Retry-After: 3600 (capped)', status: 429, header: () => '3600', min: RETRY_AFTER_MAX_S * 1000 - 50, max: RETRY_AFTER_MAX_S * 1000 + 3_000 },
    { name: '503, Retry-After: HTTP date 1 h ahead (capped)', status: 503, header: () => soon(3600), min: RETRY_AFTER_MAX_S * 1000 - 50, max: RETRY_AFTER_MAX_S * 1000 + 3_000 },
    // unparseable: the schedule (50 ms) applies
    { name: '429, Retry-After: abc (ignored)', status: 429, header: () => 'abc', min: 40, max: 1_500 },
  ];

  it('honours Retry-After on 429 and 503, in seconds and as an HTTP date, within retryAfterMaxSeconds', async () => {
    const srv = await httpServer((req, res, _hit, n) => {
      const c = cases[Number(req.url!.split('/')[2])]!;
      if (n === 1) res.writeHead(c.status, { 'retry-after': c.header() }).end('slow down');
      else res.writeHead(200).end('ok');
    });
    const runs = await Promise.all(cases.map((_c, i) => oneDelivery({ url: srv.url(`/ra/${i}`), retry: THREE })));
    // after the first attempt, the delivery's next attempt is not before what Retry-After asked
    // (the unparseable case retries after 50 ms: the poll may only see it finished)
    const firsts = await Promise.all(
      runs.map((r) => herald.api.waitDelivery(r.t, r.deliveryId, (d) => d.attempts >= 1 && (d.nextAttemptAt !== null || d.status !== 'pending'), 10_000)),
    );
    const finals = await Promise.all(runs.map((r) => finalDelivery(r.t, r.deliveryId)));
    cases.forEach((c, i) => {
      const hits = srv.hits.filter((h) => h.path === `/ra/${i}`);
      const gap = hits[1]!.at - hits[0]!.at;
      const planned = firsts[i].nextAttemptAt ? `+${Date.parse(firsts[i].nextAttemptAt) - Date.parse(firsts[i].lastAttemptAt)} ms` : '(not seen)';
      console.log(`[hostile] ${c.name}: planned ${planned} after the attempt started; requests ${gap} ms apart`);
      expect(finals[i].status, c.name).toBe('succeeded');
      expect(finals[i].attempts, c.name).toBe(2);
      expect(statuses(finals[i]), c.name).toEqual([c.status, 200]);
      expect(hits, c.name).toHaveLength(2);
      expect(gap, c.name).toBeGreaterThanOrEqual(c.min);
      expect(gap, c.name).toBeLessThan(c.max);
    });
  }, 60_000);

  it('a receiver cannot buy extra attempts with Retry-After: 429 forever is still exactly 3 attempts', async () => {
    const srv = await httpServer((_q, res) => res.writeHead(429, { 'retry-after': '1' }).end());
    const { t, deliveryId } = await oneDelivery({ url: srv.url('/always-429'), retry: THREE });
    const d = await finalDelivery(t, deliveryId, 15_000);
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(3);
    expect(srv.hits).toHaveLength(3);
  });
});
