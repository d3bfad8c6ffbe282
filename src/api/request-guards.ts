import type { Socket } from 'node:net';
import { ERROR_CODES, errors, type ErrorCode } from '../errors.js';

/** `a.b[2].c` from path segments. */
function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

/**
 * Where valid JSON holds a `__proto__` key (Fastify's parser refuses it to
 * prevent prototype pollution and used to call the body "not valid JSON").
 * JSON.parse makes `__proto__` an own data property, so walking its result
 * is safe.
 */
export function protoKeyPath(text: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const walk = (v: unknown, path: string): string | null => {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const hit = walk(v[i], join(path, i));
        if (hit) return hit;
      }
    } else if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        if (k === '__proto__') return join(path, k);
        const hit = walk((v as Record<string, unknown>)[k], join(path, k));
        if (hit) return hit;
      }
    }
    return null;
  };
  return walk(value, '');
}

/**
 * The first string holding a NUL character in a request body or query, by
 * path. PostgreSQL's text and jsonb cannot store U+0000 and answered with
 * its own error; payloads are exempt: they are stored as JSON text, where
 * `\u0000` is just an escape, and delivered as sent.
 */
export function nulPath(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'body' : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = nulPath(value[i], join(path, i));
      if (hit) return hit;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return join(path, k);
      if (k === 'payload' && isPayloadPath(path)) continue;
      const hit = nulPath(v, join(path, k));
      if (hit) return hit;
    }
  }
  return null;
}

/** A published payload: `payload` at the top (publish, test event) or in `events[i]` (batch). */
const isPayloadPath = (path: string) => path === '' || /^events\[\d+\]$/.test(path);

/**
 * 400 naming the first string of the query or the body that holds a NUL.
 * With the body's JSON text at hand, the walk over the parsed body is
 * needed only when the text has the escape `\u0000` (JSON cannot carry a
 * NUL any other way): a batch of 1,000 events was walked key by key for
 * nothing.
 */
export function refuseNul(body: unknown, query: unknown, rawBody?: string): void {
  const inQuery = nulPath(query);
  if (inQuery) throw errors.invalidField(inQuery, 'must not contain NUL characters (\\u0000)');
  if (rawBody !== undefined && !rawBody.includes('\\u0000')) return;
  const inBody = nulPath(body);
  if (inBody) throw errors.invalidField(inBody, 'must not contain NUL characters (\\u0000)');
}

/** Herald reads bodies as sent: a compressed one is refused, saying so, rather than parsed as broken JSON. */
export function refuseContentEncoding(header: string | undefined): void {
  if (!header || header.trim().toLowerCase() === 'identity') return;
  throw errors.unsupportedMediaType(`content-encoding ${header} is not supported: send the JSON body uncompressed`);
}

/**
 * Requests Node's HTTP parser cannot read (e.g. a Content-Length shorter
 * than the body, whose rest then reads as a malformed next request) are
 * answered in the API's error shape, not Fastify's.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [code, reason, message]: [ErrorCode, string, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? ['headers_too_large', 'Request Header Fields Too Large', 'request headers too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['request_timeout', 'Request Timeout', 'the request took too long to arrive']
        : ['bad_request', 'Bad Request', `malformed HTTP request (${err.code ?? 'parse error'})`];
  const status = ERROR_CODES[code];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
