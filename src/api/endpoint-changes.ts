import { isDeepStrictEqual } from 'node:util';
import type { Endpoint } from '../store/endpoints.js';

/** The settings an endpoint's audit entry compares (not its ids, timestamps or secrets). */
const FIELDS = ['url', 'destination', 'description', 'eventTypes', 'disabled', 'headers', 'signature', 'retry', 'timeoutMs', 'ordered', 'rateLimitPerSecond', 'filter', 'transformation', 'sendTraceContext'] as const;
type Field = (typeof FIELDS)[number];

/** One changed setting: its value before and after. */
export interface Change {
  from: unknown;
  to: unknown;
}

/**
 * What a PATCH really changed, before → after, for the audit log. The
 * request's keys are not that: the dashboard's form sends every field, so
 * changing only the URL was logged as seven changed fields.
 *
 * Static header values may be credentials, which read-only tokens never
 * see, and the audit log is theirs to read: header values are masked, and
 * a value that changed is marked as such.
 */
export function endpointChanges(before: Endpoint, after: Endpoint): Partial<Record<Field, Change>> {
  const out: Partial<Record<Field, Change>> = {};
  for (const f of FIELDS) {
    if (isDeepStrictEqual(before[f], after[f])) continue;
    out[f] = f === 'headers' ? maskedHeaders(before.headers, after.headers) : { from: before[f], to: after[f] };
  }
  return out;
}

function maskedHeaders(before: Record<string, string>, after: Record<string, string>): Change {
  const from = Object.fromEntries(Object.keys(before).map((k) => [k, '•••']));
  const to = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, k in before && before[k] !== v ? '••• (new value)' : '•••']));
  return { from, to };
}
