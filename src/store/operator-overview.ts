import type { Queryable } from '../db/db.js';

/** The failing endpoints list holds at most this many, most recent failure first. (Default: 100) */
export const MAX_FAILING_LISTED = 100;
/** The deliveries-per-minute series covers this many minutes up to now. */
export const PER_MINUTE_WINDOW = 60;

/** An endpoint whose last attempts failed, across tenants. */
export interface FailingEndpoint {
  tenantId: string;
  tenantName: string;
  endpointId: string;
  url: string;
  /** Whether the endpoint has been disabled (by Herald or by hand). */
  disabled: boolean;
  /** Failed attempts since the last success. */
  consecutiveFailures: number;
  /** When the current run of failures began (null when not recorded). */
  failingSince: string | null;
  /** Until when the circuit is open (null when closed). */
  circuitOpenUntil: string | null;
  /** The latest attempt to this endpoint: when, the HTTP status, the error code and message. */
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastErrorCode: string | null;
  /** The error message of a network failure (null for an HTTP status). */
  lastError: string | null;
}

/** The delivery that has been due the longest and is not held by a live lease (or waits in a batch's list: see OLDEST_DUE_SQL). */
export interface OldestDue {
  deliveryId: string;
  tenantId: string;
  endpointId: string;
  eventId: string;
  /**
   * False while the delivery waits in a batch's list that no worker has
   * written out: its record does not exist yet (a link to it would find
   * nothing), its event does.
   */
  writtenOut: boolean;
  dueAt: string;
  /** Seconds since it became due. */
  ageSeconds: number;
}

/** Attempts started in one minute, across tenants. */
export interface MinuteCount {
  start: string;
  attempts: number;
  succeeded: number;
  failed: number;
}

/** The counts behind the operator gauges: cheap enough for every scrape (behind a short cache). */
export interface OperatorCounts {
  endpointsFailing: number;
  circuitsOpen: number;
  /** Deliveries due now, when asked for (null when not: a scan of the due queue). */
  dueDeliveries: number | null;
  /** Null when nothing is due. */
  oldestDue: OldestDue | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/**
 * Failing endpoints: consecutive failures or a failure run recorded. There is
 * no index on either column (the record path updates them on every failure,
 * and an index would make those updates non-HOT), so this scans `endpoints`,
 * which holds one row per endpoint, not per delivery. The latest attempt of
 * each failing endpoint is one probe of `attempts_endpoint_started` backwards;
 * the list is ordered by it and cut at `limit`.
 */
export async function failingEndpoints(db: Queryable, limit = MAX_FAILING_LISTED): Promise<FailingEndpoint[]> {
  const r = await db.query<{
    tenant_id: string; tenant_name: string; id: string; url: string; disabled: boolean; consecutive_failures: number;
    failing_since: Date | null; circuit_open_until: Date | null;
    started_at: Date | null; response_status: number | null; error_code: string | null; error_message: string | null;
  }>(
    `select e.tenant_id, t.name as tenant_name, e.id, e.url, e.disabled, e.consecutive_failures, e.failing_since, e.circuit_open_until,
            l.started_at, l.response_status, l.error_code, l.error_message
       from endpoints e
       join tenants t on t.id = e.tenant_id
       left join lateral (
         select a.started_at, a.response_status, a.error_code, a.error_message from attempts a
          where a.endpoint_id = e.id order by a.started_at desc limit 1
       ) l on true
      where e.consecutive_failures > 0 or e.failing_since is not null
      order by l.started_at desc nulls last, e.id
      limit $1`,
    [limit],
  );
  return r.rows.map((x) => ({
    tenantId: x.tenant_id,
    tenantName: x.tenant_name,
    endpointId: x.id,
    url: x.url,
    disabled: x.disabled,
    consecutiveFailures: x.consecutive_failures,
    failingSince: iso(x.failing_since),
    circuitOpenUntil: iso(x.circuit_open_until),
    lastAttemptAt: iso(x.started_at),
    lastStatus: x.response_status,
    lastErrorCode: x.error_code,
    lastError: x.error_message,
  }));
}

/*
 * The oldest due delivery not held by a live lease. The queue has no index
 * on `due_at` alone (its only index is the claim's `queue_endpoint_due`), so
 * this takes one probe of that index per endpoint with queued work, in due
 * order, skipping leased rows: endpoints × (leased rows at the head), never
 * the whole queue. A batch's deliveries that no worker has written out yet
 * (migration 0033) are due from the batch's creation and wait in `fanouts`,
 * not in the queue: the oldest list counts too (its first delivery named),
 * or a stalled worker fleet behind the batch route would read as an empty
 * queue. Its first delivery is listed once a worker writes the list out;
 * until then it is named with its event and `written_out` false.
 */
const OLDEST_QUEUED_SQL = `
  select q.delivery_id, q.tenant_id, q.endpoint_id, q.event_id, true as written_out, q.due_at,
         extract(epoch from now() - q.due_at)::float8 as age
    from endpoints e
    cross join lateral (
      select q.delivery_id, q.tenant_id, q.endpoint_id, q.event_id, q.due_at from queue q
       where q.endpoint_id = e.id and q.due_at <= now() and (q.lease_until is null or q.lease_until <= now())
       order by q.due_at limit 1
    ) q
   order by q.due_at, q.delivery_id limit 1`;
const OLDEST_LIST_SQL = `
  select delivery_ids[1] as delivery_id, tenant_id, endpoint_ids[1] as endpoint_id, event_ids[1] as event_id,
         false as written_out, created_at as due_at, extract(epoch from now() - created_at)::float8 as age
    from fanouts order by id limit 1`;
const OLDEST_DUE_SQL = `
  select * from ((${OLDEST_QUEUED_SQL}) union all (${OLDEST_LIST_SQL})) o order by o.due_at, o.delivery_id limit 1`;

/*
 * Pending deliveries due now and not held by a live lease (also those whose
 * worker died and whose lease ran out), with the deliveries of batches not
 * yet written out (see above; each list counts what it makes, at most: the
 * write-out drops those of endpoints deleted since). The queue part counts
 * rows, a scan of the due queue: read for the gauges through their cache
 * (api/operator/gauges.ts), never per scrape.
 */
const DUE_COUNT_SQL = `
  (select count(*) from queue where due_at <= now() and (lease_until is null or lease_until <= now()))
  + (select coalesce(sum(coalesce(deliveries, cardinality(delivery_ids))), 0) from fanouts)`;

interface OldestDueRow {
  delivery_id: string | null;
  tenant_id: string | null;
  endpoint_id: string | null;
  event_id: string | null;
  written_out: boolean | null;
  due_at: Date | null;
  age: number | null;
}

function toOldestDue(x: OldestDueRow | undefined): OldestDue | null {
  if (!x || x.delivery_id === null) return null;
  return {
    deliveryId: x.delivery_id,
    tenantId: x.tenant_id!,
    endpointId: x.endpoint_id!,
    eventId: x.event_id!,
    writtenOut: x.written_out!,
    dueAt: iso(x.due_at)!,
    ageSeconds: Math.max(0, Math.round(Number(x.age) * 10) / 10),
  };
}

/**
 * How many endpoints fail and how many circuits are open (failing: a scan of
 * `endpoints`, see failingEndpoints; circuits: the partial index
 * `endpoints_circuit_open`), and the oldest due delivery, in one statement;
 * with `due`, also how many deliveries are due (see DUE_COUNT_SQL), from the
 * same snapshot, so a gauge of the oldest due delivery at 0 never sits
 * beside a count of due deliveries read earlier.
 */
export async function operatorCounts(db: Queryable, o: { due?: boolean } = {}): Promise<OperatorCounts> {
  const r = await db.query<{ failing: number; circuits: number; due: string | null } & OldestDueRow>(
    `select
       (select count(*) from endpoints where consecutive_failures > 0 or failing_since is not null)::int as failing,
       (select count(*) from endpoints where circuit_open_until is not null and circuit_open_until > now())::int as circuits,
       ${o.due ? DUE_COUNT_SQL : 'null::bigint'} as due,
       o.delivery_id, o.tenant_id, o.endpoint_id, o.event_id, o.written_out, o.due_at, o.age
     from (select 1) one
     left join lateral (${OLDEST_DUE_SQL}) o on true`,
  );
  const x = r.rows[0]!;
  return { endpointsFailing: x.failing, circuitsOpen: x.circuits, dueDeliveries: x.due === null ? null : Number(x.due), oldestDue: toOldestDue(x) };
}

/**
 * Attempts per minute over the last hour, across tenants, one row per minute
 * (zeros included) for a chart. `attempts` has no index on `started_at`
 * alone, only `attempts_endpoint_started (endpoint_id, started_at)`: the
 * count takes one range scan of it per endpoint, so it reads the endpoints
 * and the last hour's attempts, never older ones. `offset 0` keeps the
 * lateral subquery from being flattened into a hash join, which would scan
 * the whole attempts table (EXPLAIN showed that plan without it). An index
 * on `started_at` alone was rejected: every attempt insert would pay for it
 * to serve one admin page. Success is a 2xx answer.
 */
export async function attemptsPerMinute(db: Queryable, minutes = PER_MINUTE_WINDOW): Promise<MinuteCount[]> {
  const r = await db.query<{ start: Date; attempts: number; succeeded: number }>(
    `with w as (
       select date_trunc('minute', now()) - make_interval(mins => $1::int - 1) as since
     ), minutes as (
       select generate_series(w.since, w.since + make_interval(mins => $1::int - 1), interval '1 minute') as start from w
     ), a as (
       select date_trunc('minute', a.started_at) as start,
              count(*)::int as attempts,
              count(*) filter (where a.response_status between 200 and 299)::int as succeeded
         from w
         cross join endpoints e
         cross join lateral (
           select a.started_at, a.response_status from attempts a where a.endpoint_id = e.id and a.started_at >= w.since
           offset 0
         ) a
        group by 1
     )
     select m.start, coalesce(a.attempts, 0) as attempts, coalesce(a.succeeded, 0) as succeeded
       from minutes m left join a on a.start = m.start
      order by m.start`,
    [minutes],
  );
  return r.rows.map((x) => ({ start: iso(x.start)!, attempts: x.attempts, succeeded: x.succeeded, failed: x.attempts - x.succeeded }));
}
