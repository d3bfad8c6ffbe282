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
 * One HTTP attempt. Redirects are never followed (undici's `request` does
 * not follow them), the response body is read up to `bodyCap` bytes and the
 * rest discarded without buffering, and no content decoding is done, so a
 * gzip bomb stays compressed.
 */
export async function send(dispatcher: Dispatcher, req: SendRequest, bodyCap: number): Promise<SendResult> {
  const started = performance.now();
  // One controller and one timer per request. (AbortSignal.any over a
  // long-lived shutdown signal is slow in Node 20 and keeps every request's
  // signal reachable from the parent, which showed up as worker memory.)
  const controller = req.controller ?? new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  const signal = controller.signal;
  try {
    const res = await request(req.url, {
      method: 'POST',
      dispatcher,
      headers: req.headers,
      body: req.body,
      signal,
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    const { text, truncated } = await readCapped(res.body, bodyCap);
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
    const { code, message } = classify(err, timedOut, req.timeoutMs);
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
    clearTimeout(timer);
  }
}

async function readCapped(body: Dispatcher.ResponseData['body'], cap: number): Promise<{ text: string; truncated: boolean }> {
  const dec = decoder();
  let text = '';
  let read = 0;
  let truncated = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
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
