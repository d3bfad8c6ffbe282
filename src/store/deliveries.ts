import type { Queryable } from '../db/db.js';
import { NOTIFY_CHANNEL } from './events.js';
import { typeMatches, within } from './list-filters.js';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface Delivery {
  id: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  /** The endpoint's URL as it is now. */
  endpointUrl: string | null;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  /** The last attempt's network error code (`connect_refused`, `timeout`, …); null when it got an HTTP answer. */
  lastErrorCode: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Attempt {
  id: string;
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  request: { url: string; headers: Record<string, string> };
  response: { status: number; headers: Record<string, string>; body: string; bodyTruncated: boolean } | null;
  error: { code: string; message: string } | null;
}

interface DeliveryRow {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  endpoint_url: string | null;
  last_error_code: string | null;
  created_at: Date;
  updated_at: Date;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function toDelivery(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    eventId: r.event_id,
    eventType: r.event_type,
    endpointId: r.endpoint_id,
    endpointUrl: r.endpoint_url,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    lastAttemptAt: iso(r.last_attempt_at),
    lastStatus: r.last_status,
    lastError: r.last_error,
    lastErrorCode: r.last_error_code,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

/*
 * A delivery as lists show it: its event's type, its endpoint's URL and,
 * when the last attempt got no HTTP answer, that attempt's error code
 * (deliveries keep only the message). The lateral lookup is one probe of
 * attempts_delivery per listed row, so a page of 50 costs 50 index probes.
 */
const SELECT = `select d.*, e.type as event_type, ep.url as endpoint_url, la.error_code as last_error_code
  from deliveries d join events e on e.tenant_id = d.tenant_id and e.id = d.event_id
  left join endpoints ep on ep.id = d.endpoint_id and ep.tenant_id = d.tenant_id
  left join lateral (
    select a.error_code from attempts a
     where d.last_status is null and d.attempts > 0 and a.delivery_id = d.id
     order by a.attempt_number desc limit 1) la on true`;

export async function getDelivery(q: Queryable, tenantId: string, id: string): Promise<Delivery | null> {
  const res = await q.query<DeliveryRow>(`${SELECT} where d.tenant_id = $1 and d.id = $2`, [tenantId, id]);
  return res.rows[0] ? toDelivery(res.rows[0]) : null;
}

export async function listDeliveriesOfEvent(q: Queryable, tenantId: string, eventId: string): Promise<Delivery[]> {
  const res = await q.query<DeliveryRow>(`${SELECT} where d.tenant_id = $1 and d.event_id = $2 order by d.id`, [tenantId, eventId]);
  return res.rows.map(toDelivery);
}

/** What the delivery list can be narrowed to. */
export interface DeliveryFilters {
  status?: DeliveryStatus;
  endpointId?: string;
  /** The event's type: an exact name, `prefix.*` or `*`. */
  eventType?: string;
  since?: string;
  until?: string;
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listDeliveries(
  q: Queryable,
  tenantId: string,
  opts: DeliveryFilters & { limit: number; before?: { createdAt: string; id: string } },
): Promise<Delivery[]> {
  const res = await q.query<DeliveryRow>(
    `${SELECT} where d.tenant_id = $1
        and ($2::text is null or d.status = $2)
        and ($3::text is null or d.endpoint_id = $3)
        and ($4::timestamptz is null or (d.created_at, d.id) < ($4::timestamptz, $5::text))
        and ${typeMatches('e.type', 7)}
        and ${within('d.created_at', 8, 9)}
      order by d.created_at desc, d.id desc limit $6`,
    [
      tenantId,
      opts.status ?? null,
      opts.endpointId ?? null,
      opts.before?.createdAt ?? null,
      opts.before?.id ?? null,
      opts.limit,
      opts.eventType ?? null,
      opts.since ?? null,
      opts.until ?? null,
    ],
  );
  return res.rows.map(toDelivery);
}

interface AttemptRow {
  id: string;
  attempt_number: number;
  started_at: Date;
  duration_ms: number;
  request_url: string;
  request_headers: Record<string, string>;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  response_body_truncated: boolean;
  error_code: string | null;
  error_message: string | null;
}

export async function listAttempts(q: Queryable, tenantId: string, deliveryId: string): Promise<Attempt[]> {
  const res = await q.query<AttemptRow>(
    `select * from attempts where tenant_id = $1 and delivery_id = $2 order by attempt_number, started_at`,
    [tenantId, deliveryId],
  );
  return res.rows.map((r) => ({
    id: r.id,
    attemptNumber: r.attempt_number,
    startedAt: iso(r.started_at)!,
    durationMs: r.duration_ms,
    request: { url: r.request_url, headers: r.request_headers },
    response:
      r.response_status === null
        ? null
        : { status: r.response_status, headers: r.response_headers ?? {}, body: r.response_body ?? '', bodyTruncated: r.response_body_truncated },
    error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
  }));
}

/**
 * Manual retry: a finished delivery gets one more attempt now, which is never
 * rescheduled if it fails; a queued one is simply made due now. A delivery
 * a worker holds at this moment is left alone (its attempt is under way).
 */
export async function retryDelivery(q: Queryable, tenantId: string, id: string): Promise<Delivery | null> {
  await q.query(
    `with d as (
       update deliveries set status = 'pending', manual = true, next_attempt_at = now(), updated_at = now()
        where tenant_id = $1 and id = $2 and status <> 'pending'
        returning id, tenant_id, event_id, endpoint_id, ordering_key, seq, attempts
     ), requeued as (
       insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, attempts, manual, ordering_key, seq)
       select id, tenant_id, event_id, endpoint_id, now(), attempts, true, ordering_key, seq from d
       returning 1
     ), due as (
       update queue set due_at = now()
        where delivery_id = $2 and tenant_id = $1 and (lease_until is null or lease_until <= now())
          and not exists (select 1 from d)
       returning 1
     )
     select pg_notify('${NOTIFY_CHANNEL}', '') where exists (select 1 from requeued) or exists (select 1 from due)`,
    [tenantId, id],
  );
  return getDelivery(q, tenantId, id);
}

/** Which failed deliveries a bulk retry takes. */
export interface FailedFilters {
  endpointId?: string;
  /** The event's type: an exact name, `prefix.*` or `*`. */
  eventType?: string;
  /** Created within [since, until). */
  since?: string;
  until?: string;
  /**
   * Only deliveries last changed at or before this time: a bulk retry in
   * batches passes the time it started, so a delivery its own earlier batch
   * retried (and that failed again at once) is not taken a second time.
   */
  updatedBefore?: string;
  /** At most this many, oldest first (null: all). */
  limit?: number;
}

/**
 * Re-queues failed deliveries (one manual attempt each, never rescheduled),
 * oldest first; returns how many. Rows another transaction holds are
 * skipped, not waited for. Serves an endpoint's recovery and the bulk retry
 * of a filtered list.
 */
export async function retryFailedDeliveries(q: Queryable, tenantId: string, f: FailedFilters): Promise<number> {
  const res = await q.query<{ n: number }>(
    `with picked as (
       select d.id from deliveries d join events e on e.tenant_id = d.tenant_id and e.id = d.event_id
        where d.tenant_id = $1 and d.status = 'failed'
          and ($2::text is null or d.endpoint_id = $2)
          and ${typeMatches('e.type', 3)}
          and ${within('d.created_at', 4, 5)}
          and ($6::timestamptz is null or d.updated_at <= $6)
        order by d.created_at, d.id
        limit $7
        for update of d skip locked
     ), d as (
       update deliveries set status = 'pending', manual = true, next_attempt_at = now(), updated_at = now()
        where tenant_id = $1 and id in (select id from picked)
        returning id, tenant_id, event_id, endpoint_id, ordering_key, seq, attempts
     ), r as (
       insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, attempts, manual, ordering_key, seq)
       select id, tenant_id, event_id, endpoint_id, now(), attempts, true, ordering_key, seq from d
       returning 1)
     select count(*)::int as n, case when count(*) > 0 then pg_notify('${NOTIFY_CHANNEL}', '') end from r`,
    [tenantId, f.endpointId ?? null, f.eventType ?? null, f.since ?? null, f.until ?? null, f.updatedBefore ?? null, f.limit ?? null],
  );
  return Number(res.rows[0]?.n ?? 0);
}

/** How many deliveries match, counted up to `cap` (a count past it would read every row for a number nobody needs exactly). */
export async function countDeliveries(q: Queryable, tenantId: string, f: DeliveryFilters, cap: number): Promise<number> {
  const res = await q.query<{ n: number }>(
    `select count(*)::int as n from (
       select 1 from deliveries d join events e on e.tenant_id = d.tenant_id and e.id = d.event_id
        where d.tenant_id = $1
          and ($2::text is null or d.status = $2)
          and ($3::text is null or d.endpoint_id = $3)
          and ${typeMatches('e.type', 4)}
          and ${within('d.created_at', 5, 6)}
        limit $7) x`,
    [tenantId, f.status ?? null, f.endpointId ?? null, f.eventType ?? null, f.since ?? null, f.until ?? null, cap],
  );
  return Number(res.rows[0]?.n ?? 0);
}
