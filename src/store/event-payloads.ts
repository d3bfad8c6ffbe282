import type { Queryable } from '../db/db.js';

/**
 * The stored JSON text of those of these events whose payload may hold
 * numbers that JSON.parse would alter (16+ significant digits, or a
 * three-digit exponent: the test of intake/lossless-payload.ts, in SQL), so
 * the event log can show them digit for digit. Most payloads match
 * nothing and cost no transfer.
 */
export async function exactPayloadTexts(q: Queryable, tenantId: string, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const res = await q.query<{ id: string; payload: string }>(
    `select id, payload::text as payload from events
      where tenant_id = $1 and id = any($2::text[]) and payload::text ~ '([0-9][.]?){16}|[eE][+-]?[0-9]{3}'`,
    [tenantId, ids],
  );
  return new Map(res.rows.map((r) => [r.id, r.payload]));
}
