import type { FastifyRequest } from 'fastify';
import type { Endpoint } from '../store/endpoints.js';
import type { TenantSettings } from '../store/tenants.js';
import { errors } from '../errors.js';

/**
 * Read-only tokens and portal links see configuration but no credential:
 * whoever holds an endpoint's signing secret can forge its webhooks, and a
 * static header such as `authorization` is the receiver's password. So a
 * read-only principal gets 403 on the secret and sees header values as
 * `[redacted]` (the names stay, so the configuration is still readable).
 */
export const REDACTED = '[redacted]';

/** Request headers Herald sets on every delivery: shown to readers as they are (a signature covers one message only). */
const HERALD_HEADERS = new Set(['content-type', 'content-length', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'webhook-event-type']);

export function isReadOnly(req: FastifyRequest): boolean {
  return req.principal.kind === 'tenant' && req.principal.role === 'read';
}

/** 403 for read-only principals. */
export function requireCredentialAccess(req: FastifyRequest, what: string): void {
  if (isReadOnly(req)) throw errors.forbidden(`this token is read-only: it may not read ${what}`);
}

export function redactValues(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(h).map((k) => [k, REDACTED]));
}

/** An endpoint as a reader may see it. */
export function endpointFor<E extends Pick<Endpoint, 'headers'>>(req: FastifyRequest, e: E): E {
  return isReadOnly(req) ? { ...e, headers: redactValues(e.headers) } : e;
}

/** Tenant settings as a reader may see them (the endpoint defaults' static headers redacted). */
export function settingsFor(req: FastifyRequest, s: TenantSettings): TenantSettings {
  const headers = s.endpointDefaults?.headers;
  if (!isReadOnly(req) || !headers) return s;
  return { ...s, endpointDefaults: { ...s.endpointDefaults, headers: redactValues(headers) } };
}

/** Request headers of an attempt as a reader may see them: Herald's own as sent, the endpoint's static ones redacted. */
export function requestHeadersFor(req: FastifyRequest, h: Record<string, string>): Record<string, string> {
  if (!isReadOnly(req)) return h;
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, HERALD_HEADERS.has(k.toLowerCase()) ? v : REDACTED]));
}
