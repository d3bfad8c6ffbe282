import type { Dispatcher } from 'undici';
import { KeyedCounts } from './keyed-counts.js';
import { parseRetryAfter } from './schedule.js';

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Whole-request budget: connect, headers and body read. */
  timeoutMs: number;
}

export interface SendResult {
  /** 2xx within the timeout. */
  ok: boolean;
  status: number | null;
  headers: Record<string, string> | null;
  body: string | null;
  bodyTruncated: boolean;
  durationMs: number;
  /** dns | connect_refused | connect_timeout | reset | tls | timeout | no_connection | blocked | invalid_request | aborted | network */
  errorCode: string | null;
  errorMessage: string | null;
  /** What `Retry-After` asked for (429/503 only), in milliseconds. */
  retryAfterMs: number | null;
}

/**
 * Response-body bytes the sends of one process may keep at once (Default:
 * 4 MiB): at the 64 KiB kept of each answer, 64 answers with a big or
 * unknown length keep their first 64 KiB at once; the others keep only
 * their first SMALL_RESPONSE_BYTES (see ResponseBudget).
 */
export const RESPONSE_BUDGET_BYTES = 4 * 1024 * 1024;

/**
 * What a send keeps of its answer when the budget has no room for more,
 * and what a send with a declared `content-length` up to this size is
 * always granted: 4 KiB holds an `ok`, a short JSON or the start of an
 * error page. At most 512 × 4 KiB past the limit at the defaults.
 */
export const SMALL_RESPONSE_BYTES = 4096;

/**
 * A budget of response-body bytes shared by concurrent sends. A send
 * reserves what it may keep (the cap, or less when `content-length` says
 * so) when the headers arrive, and gives it back when done. A send the
 * budget has no room for keeps the first SMALL_RESPONSE_BYTES instead, and
 * never waits: an answer is recorded as soon as it is in, truncated where
 * the budget said.
 *
 * Why not wait for room: a wait counted against the send's timeout, so a
 * 2xx answer that waited too long was recorded as a timeout and sent
 * again; and a paused send kept the socket read that carried its headers
 * (up to 64 KiB) for as long as it waited. Keeping a shorter prefix of the body costs only part of a log
 * entry that is truncated anyway.
 */
export class ResponseBudget {
  private used = 0;
  private reservedSoFar = 0;

  constructor(readonly limit: number) {}

  /** Bytes reserved now. */
  get held(): number {
    return this.used;
  }

  /** Bytes reserved so far, in all (a running total: what this budget's sends may have kept). */
  get reservedTotal(): number {
    return this.reservedSoFar;
  }

  /**
   * Reserves what a send may keep of an answer that may carry `wanted`
   * bytes: all of them if they fit (or nothing else is held), else
   * SMALL_RESPONSE_BYTES (or `wanted`, if smaller). Returns the bytes
   * reserved, which the send keeps at most and gives back with release().
   */
  reserve(wanted: number): number {
    const bytes = wanted <= SMALL_RESPONSE_BYTES || this.fits(wanted) ? wanted : SMALL_RESPONSE_BYTES;
    this.add(bytes);
    this.reservedSoFar += bytes;
    return bytes;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }

  /** Called with every reservation made (a hook for tests that watch the peak). */
  protected add(bytes: number): void {
    this.used += bytes;
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.limit;
  }
}

/** The budget of this process's sends unless a caller passes its own. */
const processBudget = new ResponseBudget(RESPONSE_BUDGET_BYTES);

/** Response-body bytes the sends of this process (this thread) may have kept so far, in all (see HeapGrowth). */
export const keptResponseBytes = (): number => processBudget.reservedTotal;

/**
 * The sends open through one dispatcher, per origin, against the
 * connections its pool opens to an origin at most: a send that starts while
 * they are all taken waits in the pool for one (see Attempt.expire).
 *
 * Why a bound at all (the worker's pool allowed a connection per open send,
 * twice its slots): with 512 connections to one origin the worker made twice
 * the garbage per delivery of one with 128 (GC 15 % of its busy time against
 * 8 %), and its sustained drain ran at 29-36 % of the raw POST rate against
 * 39-43 % (bench, alternated; docs/benchmarks.md, twentieth pass).
 */
export class OriginConnections {
  private readonly open = new KeyedCounts();

  constructor(readonly limit: number) {}

  /** A send to `origin` starts; true when every connection to it is taken (it will wait for one). */
  enter(origin: string): boolean {
    return this.open.up(origin) >= this.limit;
  }

  leave(origin: string): void {
    this.open.down(origin);
  }

  /** Drops the origins with no send open (their entries stay at 0 until then: see KeyedCounts). */
  forgetIdle(): void {
    this.open.forgetIdle();
  }
}

/** A send under way, which the worker aborts on shutdown. */
export interface Send {
  readonly done: Promise<SendResult>;
  /** Ends the send now as `aborted` (no-op once it is over). */
  abort(): void;
}

/**
 * One HTTP attempt. Redirects are never followed, the response body is
 * read up to `bodyCap` bytes and past that the connection is closed (the
 * rest is never read), and no content decoding is done, so a gzip bomb
 * stays compressed.
 */
export function send(dispatcher: Dispatcher, req: SendRequest, bodyCap: number, budget: ResponseBudget = processBudget): Promise<SendResult> {
  return startSend(dispatcher, req, bodyCap, budget).done;
}

/**
 * As send(), returning a handle that can abort it (the worker aborts its
 * sends on shutdown). With `connections` (the dispatcher's bound per
 * origin), a send that waited for a connection until its deadline fails as
 * `no_connection`, not as the receiver's timeout.
 */
export function startSend(
  dispatcher: Dispatcher,
  req: SendRequest,
  bodyCap: number,
  budget: ResponseBudget = processBudget,
  connections: OriginConnections | null = null,
): Send {
  return new Attempt(dispatcher, req, bodyCap, budget, connections);
}

/** Origin and path of a URL, parsed once per distinct URL (a worker sends to the same few endpoints again and again). */
const targets = new Map<string, { origin: string; path: string }>();
function target(url: string): { origin: string; path: string } {
  let t = targets.get(url);
  if (!t) {
    const u = new URL(url);
    t = { origin: u.origin, path: u.pathname + u.search };
    if (targets.size >= 10_000) targets.clear();
    targets.set(url, t);
  }
  return t;
}

/**
 * The attempt as an undici dispatch handler: no response stream, no
 * AbortSignal, no promise per body chunk. Measured against the `request()`
 * API it replaced (Readable body read with `for await`, an AbortController
 * and a listener per send): see docs/benchmarks.md, notes.
 *
 * It settles exactly once: at the response's end, at an error, at its
 * deadline, at truncation or when aborted; whatever undici reports after
 * that is ignored (an abort makes undici close the connection).
 */
class Attempt implements Dispatcher.DispatchHandler, Send {
  readonly done: Promise<SendResult>;
  private resolve!: (r: SendResult) => void;
  private readonly started = performance.now();
  private readonly deadline: Deadline;
  private controller: Dispatcher.DispatchController | null = null;
  /** Why the request must stop, when that was decided before undici handed over its controller. */
  private stopReason: Error | null = null;
  private settled = false;
  private status = 0;
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] = [];
  private read = 0;
  /** Body bytes this send may keep, reserved from the budget when the headers arrived. */
  private reserved = 0;
  /** The origin counted open in `connections` (null when not counted). */
  private origin: string | null = null;
  /** Every connection to the origin was taken when this send started: it waits in the pool until undici hands it one (onRequestStart). */
  private queued = false;

  constructor(
    dispatcher: Dispatcher,
    private readonly req: SendRequest,
    private readonly cap: number,
    private readonly budget: ResponseBudget,
    private readonly connections: OriginConnections | null,
  ) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
    this.deadline = new Deadline(this, this.started + req.timeoutMs);
    try {
      const { origin, path } = target(req.url);
      if (connections) {
        this.origin = origin;
        this.queued = connections.enter(origin);
      }
      // undici's own header and body timers are off: they fire in the timers
      // phase like ours and would cut an answer that is already in the
      // socket buffer (see Deadline). The deadline covers both phases.
      dispatcher.dispatch({ origin, path, method: 'POST', headers: req.headers, body: req.body, headersTimeout: 0, bodyTimeout: 0 }, this);
    } catch (err) {
      this.fail(err);
    }
  }

  abort(): void {
    if (this.settled) return;
    // settled first: undici reports the abort back to onResponseError at once
    this.finish(failure('aborted', 'request aborted (worker shutting down)', this.started));
    this.stop(new AbortedError());
  }

  /**
   * The deadline passed without a complete answer. A send that was still
   * waiting in the pool for a connection never reached the receiver: its
   * origin's connections were all taken (by other endpoints of a shared
   * origin, or by requests a silent receiver holds), which is not this
   * endpoint's failure (see outcome() in worker.ts).
   */
  expire(): void {
    if (this.settled) return;
    // queued is only ever set with `connections`
    if (this.queued && this.controller === null) {
      this.finish(failure('no_connection', `no connection to ${this.origin} came free within ${this.req.timeoutMs} ms (all ${this.connections!.limit} of this worker's connections to it were busy)`, this.started));
    } else {
      this.finish(failure('timeout', `no complete response within ${this.req.timeoutMs} ms`, this.started));
    }
    this.stop(new Error('deadline'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Settled while it waited in the pool (its deadline passed, or shutdown):
    // nothing was written yet. Throwing makes undici drop the request and
    // keep the connection for the next one; `controller.abort` here would
    // destroy the connection (undici's abort closes the socket), so every
    // send that gave up waiting for a connection would later cost the
    // origin one of its keep-alive connections, just as it comes free.
    if (this.stopReason) throw this.stopReason;
    this.controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (this.settled || statusCode < 200) return;
    this.deadline.progress++;
    this.status = statusCode;
    this.headers = headers;
    const declared = Number(headers['content-length']);
    const want = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(this.cap, declared) : this.cap;
    if (want > 0) this.reserved = this.budget.reserve(want);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.deadline.progress++;
    // What this send may keep: the cap, or less when the budget had no room for it.
    const room = this.reserved - this.read;
    if (chunk.length <= room) {
      this.chunks.push(chunk);
      this.read += chunk.length;
      return;
    }
    // Past the cap: keep what fits and close the connection, the rest is never read.
    if (room > 0) this.chunks.push(chunk.subarray(0, room));
    this.read = this.reserved;
    this.answered(true);
    controller.abort(new Error('response body past the cap'));
  }

  onResponseEnd(): void {
    if (!this.settled) this.answered(false);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    const { code, message } = classify(err, false, this.req.timeoutMs);
    this.finish(failure(code, message, this.started));
  }

  private answered(truncated: boolean): void {
    const status = this.status;
    const headers = flattenHeaders(this.headers);
    const body = this.chunks.length === 1 ? this.chunks[0]!.toString('utf8') : Buffer.concat(this.chunks, this.read).toString('utf8');
    this.finish({
      ok: status >= 200 && status < 300,
      status,
      headers,
      body,
      bodyTruncated: truncated,
      durationMs: Math.round(performance.now() - this.started),
      errorCode: null,
      errorMessage: null,
      retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(headers['retry-after']) : null,
    });
  }

  private stop(reason: Error): void {
    if (this.controller) this.controller.abort(reason);
    else this.stopReason = reason;
  }

  private finish(r: SendResult): void {
    this.settled = true;
    this.deadline.clear();
    if (this.origin !== null) this.connections?.leave(this.origin);
    this.origin = null;
    this.chunks = [];
    if (this.reserved > 0) this.budget.release(this.reserved);
    this.reserved = 0;
    this.resolve(r);
  }
}

class AbortedError extends Error {
  override name = 'AbortError';
}

function failure(code: string, message: string, started: number): SendResult {
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
  /** Bumped when headers or a body chunk arrive. */
  progress = 0;
  done = false;
  turns = 0;
  seen = 0;
  timer: NodeJS.Timeout | null;
  immediate: NodeJS.Immediate | null = null;

  constructor(
    readonly attempt: Attempt,
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
  d.attempt.expire();
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
