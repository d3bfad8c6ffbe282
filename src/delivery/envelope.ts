/**
 * Envelope templates: a JSON value whose string leaves may be placeholders
 * that Herald fills at publish time, so a platform can keep the body shape
 * its customers already parse. A leaf that is exactly a placeholder is
 * replaced by the value (keeping its JSON type); any other value is copied
 * as is.
 *
 *   {{payload}}          the published payload (any JSON value)
 *   {{event.id}}         the event id (also the webhook-id header)
 *   {{event.type}}       the event type
 *   {{event.createdAt}}  ISO 8601 time, UTC, milliseconds: 2026-01-31T12:00:00.000Z
 *   {{event.timestamp}}  the same as unix seconds (a number)
 *   {{tenant.id}}        the tenant id
 *
 * Example: {"id": "{{event.id}}", "event": "{{event.type}}",
 *           "occurred_at": "{{event.createdAt}}", "organization_id": "{{tenant.id}}", "data": "{{payload}}"}
 */
export type Template = null | boolean | number | string | Template[] | { [key: string]: Template };

export const PLACEHOLDERS = ['payload', 'event.id', 'event.type', 'event.createdAt', 'event.timestamp', 'tenant.id'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

const PLACEHOLDER = /^\{\{\s*([a-zA-Z.]+)\s*\}\}$/;

/**
 * A template places the payload once. Each copy is the whole payload again:
 * a template with `{{payload}}` 100 times turned a 100 KB publish into a
 * 10 MB delivery body (and 130 MB more memory for the process). The
 * rendered body is also capped where events are published.
 */
export const MAX_PAYLOAD_PLACEMENTS = 1;

export interface EnvelopeValues {
  payload: unknown;
  eventId: string;
  eventType: string;
  createdAt: Date;
  tenantId: string;
}

/** Problems in a template (unknown placeholders, no payload), or null when it is usable. */
export function templateProblem(t: unknown): string | null {
  let payloads = 0;
  const walk = (v: unknown, path: string): string | null => {
    if (typeof v === 'string') {
      const m = PLACEHOLDER.exec(v);
      if (m) {
        if (!PLACEHOLDERS.includes(m[1] as Placeholder)) return `${path}: unknown placeholder {{${m[1]}}} (use ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})`;
        if (m[1] === 'payload' && ++payloads > MAX_PAYLOAD_PLACEMENTS) {
          return `${path}: {{payload}} may appear at most ${MAX_PAYLOAD_PLACEMENTS === 1 ? 'once' : `${MAX_PAYLOAD_PLACEMENTS} times`} in a template`;
        }
      } else if (v.includes('{{')) {
        return `${path}: a placeholder must be the whole string value`;
      }
      return null;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const p = walk(v[i], `${path}[${i}]`);
        if (p) return p;
      }
      return null;
    }
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const p = walk(x, path ? `${path}.${k}` : k);
        if (p) return p;
      }
    }
    return null;
  };
  const problem = walk(t, '');
  if (problem) return problem;
  if (payloads === 0) return 'the template must place {{payload}} somewhere';
  return null;
}

/**
 * Renders a template into the compact JSON body that is stored, signed and
 * delivered. `serialize` is JSON.stringify unless the payload holds
 * integers a double cannot (see intake/lossless-payload.ts).
 */
export function renderEnvelope(t: Template, v: EnvelopeValues, serialize: (x: unknown) => string = JSON.stringify): string {
  const fill = (x: Template): unknown => {
    if (typeof x === 'string') {
      const m = PLACEHOLDER.exec(x);
      if (!m) return x;
      switch (m[1] as Placeholder) {
        case 'payload':
          return v.payload;
        case 'event.id':
          return v.eventId;
        case 'event.type':
          return v.eventType;
        case 'event.createdAt':
          return v.createdAt.toISOString();
        case 'event.timestamp':
          return Math.floor(v.createdAt.getTime() / 1000);
        case 'tenant.id':
          return v.tenantId;
        default:
          return x;
      }
    }
    if (Array.isArray(x)) return x.map(fill);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, fill(y)]));
    return x;
  };
  return serialize(fill(t));
}
