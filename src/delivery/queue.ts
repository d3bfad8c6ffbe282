import type { Db } from '../db/db.js';
import { NOTIFY_CHANNEL } from '../store/events.js';
import { newId } from '../ids.js';
import type { SecretBox } from '../security/secret-box.js';
import { openOld } from '../store/endpoints.js';
import { renderEnvelope, type Template } from './envelope.js';
import type { OldSecret, RetryPolicy, SignatureConfig } from './types.js';

/** A delivery a worker has claimed, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  /** Attempts made before this one. */
  attempts: number;
  /** A manual retry: one attempt, never rescheduled. */
  manual: boolean;
  /** The exact bytes to POST: the enveloped body, or the stored payload (compact JSON). */
  payload: string;
  /** The tenant's envelope template, for the meta events this delivery's outcome may publish. */
  tenantEnvelope: Template | null;
  /** Whether some endpoint of the tenant subscribes to webhook.delivered / webhook.failed. */
  wantsDelivered: boolean;
  wantsFailed: boolean;
  url: string;
  headers: Record<string, string>;
  signature: SignatureConfig;
  retry: RetryPolicy;
  timeoutMs: number;
  secret: string;
  oldSecrets: OldSecret[];
  endpointDisabled: boolean;
  /** The endpoint's rate limit (null = none). */
  rateLimitPerSecond: number | null;
  /** Fencing token of the claim: results only apply while the row still carries it. */
  leaseToken: string;
}

interface ClaimRow {
  id: string;
  tenant_id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  attempts: number;
  manual: boolean;
  payload: string;
  tenant_envelope: Template | null;
  wants_delivered: boolean;
  wants_failed: boolean;
  url: string;
  headers: Record<string, string>;
  signature: SignatureConfig;
  retry: RetryPolicy;
  timeout_ms: number;
  secret: string;
  old_secrets: OldSecret[];
  disabled: boolean;
  rate_limit_per_second: number | null;
}

/*
 * Claim: go round the endpoints that have due work and take a fair share
 * of rows from each (SKIP LOCKED), then an UPDATE that stamps the claim's
 * token and moves next_attempt_at to the lease expiry. A worker that dies
 * leaves rows that simply become due again when the lease ends; no
 * separate "locked_at" sweep is needed.
 *
 * Finding endpoints: a loose index scan of deliveries_pending_by_endpoint
 * (endpoint_id, next_attempt_at): each step is one probe that yields the
 * next endpoint with pending rows and its earliest next_attempt_at, so it
 * is due iff that is in the past. At most $5 endpoints are visited per
 * claim, starting after the cursor $6 the worker carries from the last
 * claim, so with more endpoints than that the claims go round them all.
 * Each due endpoint gives at most its share of the batch (the batch over
 * the endpoints due, at least 1) and at most the room this worker has left
 * for it ($8/$9; the per-endpoint cap $7 when none is in flight), oldest
 * first; an endpoint with no room left is passed over. So an endpoint with
 * a million queued retries costs a claim one probe and gets one share, like
 * any other: it can neither slow the claim down nor crowd fresh events to
 * other endpoints out of it. Endpoints paused for their
 * rate limit or with an open circuit ($3) are passed over too, and an
 * ordered delivery goes only when it is the first pending one of its key.
 */
export const PICK_SQL = `
with recursive eps as (
  (select endpoint_id as eid, next_attempt_at as due_at, 1 as n from deliveries
    where status = 'pending' and endpoint_id > $6::text
    order by endpoint_id, next_attempt_at limit 1)
  union all
  select nx.eid, nx.due_at, eps.n + 1
    from eps cross join lateral (
      select endpoint_id as eid, next_attempt_at as due_at from deliveries
       where status = 'pending' and endpoint_id > eps.eid
       order by endpoint_id, next_attempt_at limit 1) nx
   where eps.n < $5::int
), due as (
  -- room: how many more this worker may take for the endpoint ($7 when it has none in flight)
  select eps.eid, coalesce(busy.room, $7::int) as room
    from eps left join unnest($8::text[], $9::int[]) as busy(eid, room) on busy.eid = eps.eid
   where eps.due_at <= now() and eps.eid <> all ($3::text[]) and coalesce(busy.room, $7::int) > 0
   order by eps.eid -- the round's order, which the cursor follows
), share as (
  select greatest(1, $1::int / greatest(1, count(*)::int)) as k from due
), picked as (
  select x.id, x.endpoint_id from due cross join share cross join lateral (
    select d.id, d.endpoint_id from deliveries d
     where d.endpoint_id = due.eid and d.status = 'pending' and d.next_attempt_at <= now()
       and (d.ordering_key is null or not exists (
         select 1 from deliveries p
          where p.endpoint_id = d.endpoint_id and p.ordering_key = d.ordering_key and p.status = 'pending' and p.seq < d.seq))
     order by d.next_attempt_at
     limit least(share.k, due.room)
     for update skip locked) x
  limit $1::int
), visited as (
  -- Where the next claim starts: after the last endpoint served when the
  -- batch is full, after the last one visited when the visit limit cut the
  -- round short, else from the start.
  select case when p.n >= $1::int then p.last_served
              when e.n >= $5::int then e.last_visited
              else '' end as next_cursor
    from (select count(*) as n, max(endpoint_id) as last_served from picked) p,
         (select count(*) as n, max(eid) as last_visited from eps) e
)`;

const CLAIM_SQL = `${PICK_SQL},
claimed as (
  update deliveries d
     set lease_token = $2, next_attempt_at = now() + make_interval(secs => $4), updated_at = now()
    from picked where d.id = picked.id
  returning d.id, d.tenant_id, d.event_id, d.endpoint_id, d.attempts, d.manual
), meta as (
  -- once per tenant of the batch: does any endpoint name webhook.delivered / webhook.failed?
  -- (so a worker builds those events only where someone will receive them)
  select ct.tenant_id,
         coalesce(bool_or(ep.event_types && array['webhook.delivered', 'webhook.*']), false) as wants_delivered,
         coalesce(bool_or(ep.event_types && array['webhook.failed', 'webhook.*']), false) as wants_failed
    from (select distinct tenant_id from claimed) ct
    left join endpoints ep on ep.tenant_id = ct.tenant_id and not ep.disabled
                          and ep.event_types && array['webhook.delivered', 'webhook.failed', 'webhook.*']
   group by ct.tenant_id
)
-- One row per claimed delivery, or a single row of nulls when none was
-- claimed: either way next_cursor comes back.
select v.next_cursor, r.* from visited v left join lateral (
  select c.*, e.type as event_type, coalesce(e.body, e.payload::text) as payload, t.settings -> 'envelope' as tenant_envelope,
         m.wants_delivered, m.wants_failed,
         ep.url, ep.headers, ep.signature, ep.retry, ep.timeout_ms, ep.secret, ep.old_secrets, ep.disabled, ep.rate_limit_per_second
    from claimed c
    join events e on e.tenant_id = c.tenant_id and e.id = c.event_id
    join endpoints ep on ep.id = c.endpoint_id
    join tenants t on t.id = c.tenant_id
    join meta m on m.tenant_id = c.tenant_id) r on true`;

export async function claimDeliveries(
  db: Db,
  box: SecretBox,
  opts: {
    /** Deliveries to claim at most. */
    limit: number;
    leaseToken: string;
    leaseSeconds: number;
    /** Endpoints to pass over (open circuit, paused). */
    skipEndpoints: string[];
    /** Most deliveries of one endpoint in one claim when none of its are in flight here (its in-flight cap). */
    endpointLimit: number;
    /** Endpoints with deliveries in flight here, and how many more each may take. */
    room: Map<string, number>;
    /** Endpoints to visit at most. */
    maxEndpoints: number;
    /** Start after this endpoint id ('' = from the first). */
    cursor: string;
  },
): Promise<{ deliveries: ClaimedDelivery[]; cursor: string }> {
  const res = await db.query<ClaimRow & { next_cursor: string | null }>(
    CLAIM_SQL,
    [
      opts.limit,
      opts.leaseToken,
      opts.skipEndpoints,
      opts.leaseSeconds,
      opts.maxEndpoints,
      opts.cursor,
      opts.endpointLimit,
      [...opts.room.keys()],
      [...opts.room.values()],
    ],
    'delivery_claim',
  );
  const cursor = res.rows[0]?.next_cursor ?? '';
  const deliveries = res.rows.filter((r) => r.id !== null).map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    eventId: r.event_id,
    eventType: r.event_type,
    endpointId: r.endpoint_id,
    attempts: r.attempts,
    manual: r.manual,
    payload: r.payload,
    tenantEnvelope: r.tenant_envelope,
    wantsDelivered: r.wants_delivered,
    wantsFailed: r.wants_failed,
    url: r.url,
    headers: r.headers,
    signature: r.signature,
    retry: r.retry,
    timeoutMs: r.timeout_ms,
    secret: box.open(r.secret),
    oldSecrets: openOld(r.old_secrets, box),
    endpointDisabled: r.disabled,
    rateLimitPerSecond: r.rate_limit_per_second === null ? null : Number(r.rate_limit_per_second),
    leaseToken: opts.leaseToken,
  }));
  return { deliveries, cursor };
}

/** The outcome of one attempt, ready to be written. */
export interface AttemptResult {
  delivery: ClaimedDelivery;
  attemptId: string;
  /** New delivery state. */
  status: 'pending' | 'succeeded' | 'failed';
  /** Delay before the next attempt when status is pending. */
  retryInMs: number | null;
  startedAt: Date;
  durationMs: number;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  responseBody: string | null;
  responseBodyTruncated: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  /** No HTTP request was made (e.g. the endpoint was disabled): nothing to put in the attempts table. */
  skipped: boolean;
  /** Whether this attempt uses up one of the retry policy's attempts (not when skipped or aborted by shutdown). */
  counted: boolean;
}

/*
 * Recording a batch of results is one statement: delivery state (only where
 * the claim still owns the row: a worker whose lease expired cannot
 * overwrite the newer owner's result), attempt rows (every HTTP request that
 * was made is recorded, even a stale one), audit entries for final outcomes,
 * and the `webhook.delivered` / `webhook.failed` meta events with their
 * deliveries to endpoints that subscribed to them by name. Meta events are
 * never produced for meta events, so there is no recursion.
 */
const RECORD_SQL = `
with r as (
  select * from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[], $7::timestamptz[], $8::text[], $25::bool[],
                       $26::text[], $27::timestamptz[], $28::bool[], $29::bool[])
    as r(id, token, status, retry_in_ms, last_status, last_error, attempted_at, meta_payload, uncounted, meta_id, meta_created_at,
         failed_attempt, gone)
), upd as (
  update deliveries d
     set status = r.status, attempts = d.attempts + case when r.uncounted then 0 else 1 end,
         next_attempt_at = case when r.status = 'pending' then now() + r.retry_in_ms * interval '1 millisecond' end,
         lease_token = null, manual = false, last_attempt_at = r.attempted_at, last_status = r.last_status,
         last_error = r.last_error, updated_at = now()
    from r where d.id = r.id and d.lease_token = r.token
  returning d.id, d.tenant_id, d.event_id, d.endpoint_id, d.status, d.attempts, r.meta_payload, r.meta_id, r.meta_created_at,
            r.failed_attempt, r.gone, r.attempted_at
), health as (
  -- per endpoint in this batch: did anything succeed, how many attempts failed, did it answer 410 Gone
  select u.endpoint_id, bool_or(u.status = 'succeeded') as any_ok, count(*) filter (where u.failed_attempt) as fails,
         bool_or(u.gone) as gone, min(u.attempted_at) filter (where u.failed_attempt) as first_fail
    from upd u group by u.endpoint_id
), ep_before as (
  select e.id, e.disabled from endpoints e join health h on h.endpoint_id = e.id
), ep_upd as (
  -- Only endpoints whose health changes are written: a healthy endpoint's
  -- successes cost no endpoint update.
  update endpoints e set
      consecutive_failures = case when h.any_ok then 0 else e.consecutive_failures + h.fails end,
      failing_since = case when h.any_ok then null else coalesce(e.failing_since, h.first_fail) end,
      circuit_open_until = case
        when h.any_ok then null
        when $30::int > 0 and e.consecutive_failures + h.fails >= $30::int then now() + make_interval(secs => $31::int)
        else e.circuit_open_until end,
      disabled = e.disabled or h.gone or (not h.any_ok and (
        ($32::int > 0 and e.consecutive_failures + h.fails >= $32::int) or
        ($33::int > 0 and coalesce(e.failing_since, h.first_fail) <= now() - make_interval(secs => $33::int)))),
      disabled_reason = case
        when e.disabled then e.disabled_reason
        when h.gone then 'the receiver answered 410 Gone'
        when not h.any_ok and $32::int > 0 and e.consecutive_failures + h.fails >= $32::int
          then format('%s consecutive failed attempts', e.consecutive_failures + h.fails)
        when not h.any_ok and $33::int > 0 and coalesce(e.failing_since, h.first_fail) <= now() - make_interval(secs => $33::int)
          then format('only failures since %s', coalesce(e.failing_since, h.first_fail))
        else e.disabled_reason end,
      updated_at = case when h.gone or h.fails > 0 then now() else e.updated_at end
    from health h
   where e.id = h.endpoint_id
     and (h.fails > 0 or h.gone or e.consecutive_failures > 0 or e.failing_since is not null or e.circuit_open_until is not null)
  returning e.id, e.tenant_id, e.disabled, e.disabled_reason, e.circuit_open_until
), att as (
  insert into attempts (id, delivery_id, tenant_id, endpoint_id, event_id, attempt_number, started_at, duration_ms,
                        request_url, request_headers, response_status, response_headers, response_body,
                        response_body_truncated, error_code, error_message)
  select a.id, a.delivery_id, a.tenant_id, a.endpoint_id, a.event_id, a.attempt_number, a.started_at, a.duration_ms,
         a.request_url, a.request_headers::jsonb, a.response_status, a.response_headers::jsonb, a.response_body,
         a.truncated, a.error_code, a.error_message
    from unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::int[], $15::timestamptz[], $16::int[],
                $17::text[], $18::text[], $19::int[], $20::text[], $21::text[], $22::bool[], $23::text[], $24::text[])
      as a(id, delivery_id, tenant_id, endpoint_id, event_id, attempt_number, started_at, duration_ms, request_url,
           request_headers, response_status, response_headers, response_body, truncated, error_code, error_message)
   -- the endpoint (and with it the delivery) may have been deleted while the request was in flight
   where exists (select 1 from deliveries d where d.id = a.delivery_id)
  returning 1
), final as (
  select u.*, case when u.status = 'succeeded' then 'webhook.delivered' else 'webhook.failed' end as action
    from upd u where u.status <> 'pending'
), audit as (
  insert into audit_log (tenant_id, actor, action, target_type, target_id, details)
  select f.tenant_id, 'system', f.action, 'delivery', f.id,
         jsonb_build_object('eventId', f.event_id, 'endpointId', f.endpoint_id, 'attempts', f.attempts)
    from final f
  returning 1
), meta_wanted as (
  -- (tenant, meta event) pairs of this batch that some endpoint names. One
  -- look per pair, with an array overlap, not a function call per endpoint
  -- per delivery (which cost ~1 ms of database CPU per delivery with 100
  -- endpoints in a tenant).
  select distinct a.tenant_id, a.action
    from (select distinct tenant_id, action from final where meta_payload is not null) a
    join endpoints ep on ep.tenant_id = a.tenant_id and not ep.disabled and ep.event_types && array[a.action, 'webhook.*']
), meta as (
  select f.tenant_id, f.meta_id as id, f.action as type, f.meta_payload, f.meta_created_at
    from final f join meta_wanted w on w.tenant_id = f.tenant_id and w.action = f.action
   where f.meta_payload is not null
), meta_ev as (
  insert into events (tenant_id, id, type, payload, created_at)
  select m.tenant_id, m.id, m.type, m.meta_payload::json, m.meta_created_at from meta m
  returning tenant_id, id, type, created_at
), meta_dl as (
  insert into deliveries (id, tenant_id, event_id, endpoint_id, next_attempt_at, created_at)
  select 'dlv_' || replace(gen_random_uuid()::text, '-', ''), ev.tenant_id, ev.id, ep.id, ev.created_at, ev.created_at
    from meta_ev ev join endpoints ep on ep.tenant_id = ev.tenant_id and not ep.disabled
                                     and herald_type_matches(ep.event_types, ev.type)
  returning 1
)
select (select count(*) from upd)::int as updated,
       (select count(*) from att)::int as attempts,
       (select count(*) from audit)::int as audited,
       case when (select count(*) from meta_dl) > 0 then pg_notify('${NOTIFY_CHANNEL}', '') end as notified,
       (select coalesce(json_agg(json_build_object('endpointId', x.id, 'tenantId', x.tenant_id, 'reason', x.disabled_reason)), '[]')
          from ep_upd x join ep_before b on b.id = x.id where x.disabled and not b.disabled)::text as newly_disabled,
       (select coalesce(json_agg(x.id), '[]') from ep_upd x where x.circuit_open_until > now())::text as open_circuits`;

/** Strips NUL characters, which PostgreSQL text cannot hold (an unrecordable attempt would retry forever). */
const clean = (s: string | null) => (s === null ? null : s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);
const cleanJson = (o: Record<string, string> | null) => (o === null ? null : clean(JSON.stringify(o)));

interface MetaEvent {
  id: string;
  createdAt: Date;
  body: string;
}

/**
 * The `webhook.delivered` / `webhook.failed` event a final outcome
 * publishes (wrapped in the tenant's envelope template when it has one),
 * or null for outcomes of meta events: no recursion.
 */
function metaEvent(r: AttemptResult): MetaEvent | null {
  if (r.status === 'pending' || r.delivery.eventType.startsWith('webhook.')) return null;
  if (!(r.status === 'succeeded' ? r.delivery.wantsDelivered : r.delivery.wantsFailed)) return null;
  const type = r.status === 'succeeded' ? 'webhook.delivered' : 'webhook.failed';
  const id = newId('evt');
  const createdAt = new Date();
  const payload = {
    type,
    timestamp: createdAt.toISOString(),
    data: {
      deliveryId: r.delivery.id,
      eventId: r.delivery.eventId,
      eventType: r.delivery.eventType,
      endpointId: r.delivery.endpointId,
      attempts: r.delivery.attempts + (r.counted ? 1 : 0),
      lastStatus: r.responseStatus,
      lastError: r.errorMessage,
    },
  };
  const env = r.delivery.tenantEnvelope;
  const body = env
    ? renderEnvelope(env, { payload, eventId: id, eventType: type, createdAt, tenantId: r.delivery.tenantId })
    : JSON.stringify(payload);
  return { id, createdAt, body };
}

export interface RecordOutcome {
  /** Deliveries whose state was written (the others had lost their lease). */
  updated: number;
  /** Endpoints this batch disabled (410 Gone, or failing for too long). */
  newlyDisabled: { endpointId: string; tenantId: string; reason: string }[];
  /** Endpoints whose circuit this batch opened or kept open. */
  openCircuits: string[];
}

/** Thresholds of endpoint health; 0 turns a rule off. */
export interface HealthRules {
  /** Consecutive failed attempts that open an endpoint's circuit. */
  circuitBreakerFailures: number;
  /** How long an open circuit stays open, in seconds. */
  circuitBreakerCooldownSeconds: number;
  /** Consecutive failed attempts that disable an endpoint. */
  disableAfterFailures: number;
  /** Seconds of nothing but failures that disable an endpoint. */
  disableAfterSeconds: number;
}

export async function recordResults(db: Db, results: AttemptResult[], health: HealthRules): Promise<RecordOutcome> {
  const made = results.filter((r) => !r.skipped);
  const metas = results.map(metaEvent);
  const res = await db.query<{ updated: number; newly_disabled: string; open_circuits: string }>(
    RECORD_SQL,
    [
      results.map((r) => r.delivery.id),
      results.map((r) => r.delivery.leaseToken),
      results.map((r) => r.status),
      results.map((r) => r.retryInMs),
      results.map((r) => r.responseStatus),
      results.map((r) => clean(r.errorMessage ?? (r.responseStatus !== null && r.status !== 'succeeded' ? `HTTP ${r.responseStatus}` : null))),
      results.map((r) => r.startedAt.toISOString()),
      metas.map((m) => m?.body ?? null),
      made.map((r) => r.attemptId),
      made.map((r) => r.delivery.id),
      made.map((r) => r.delivery.tenantId),
      made.map((r) => r.delivery.endpointId),
      made.map((r) => r.delivery.eventId),
      made.map((r) => r.delivery.attempts + 1),
      made.map((r) => r.startedAt.toISOString()),
      made.map((r) => r.durationMs),
      made.map((r) => r.delivery.url),
      made.map((r) => cleanJson(r.requestHeaders)),
      made.map((r) => r.responseStatus),
      made.map((r) => cleanJson(r.responseHeaders)),
      made.map((r) => clean(r.responseBody)),
      made.map((r) => r.responseBodyTruncated),
      made.map((r) => r.errorCode),
      made.map((r) => clean(r.errorMessage)),
      results.map((r) => !r.counted),
      metas.map((m) => m?.id ?? null),
      metas.map((m) => m?.createdAt.toISOString() ?? null),
      results.map((r) => r.counted && r.status !== 'succeeded'),
      results.map((r) => r.responseStatus === 410),
      health.circuitBreakerFailures,
      health.circuitBreakerCooldownSeconds,
      health.disableAfterFailures,
      health.disableAfterSeconds,
    ],
    'delivery_record',
  );
  const row = res.rows[0];
  return {
    updated: Number(row?.updated ?? 0),
    newlyDisabled: JSON.parse(row?.newly_disabled ?? '[]') as RecordOutcome['newlyDisabled'],
    openCircuits: JSON.parse(row?.open_circuits ?? '[]') as string[],
  };
}

/**
 * Gives deliveries back: due again after `delayMs` (0 = now), for any
 * worker (graceful shutdown, an endpoint at its cap, pacing). Only rows
 * this claim still owns are touched.
 */
export async function releaseDeliveries(db: Db, items: { id: string; leaseToken: string; delayMs?: number }[]): Promise<number> {
  if (items.length === 0) return 0;
  const res = await db.query(
    `with r as (select * from unnest($1::text[], $2::text[], $3::int[]) as r(id, token, delay_ms))
     update deliveries d set lease_token = null, next_attempt_at = now() + r.delay_ms * interval '1 millisecond', updated_at = now()
       from r where d.id = r.id and d.lease_token = r.token`,
    [items.map((i) => i.id), items.map((i) => i.leaseToken), items.map((i) => i.delayMs ?? 0)],
  );
  if (res.rowCount > 0 && items.some((i) => !i.delayMs)) await db.query(`select pg_notify('${NOTIFY_CHANNEL}', '')`);
  return res.rowCount;
}

/**
 * Tells the database this worker is alive, and learns in the same round
 * trip how many workers share the endpoints' rate limits and which
 * endpoints' circuits are open (workers send nothing to those until they close).
 */
export async function heartbeat(db: Db, workerId: string): Promise<{ workers: number; openCircuits: string[] }> {
  const res = await db.query<{ n: number; open: string[] }>(
    `with beat as (
       insert into workers (id) values ($1) on conflict (id) do update set last_seen_at = now() returning 1)
     select (select count(*) from workers where last_seen_at > now() - interval '15 seconds' and id <> $1)::int + 1 as n,
            array(select id from endpoints where circuit_open_until is not null and circuit_open_until > now()) as open
       from beat`,
    [workerId],
    'worker_heartbeat',
  );
  const row = res.rows[0];
  return { workers: Number(row?.n ?? 1), openCircuits: row?.open ?? [] };
}

export async function forgetWorker(db: Db, workerId: string): Promise<void> {
  await db.query(`delete from workers where id = $1 or last_seen_at < now() - interval '1 hour'`, [workerId]);
}

/** When the next pending delivery falls due (null when none), so an idle worker sleeps exactly until then. */
export async function nextDueAt(db: Db): Promise<Date | null> {
  const res = await db.query<{ at: Date | null }>(
    `select min(next_attempt_at) as at from deliveries where status = 'pending'`,
    [],
    'delivery_next_due',
  );
  const at = res.rows[0]?.at;
  return at ? new Date(at) : null;
}
