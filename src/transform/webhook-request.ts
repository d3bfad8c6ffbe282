import type { SandboxErrorCode } from './protocol.js';

/**
 * What a transformation receives and returns: the request Herald is about
 * to send. `payload` is the parsed body; `headers` the endpoint's static
 * headers (Herald's own are added after, and win).
 */
export interface Webhook {
  method: 'POST';
  url: string;
  eventId: string;
  eventType: string;
  headers: Record<string, string>;
  payload: unknown;
}

/** A delivery's request after its transformation, before signing. */
export interface TransformedRequest {
  url: string;
  /** The body to sign and send (compact JSON of the returned payload). */
  body: string;
  /** The endpoint's static headers as the transformation left them. */
  headers: Record<string, string>;
  eventType: string;
}

export type Transformed = { ok: true; request: TransformedRequest } | { ok: false; code: SandboxErrorCode; message: string };

/** The request as it stands before the transformation. */
export interface Original {
  url: string;
  eventId: string;
  eventType: string;
  headers: Record<string, string>;
  /** The body as published (a JSON text). */
  body: string;
}

/**
 * The input of a run, as a JSON text. The body is spliced in as it is
 * (it is already JSON), so the host never parses it.
 */
export function webhookInput(o: Original): string {
  return `{"method":"POST","url":${JSON.stringify(o.url)},"eventId":${JSON.stringify(o.eventId)},"eventType":${JSON.stringify(o.eventType)},"headers":${JSON.stringify(o.headers)},"payload":${o.body}}`;
}

/** Headers a transformation may not set: Herald's own, and those that would break HTTP framing. */
export const HERALD_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'webhook-event-type', 'proxy-authorization', 'expect',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
/** Longest event type a transformation may set (as the API's event type names). */
const MAX_TYPE_LENGTH = 200;

const bad = (message: string): Transformed => ({ ok: false, code: 'transformation_error', message });

/**
 * Checks what a transformation returned (a JSON text) and makes the request
 * of it. The URL may change its path and query, never its origin (the
 * endpoint's address is what the address policy approved); `signatureHeader`
 * is the endpoint's own signature header, which the transformation may not set either.
 */
export function requestFrom(o: Original, output: string, signatureHeader: string | null): Transformed {
  let w: unknown;
  try {
    w = JSON.parse(output);
  } catch {
    return bad('the transformation returned something that is not JSON');
  }
  if (w === null || typeof w !== 'object' || Array.isArray(w)) return bad('the transformation must return the webhook object, e.g. (webhook) => webhook');
  const r = w as Partial<Record<keyof Webhook, unknown>>;
  if (!('payload' in r) || r.payload === undefined) return bad('the returned webhook has no payload');
  const body = JSON.stringify(r.payload);

  let url = o.url;
  if (r.url !== undefined && r.url !== o.url) {
    if (typeof r.url !== 'string') return bad('url must be a string');
    let next: URL;
    try {
      next = new URL(r.url);
    } catch {
      return bad(`url ${JSON.stringify(r.url)} is not a URL`);
    }
    if (next.origin !== new URL(o.url).origin || next.username || next.password) return bad(`url may change its path and query only, not its origin (${new URL(o.url).origin})`);
    url = next.toString();
  }

  let eventType = o.eventType;
  if (r.eventType !== undefined && r.eventType !== o.eventType) {
    if (typeof r.eventType !== 'string' || r.eventType.length === 0 || r.eventType.length > MAX_TYPE_LENGTH || BAD_VALUE.test(r.eventType)) {
      return bad(`eventType must be a string of 1 to ${MAX_TYPE_LENGTH} characters`);
    }
    eventType = r.eventType;
  }

  let headers = o.headers;
  if (r.headers !== undefined) {
    if (r.headers === null || typeof r.headers !== 'object' || Array.isArray(r.headers)) return bad('headers must be an object of strings');
    headers = {};
    for (const [name, value] of Object.entries(r.headers as Record<string, unknown>)) {
      const lower = name.toLowerCase();
      if (!TOKEN.test(name)) return bad(`header ${JSON.stringify(name)} is not a valid header name`);
      if (HERALD_HEADERS.has(lower) || lower === signatureHeader || lower === `${signatureHeader}-previous`) return bad(`header ${name} is set by Herald`);
      if (typeof value !== 'string' || BAD_VALUE.test(value)) return bad(`header ${name} must be a string without line breaks`);
      headers[lower] = value;
    }
  }
  return { ok: true, request: { url, body, headers, eventType } };
}
