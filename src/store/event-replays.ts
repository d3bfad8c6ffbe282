import type { Queryable } from '../db/db.js';

/** A publish that names its event id: what it would store. */
export interface ReplayCandidate {
  id: string;
  type: string;
  /** The payload as JSON text. */
  payloadJson: string;
}

/**
 * Which of these ids already belong to an event of the tenant with another
 * type or payload. Payloads compare as jsonb: key order, whitespace and
 * `1.0` against `1` do not count as differences; every digit of a number
 * does. Publishing an existing id with other content is a client bug that
 * an idempotent replay would hide (the new content would be dropped).
 */
export async function conflictingReplays(q: Queryable, tenantId: string, events: ReplayCandidate[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const res = await q.query<{ id: string }>(
    `select e.id from events e
       join unnest($2::text[], $3::text[], $4::text[]) as n(id, type, payload) on e.id = n.id
      where e.tenant_id = $1 and (e.type <> n.type or e.payload::jsonb <> n.payload::jsonb)`,
    [tenantId, events.map((e) => e.id), events.map((e) => e.type), events.map((e) => e.payloadJson)],
  );
  return new Set(res.rows.map((r) => r.id));
}
