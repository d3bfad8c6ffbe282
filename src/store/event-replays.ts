import type { Queryable } from '../db/db.js';

/** A publish that names its event id: what it would store. */
export interface ReplayCandidate {
  id: string;
  type: string;
  /** The payload as JSON text (asked for only when an event with this id exists). */
  payloadJson: () => string;
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
  // Ids alone first: a publish whose ids are new costs one index probe each;
  // payloads go only for the ids that exist. (The batch route no longer asks
  // here: its publish statement compares the ids it could not insert, see
  // REFUSED in store/events.ts.)
  const existing = await q.query<{ id: string }>(
    `select id from events where tenant_id = $1 and id = any($2::text[])`,
    [tenantId, events.map((e) => e.id)],
    'event_ids_existing',
  );
  if (existing.rows.length === 0) return new Set();
  const known = new Set(existing.rows.map((r) => r.id));
  const candidates = events.filter((e) => known.has(e.id));
  const res = await q.query<{ id: string }>(
    `select e.id from events e
       join unnest($2::text[], $3::text[], $4::text[]) as n(id, type, payload) on e.id = n.id
      where e.tenant_id = $1 and (e.type <> n.type or e.payload::jsonb <> n.payload::jsonb)`,
    [tenantId, candidates.map((e) => e.id), candidates.map((e) => e.type), candidates.map((e) => e.payloadJson())],
  );
  return new Set(res.rows.map((r) => r.id));
}
