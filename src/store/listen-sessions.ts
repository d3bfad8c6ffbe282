import type { Queryable } from '../db/db.js';
import { deleteEndpoint } from './endpoints.js';

/** A `herald listen` session: a temporary endpoint that lives as long as the CLI's connection (and a grace period). */
export interface ListenSession {
  id: string;
  tenantId: string;
  /** The temporary endpoint whose URL is this session's relay. */
  endpointId: string;
  /** The local URL the CLI forwards to (shown, never contacted by Herald). */
  forwardTo: string;
  createdAt: string;
  lastSeenAt: string;
}

export interface ListenSessionRow {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  client_key: string;
  forward_to: string;
  created_at: Date;
  last_seen_at: Date;
  ended_at: Date | null;
}

export function toListenSession(r: ListenSessionRow): ListenSession {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    endpointId: r.endpoint_id,
    forwardTo: r.forward_to,
    createdAt: new Date(r.created_at).toISOString(),
    lastSeenAt: new Date(r.last_seen_at).toISOString(),
  };
}

/** The open session of this client key, if any (locked for the rest of the transaction). */
export async function openSessionOf(q: Queryable, tenantId: string, clientKey: string): Promise<ListenSession | null> {
  const res = await q.query<ListenSessionRow>(
    `select * from listen_sessions where tenant_id = $1 and client_key = $2 and ended_at is null order by created_at desc limit 1 for update`,
    [tenantId, clientKey],
  );
  return res.rows[0] ? toListenSession(res.rows[0]) : null;
}

/** An open session by id (any tenant when `tenantId` is null: the relay route knows only the id). */
export async function getOpenSession(q: Queryable, tenantId: string | null, id: string): Promise<ListenSession | null> {
  const res = await q.query<ListenSessionRow>(
    `select * from listen_sessions where id = $1 and ($2::text is null or tenant_id = $2) and ended_at is null`,
    [id, tenantId],
  );
  return res.rows[0] ? toListenSession(res.rows[0]) : null;
}

export async function insertSession(q: Queryable, s: { id: string; tenantId: string; endpointId: string; clientKey: string; forwardTo: string }): Promise<ListenSession> {
  const res = await q.query<ListenSessionRow>(
    `insert into listen_sessions (id, tenant_id, endpoint_id, client_key, forward_to) values ($1, $2, $3, $4, $5) returning *`,
    [s.id, s.tenantId, s.endpointId, s.clientKey, s.forwardTo],
  );
  return toListenSession(res.rows[0]!);
}

/** Marks sessions as seen now (their streams are open in this process). */
export async function touchSessions(q: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query(`update listen_sessions set last_seen_at = now() where id = any($1::text[]) and ended_at is null`, [ids]);
}

/**
 * Points a resumed session's endpoint at `url` (the relay of the API process
 * the CLI is now connected to) and enables it again if it was disabled.
 * `updated_at` moves, so workers read the new URL (queue/endpoint-configs.ts).
 */
export async function repointEndpoint(q: Queryable, endpointId: string, url: string): Promise<void> {
  await q.query(
    `update endpoints set url = $2, disabled = false, disabled_reason = null, updated_at = now()
      where id = $1 and (url <> $2 or disabled)`,
    [endpointId, url],
  );
}

/** What `disabled_reason` says of the endpoint of an ended session. */
export const ENDED_REASON = 'herald listen session ended';

/**
 * Ends the sessions not seen for `graceSeconds` and disables their
 * endpoints (their deliveries and attempts stay to be looked at; pending
 * ones are failed as `endpoint_disabled` by the worker). Returns their ids.
 */
export async function endStaleSessions(q: Queryable, graceSeconds: number): Promise<string[]> {
  const res = await q.query<{ id: string }>(
    `with ended as (
       update listen_sessions set ended_at = now()
        where ended_at is null and last_seen_at < now() - make_interval(secs => $1)
       returning id, endpoint_id),
     disabled as (
       update endpoints set disabled = true, disabled_reason = $2, updated_at = now()
        where id in (select endpoint_id from ended))
     select id from ended`,
    [graceSeconds, ENDED_REASON],
  );
  return res.rows.map((r) => r.id);
}

/** Deletes up to `limit` sessions that ended more than `keepSeconds` ago, with their endpoints and deliveries. */
export async function removeEndedSessions(q: Queryable, keepSeconds: number, limit: number): Promise<number> {
  const res = await q.query<{ tenant_id: string; endpoint_id: string }>(
    `delete from listen_sessions where id in (
       select id from listen_sessions where ended_at < now() - make_interval(secs => $1) order by ended_at limit $2)
     returning tenant_id, endpoint_id`,
    [keepSeconds, limit],
  );
  for (const r of res.rows) await deleteEndpoint(q, r.tenant_id, r.endpoint_id);
  return res.rows.length;
}

/** The delivery of `eventId` to `endpointId` (one per pair) and the event's type, for the CLI's output. */
export async function deliveryOf(q: Queryable, tenantId: string, endpointId: string, eventId: string): Promise<{ id: string; eventType: string } | null> {
  const res = await q.query<{ id: string; type: string }>(
    `select d.id, e.type from deliveries d join events e on e.tenant_id = d.tenant_id and e.id = d.event_id
      where d.tenant_id = $1 and d.event_id = $2 and d.endpoint_id = $3 limit 1`,
    [tenantId, eventId, endpointId],
  );
  const r = res.rows[0];
  return r ? { id: r.id, eventType: r.type } : null;
}
