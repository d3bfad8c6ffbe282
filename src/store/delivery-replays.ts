import type { Queryable } from '../db/db.js';
import type { Attempt } from './deliveries.js';

/**
 * A delivery sent once more, as signed, to another URL: shaped like an
 * attempt (request, response or network error) plus where it went and who
 * asked. Never counted as one of the delivery's attempts.
 */
export interface Replay extends Omit<Attempt, 'attemptNumber'> {
  deliveryId: string;
  /** The audit log's actor of whoever asked for it. */
  actor: string;
}

interface ReplayRow {
  id: string;
  delivery_id: string;
  actor: string;
  started_at: Date;
  duration_ms: number;
  url: string;
  request_headers: Record<string, string>;
  response: Replay['response'];
  error: Replay['error'];
}

const toReplay = (r: ReplayRow): Replay => ({
  id: r.id,
  deliveryId: r.delivery_id,
  actor: r.actor,
  startedAt: new Date(r.started_at).toISOString(),
  durationMs: r.duration_ms,
  request: { url: r.url, headers: r.request_headers },
  response: r.response,
  error: r.error,
});

/** The exact bytes a delivery of this event sends (the enveloped body, else the stored payload), or null once retention removed it. */
export async function eventBody(q: Queryable, tenantId: string, eventId: string): Promise<string | null> {
  const r = await q.query<{ body: string }>(`select coalesce(body, payload::text) as body from events where tenant_id = $1 and id = $2`, [tenantId, eventId]);
  return r.rows[0]?.body ?? null;
}

export async function insertReplay(q: Queryable, tenantId: string, r: Replay): Promise<Replay> {
  await q.query(
    `insert into delivery_replays (id, delivery_id, tenant_id, actor, started_at, duration_ms, url, request_headers, response, error)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [r.id, r.deliveryId, tenantId, r.actor, r.startedAt, r.durationMs, r.request.url, JSON.stringify(r.request.headers), r.response && JSON.stringify(r.response), r.error && JSON.stringify(r.error)],
  );
  return r;
}

/** A delivery's replays, oldest first. */
export async function listReplays(q: Queryable, tenantId: string, deliveryId: string): Promise<Replay[]> {
  const r = await q.query<ReplayRow>(`select * from delivery_replays where tenant_id = $1 and delivery_id = $2 order by started_at, id`, [tenantId, deliveryId]);
  return r.rows.map(toReplay);
}
