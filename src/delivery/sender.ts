import { request, type Dispatcher } from 'undici';
import { parseRetryAfter } from './schedule.js';

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Whole-request budget: connect, headers and body read. */
  timeoutMs: number;
  /** Aborts the request (shutdown); the sender aborts it itself when the timeout passes. */
  controller?: AbortController;
}

export interface SendResult {
  /** 2xx within the timeout. */
  ok: boolean;
  status: number | null;
  headers: Record<string, string> | null;
  body: string | null;
  bodyTruncated: boolean;
  durationMs: number;
  /** dns | connect_refused | connect_timeout | reset | tls | timeout | blocked | invalid_request | aborted | network */
  errorCode: string | null;
  errorMessage: string | null;
  /** What `Retry-After` asked for (429/503 only), in milliseconds. */
  retryAfterMs: number | null;
}

const decoder = () => new TextDecoder('utf-8', { fatal: false });

/**
 * Response-body bytes the sends of one process may hold at once (Default:
 * 32 MiB). At the defaults (256 deliveries in flight, 64 KiB kept of each
 * answer) the most that can be held is 16 MiB, so the budget never makes a
 * send wait; it bounds a worker configured with a large
 * HERALD_RESPONSE_BODY_CAP_BYTES, where 256 answers of 10 MB each would
 * otherwise be read into memory at once.
 */
export const RESPONSE_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * A budget of response-body bytes shared by concurrent sends. A send
 * reserves what it may keep (the cap, or less when `content-length` says
 * so) before reading the body, and gives it back when done. The whole
 * amount is reserved at once, so sends holding part of the budget never
 * wait for more of it (no deadlock). Waiters are served in order; one
 * reservation larger than the limit waits until nothing else is held.
 * While a send waits nobody reads its body: undici stops reading the
 * socket once its 64 KiB stream buffer is full, and the wait counts
 * against the send's timeout.
 */
export class ResponseBudget {
  private used = 0;
  private readonly waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly limit: number) {}

  /** Bytes reserved now. */
  get held(): number {
    return this.used;
  }

  /** Reserves `bytes`; resolves at once when they fit, else when released bytes make room. Rejects if `signal` aborts first. */
  acquire(bytes: number, signal: AbortSignal): Promise<void> {
    if (this.waiting.length === 0 && this.fits(bytes)) {
      this.used += bytes;
      return Promise.resolve();
    }
    // An abort that already happened fires no event: it would wait for a grant.
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const entry = {
        bytes,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        this.grantWaiting();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  release(bytes: number): void {
    this.used -= bytes;
    this.grantWaiting();
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit;
  }

  private grantWaiting(): void {
    for (let next = this.waiting[0]; next && this.fits(next.bytes); next = this.waiting[0]) {
      this.waiting.shift();
      this.used += next.bytes;
      next.grant();
    }
  }
}

/** The budget of this process's sends unless a caller passes its own. */
const processBudget = new ResponseBudget(RESPONSE_BUDGET_BYTES);

/**
 * One HTTP attempt. Redirects are never followed (undici's `request` does
 * not follow them), the response body is read up to `bodyCap` bytes and the
 * rest discarded without buffering, and no content decoding is done, so a
 * gzip bomb stays compressed.
 */
export async function send(
  dispatcher: Dispatcher,
  req: SendRequest,
  bodyCap: number,
  budget: ResponseBudget = processBudget,
): Promise<SendResult> {
  const started = performance.now();
  // One controller and one timer per request. (AbortSignal.any over a
  // long-lived shutdown signal is slow in Node 20 and keeps every request's
  // signal reachable from the parent, which showed up as worker memory.)
  const controller = req.controller ?? new AbortController();
  const deadline = new Deadline(controller, started + req.timeoutMs);
  const signal = controller.signal;
  let reserved = 0;
  try {
    const res = await request(req.url, {
      method: 'POST',
      dispatcher,
      headers: req.headers,
      body: req.body,
      signal,
      // undici's own header and body timers are off: they fire in the timers
      // phase like ours and would cut an answer that is already in the
      // socket buffer (see Deadline). The deadline covers both phases.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    deadline.progress++;
    const declared = Number(res.headers['content-length']);
    reserved = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(bodyCap, declared) : bodyCap;
    if (reserved > 0) {
      try {
        await budget.acquire(reserved, signal);
      } catch (err) {
        reserved = 0;
        res.body.destroy();
        throw err;
      }
    }
    const { text, truncated } = await readCapped(res.body, bodyCap, deadline);
    const headers = flattenHeaders(res.headers);
    const status = res.statusCode;
    return {
      ok: status >= 200 && status < 300,
      status,
      headers,
      body: text,
      bodyTruncated: truncated,
      durationMs: Math.round(performance.now() - started),
      errorCode: null,
      errorMessage: null,
      retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(headers['retry-after']) : null,
    };
  } catch (err) {
    const { code, message } = classify(err, deadline.expired, req.timeoutMs);
    return {
      ok: false,
      status: null,
      headers: null,
      body: null,
      bodyTruncated: false,
      durationMs: Math.round(performance.now() - started),
      errorCode: code,
      errorMessage: message,
      retryAfterMs: null,
    };
  } finally {
    deadline.clear();
    if (reserved > 0) budget.release(reserved);
  }
}

/**
 * How many extra loop turns the deadline waits while the response is still
 * coming in from the socket buffer. One turn reads up to 32 × 64 KiB per
 * socket (libuv), far more than the body cap; the extra turns only matter
 * when undici paused the socket for backpressure.
 */
const DEADLINE_EXTRA_TURNS = 3;

/**
 * The whole-request budget (connect, headers, body), measured from the
 * start of the send and never reset by a byte arriving, so a receiver that
 * trickles bytes still times out at the budget.
 *
 * The timer alone is not enough: it runs on the event loop that also runs
 * PGlite's synchronous WASM queries. After the loop was blocked for longer
 * than the budget, the timers phase comes before the poll phase, so a timer
 * would abort a request whose answer has been sitting in the socket buffer
 * all along (finding 3 in docs/reliability.md: answered sends recorded as
 * timeouts, and sent again). So when the timer fires, the decision is made
 * from the check phase (setImmediate), which runs after the poll phase of
 * the same turn has read and parsed whatever had arrived: the request is
 * aborted only if it is still not complete then. If the poll phase moved
 * the response on (headers or body bytes read) the decision waits another
 * turn, at most DEADLINE_EXTRA_TURNS times; an answer that arrived during a
 * block is complete after one. Elapsed real time is checked too, so the
 * abort never comes before the budget has passed.
 *
 * Cost per send: one timer and a few fields; the immediate is only
 * scheduled for sends that reach their deadline.
 */
class Deadline {
  /** Set once the deadline has aborted the request. */
  expired = false;
  /** Bumped when headers or a body chunk arrive. */
  progress = 0;
  done = false;
  turns = 0;
  seen = 0;
  timer: NodeJS.Timeout | null;
  immediate: NodeJS.Immediate | null = null;

  constructor(
    readonly controller: AbortController,
    /** performance.now() value at which the budget runs out. */
    readonly at: number,
  ) {
    // Module-level callbacks with `this` as argument: no closures per send.
    this.timer = setTimeout(onDeadlineTimer, Math.max(0, at - performance.now()), this);
  }

  clear(): void {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
  }
}

function onDeadlineTimer(d: Deadline): void {
  d.timer = null;
  d.seen = d.progress;
  d.immediate = setImmediate(decideDeadline, d);
}

function decideDeadline(d: Deadline): void {
  d.immediate = null;
  if (d.done) return;
  const left = d.at - performance.now();
  if (left > 1) {
    d.timer = setTimeout(onDeadlineTimer, left, d);
    return;
  }
  if (d.progress !== d.seen && d.turns < DEADLINE_EXTRA_TURNS) {
    d.turns++;
    d.seen = d.progress;
    d.immediate = setImmediate(decideDeadline, d);
    return;
  }
  d.expired = true;
  d.controller.abort();
}

async function readCapped(
  body: Dispatcher.ResponseData['body'],
  cap: number,
  deadline: Deadline,
): Promise<{ text: string; truncated: boolean }> {
  const dec = decoder();
  let text = '';
  let read = 0;
  let truncated = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    deadline.progress++;
    const room = cap - read;
    if (chunk.length > room) {
      if (room > 0) text += dec.decode(chunk.subarray(0, room), { stream: true });
      truncated = true;
      break;
    }
    read += chunk.length;
    text += dec.decode(chunk, { stream: true });
  }
  // Leaving the loop early destroys the stream: the rest is never read.
  if (truncated) body.destroy();
  return { text: text + dec.decode(), truncated };
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

const TLS_CODES = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(GET|VERIFY)_|HOSTNAME_MISMATCH|ERR_SSL)/;

/** Maps a thrown network error to a stable code and a message for the attempt log. */
export function classify(err: unknown, timedOut: boolean, timeoutMs: number): { code: string; message: string } {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  const message = e.message ?? String(err);
  if (timedOut || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { code: 'timeout', message: `no complete response within ${timeoutMs} ms` };
  }
  if (code === 'ERR_HERALD_BLOCKED_ADDRESS') return { code: 'blocked', message };
  if (e.name === 'AbortError') return { code: 'aborted', message: 'request aborted (worker shutting down)' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NODATA') {
    return { code: 'dns', message: `DNS lookup failed (${code})` };
  }
  if (code === 'ECONNREFUSED') return { code: 'connect_refused', message: 'connection refused' };
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return { code: 'connect_timeout', message: 'connect timed out' };
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') {
    return { code: 'reset', message: `connection closed by the receiver (${code})` };
  }
  if (TLS_CODES.test(code)) return { code: 'tls', message: `TLS error: ${code}` };
  if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_HTTP_TOKEN') {
    return { code: 'invalid_request', message };
  }
  // undici 7 raises HTTPParserError without a code for malformed responses
  if (e.name === 'HTTPParserError' || code.startsWith('HPE_') || code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return { code: 'invalid_response', message: `malformed HTTP response: ${code ? `${code}: ` : ''}${message}` };
  }
  return { code: 'network', message: code ? `${code}: ${message}` : message };
}
