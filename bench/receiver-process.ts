/**
 * The bench's webhook receiver, run as its own process so it never shares
 * an event loop with the load generator. A bare node:http server on
 * 127.0.0.1 (port 0) that answers 200 with an empty body as soon as the
 * request body has been read, counts requests and notes each arrival time
 * and `webhook-id`. The parent talks to it over IPC; the process exits when
 * the parent goes away.
 *
 * The first path segment picks a behaviour for the scenarios that need a
 * misbehaving receiver; only answered 2xx requests are counted:
 *   /hang/…   reads the request and never answers (the sender's timeout ends it)
 *   /flaky/…  503 while the parent has set `down`, else 200
 *   /big/…    200 with a body of BIG_BODY_BYTES, streamed
 */
import http from 'node:http';
import { HashedSet } from './hashed-set.js';
import type { ReceiverHello, ReceiverReply, ReceiverRequest } from './receiver-protocol.js';

if (!process.send) {
  process.stderr.write('receiver-process must be started by the bench (needs an IPC channel)\n');
  process.exit(2);
}

const now = () => performance.timeOrigin + performance.now();
/** Bounds on what is kept per reset, so a runaway sender cannot exhaust memory. */
// (the 10-minute steady state delivers about 4 million; see HashedSet)
const MAX_TRACKED = 10_000_000;

/** Size of a /big/ response body. */
const BIG_BODY_BYTES = 16 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

let count = 0;
let down = false;
let hanging = 0;
let refused = 0;
let duplicates = 0;
let firstAt = 0;
let lastAt = 0;
let seen = new HashedSet();
let record = false;
let ids: string[] = [];
let times: number[] = [];

const server = http.createServer((req, res) => {
  const url = req.url ?? '';
  if (url.startsWith('/hang/')) {
    hanging++;
    req.resume();
    req.socket.once('close', () => hanging--);
    return;
  }
  if (url.startsWith('/flaky/') && down) {
    refused++;
    req.resume();
    req.on('end', () => {
      res.writeHead(503, { 'content-length': '0' });
      res.end();
    });
    return;
  }
  const at = now();
  count++;
  if (firstAt === 0) firstAt = at;
  lastAt = at;
  const raw = req.headers['webhook-id'];
  const id = typeof raw === 'string' ? raw : '';
  if (seen.size < MAX_TRACKED && !seen.add(`${url} ${id}`)) duplicates++;
  if (record && ids.length < MAX_TRACKED) {
    ids.push(id);
    times.push(at);
  }
  req.on('end', () => {
    if (url.startsWith('/big/')) return streamBig(res);
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
  req.resume();
});

/** Writes BIG_BODY_BYTES, respecting backpressure; stops when the client hangs up. */
function streamBig(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-length': String(BIG_BODY_BYTES), 'content-type': 'text/plain' });
  let left = BIG_BODY_BYTES;
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}
// Keep client connections open across the whole bench (undici's default keep-alive is shorter).
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;

const send = (m: ReceiverReply | ReceiverHello) => process.send?.(m);

process.on('message', (m: ReceiverRequest) => {
  switch (m.type) {
    case 'reset':
      count = 0;
      duplicates = 0;
      firstAt = 0;
      lastAt = 0;
      seen = new HashedSet();
      record = m.record;
      refused = 0;
      ids = [];
      times = [];
      send({ seq: m.seq, type: 'ok' });
      break;
    case 'stats': {
      const cpu = process.cpuUsage();
      send({
        seq: m.seq,
        type: 'stats',
        stats: {
          count,
          distinct: seen.size,
          duplicates,
          firstAt,
          lastAt,
          cpuUserUs: cpu.user,
          cpuSystemUs: cpu.system,
          rssBytes: process.memoryUsage.rss(),
          hanging,
          refused,
        },
      });
      break;
    }
    case 'arrivals':
      send({ seq: m.seq, type: 'arrivals', arrivals: { ids, times } });
      break;
    case 'down':
      down = m.down;
      send({ seq: m.seq, type: 'ok' });
      break;
    case 'clock':
      send({ seq: m.seq, type: 'clock', now: now() });
      break;
  }
});

// The bench is gone (finished or crashed): do not linger.
process.on('disconnect', () => process.exit(0));
// Hard cap on the lifetime of this helper, whatever happens to the parent.
setTimeout(() => process.exit(3), 6 * 3600_000).unref();

server.on('error', (err) => {
  send({ type: 'error', message: err.message });
  process.exit(1);
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  send({ type: 'ready', port: typeof addr === 'object' && addr ? addr.port : 0 });
});
