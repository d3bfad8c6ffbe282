import type { Db } from '../../db/db.js';
import { NAMES_OUTCOME_EVENTS, WANTS_OUTCOME_EVENTS } from '../../store/outcome-subscribers.js';
import type { Template } from '../envelope.js';
import type { EndpointConfigs } from './endpoint-configs.js';
import type { ClaimedDelivery, EndpointState } from './types.js';
import { leasedDelivery } from './leased-delivery.js';

/**
 * A row of the claim's answer (see CLAIM_SQL): `kind` says which columns
 * are set; the others are null.
 */
interface ClaimRow {
  kind: 'cursor' | 'delivery' | 'event' | 'endpoint' | 'tenant';
  /** cursor: where the next claim starts. */
  next_cursor: string | null;
  /** delivery: the delivery's id. */
  id: string | null;
  /** delivery, event, tenant. */
  tenant_id: string | null;
  /** delivery, event. */
  event_id: string | null;
  /** delivery, endpoint. */
  endpoint_id: string | null;
  attempts: number | null;
  manual: boolean | null;
  /** event: its type and the body to send. */
  event_type: string | null;
  payload: string | null;
  /** endpoint: what may have changed since the worker cached its settings. */
  ep_version: string | null;
  disabled: boolean | null;
  unhealthy: boolean | null;
  rate_limit_per_second: number | null;
  /** tenant: its envelope, and whether some endpoint subscribes to the outcome events. */
  tenant_envelope: Template | null;
  wants_delivered: boolean | null;
  wants_failed: boolean | null;
}

/*
 * Which rows a claim takes: go round the endpoints that have due work and
 * take a fair share of rows from each (SKIP LOCKED).
 *
 * Finding endpoints: a loose index scan of queue_endpoint_due
 * (endpoint_id, due_at): each step is one probe that yields the next
 * endpoint with queued rows and its earliest due_at. At most $5 endpoints
 * are visited per claim, starting after the cursor $6 the worker carries
 * from the last claim and wrapping round to the first, so with more
 * endpoints than that the claims go round them all, and with fewer each
 * claim sees them all (a round that stopped at the last endpoint found
 * only the part after the cursor: claims came back half full). Each due endpoint gives at most its share of the batch (the
 * batch over the endpoints due, at least $9) and at most the room this
 * worker has left for it ($8; the per-endpoint cap $7 when none is in
 * flight), oldest first; an endpoint with no room left is passed over. So an
 * endpoint with a million queued retries costs a claim one probe and gets
 * one share, like any other. Endpoints paused for their rate limit or with
 * an open circuit ($3) are passed over too, and an ordered delivery goes
 * only when it is the first queued one of its key.
 *
 * Every step is an equality or range probe of queue_endpoint_due under a
 * LIMIT, so the plan has one shape whatever the planner's statistics say
 * (a fresh table has none). Rows held by a live lease stay in the index
 * (the lease columns are unindexed, so taking a lease is a HOT update): a
 * claim steps over at most the endpoint's in-flight rows.
 */
export const PICK_SQL = `
with recursive eps(eid, due_at, n, wrapped) as (
  -- the round starts after the cursor $6 and wraps round to the first
  -- endpoint, ending where it began: a claim sees every endpoint with
  -- queued rows (up to $5), whichever endpoint the last one stopped at
  (select c.eid, c.due_at, 1, c.wrapped from (
     (select endpoint_id as eid, due_at, false as wrapped from queue
       where endpoint_id > $6::text order by endpoint_id, due_at limit 1)
     union all
     (select endpoint_id, due_at, true from queue order by endpoint_id, due_at limit 1)
   ) c order by c.wrapped limit 1)
  union all
  select nx.eid, nx.due_at, eps.n + 1, nx.wrapped
    from eps cross join lateral (
      select c.eid, c.due_at, c.wrapped from (
        (select endpoint_id as eid, due_at, eps.wrapped as wrapped from queue
          where endpoint_id > eps.eid order by endpoint_id, due_at limit 1)
        union all
        (select endpoint_id, due_at, true from queue where not eps.wrapped order by endpoint_id, due_at limit 1)
      ) c order by c.wrapped limit 1) nx
   where eps.n < $5::int and not (nx.wrapped and nx.eid > $6::text)
), due as (
  -- room: how many more this worker may take for the endpoint ($7 when it has none in flight)
  -- ($8: endpoint id → room, a JSON object: one keyed lookup per endpoint;
  -- a join to two unnested arrays was a nested loop of endpoints × endpoints)
  select eps.eid, eps.n, coalesce(($8::jsonb ->> eps.eid)::int, $7::int) as room
    from eps
   where eps.due_at <= now() and eps.eid <> all ($3::text[]) and coalesce(($8::jsonb ->> eps.eid)::int, $7::int) > 0
   order by eps.n -- the round's order, which the cursor follows
), share as (
  -- the batch over the endpoints due, and at least $9: taking two rows each
  -- from a hundred backlogged endpoints cost a probe and a row lock round per
  -- endpoint for every two rows (the walk and the pick were 9 of a claim's
  -- 11 ms); the round goes on from the cursor at the next claim
  select greatest(1, $9::int, $1::int / greatest(1, count(*)::int)) as k from due
), picked as (
  select x.delivery_id, x.endpoint_id, x.tid, due.n from due cross join share cross join lateral (
    select q.delivery_id, q.endpoint_id, q.ctid as tid from queue q
     where q.endpoint_id = due.eid and q.due_at <= now() and (q.lease_until is null or q.lease_until <= now())
       and (q.ordering_key is null or not exists (
         select 1 from queue p where p.endpoint_id = q.endpoint_id and p.ordering_key = q.ordering_key and p.seq < q.seq))
     order by q.due_at
     limit least(share.k, due.room)
     for update skip locked) x
  limit $1::int
), visited as (
  -- Where the next claim starts: after the last endpoint served when the
  -- batch is full, after the last one visited when the visit limit cut the
  -- round short, else from the start.
  select case when (select count(*) from picked) >= $1::int then (select endpoint_id from picked order by n desc limit 1)
              when (select count(*) from eps) >= $5::int then (select eid from eps order by n desc limit 1)
              else '' end as next_cursor
)`;

/*
 * The claim stamps the token and the lease expiry on the picked rows and
 * returns what the worker cannot keep in memory: the body to send (from
 * the event) and whatever about the endpoint may have changed since it
 * cached its settings (their version, disabled, rate limit, health).
 *
 * The answer is one row per claimed delivery, per event, per endpoint and
 * per tenant of the batch, and one with the cursor, told apart by `kind`
 * and put together by the worker: each event and endpoint is read once,
 * by primary key (a lateral probe: one plan whatever the statistics), and
 * nothing is joined in SQL. Read per delivery, a fan-out of 10 probed each
 * event 10 times and numbered the rows with a window to send its body once
 * (auto_explain put the probes and the window at 0.9 of a 2.8 ms claim of
 * 256 rows); measured alone, the claim now costs PostgreSQL 16.5-18.1 µs a
 * delivery against 18.8 (bench/statement-cost.ts, alternated builds).
 */
const CLAIM_SQL = `${PICK_SQL},
claimed as (
  -- the picked rows by their tuple ids, as one array: a TID scan, the only
  -- plan there is, and no index descent per row (the rows are locked by the
  -- pick, so their tuples stay where they are until this update). Written
  -- as a join to picked, it was planned (estimates of one row each side) as
  -- a walk of the whole queue's primary key with picked rescanned for every
  -- entry: 2.4-5.9 s per claim on a queue of 100,000 (auto_explain, retry
  -- storm), the worker idle meanwhile; by primary key, it was 7 buffer hits
  -- and about half the claim's time per row.
  update queue q set lease_token = $2, lease_until = now() + make_interval(secs => $4)
   where q.ctid = any (array(select tid from picked))
  returning q.delivery_id, q.tenant_id, q.event_id, q.endpoint_id, q.attempts, q.manual
)
select 'cursor' as kind, v.next_cursor, null as id, null as tenant_id, null as event_id, null as endpoint_id, null::int as attempts,
       null::bool as manual, null as event_type, null as payload, null as ep_version, null::bool as disabled, null::bool as unhealthy,
       null::int as rate_limit_per_second, null::jsonb as tenant_envelope, null::bool as wants_delivered, null::bool as wants_failed
  from visited v
union all
select 'delivery', null, c.delivery_id, c.tenant_id, c.event_id, c.endpoint_id, c.attempts, c.manual,
       null, null, null, null, null, null, null, null, null
  from claimed c
union all
-- each event of the batch once: its type and the body
select 'event', null, null, ce.tenant_id, ce.event_id, null, null, null, e.type, coalesce(e.body, e.payload::text),
       null, null, null, null, null, null, null
  from (select distinct tenant_id, event_id from claimed) ce
  cross join lateral (select e.type, e.body, e.payload from events e where e.tenant_id = ce.tenant_id and e.id = ce.event_id) e
union all
-- each endpoint of the batch once
select 'endpoint', null, null, null, null, ce.endpoint_id, null, null, null, null,
       ep.updated_at::text, ep.disabled, (ep.consecutive_failures > 0 or ep.failing_since is not null or ep.circuit_open_until is not null),
       ep.rate_limit_per_second, null, null, null
  from (select distinct endpoint_id from claimed) ce
  cross join lateral (select ep.updated_at, ep.disabled, ep.rate_limit_per_second, ep.consecutive_failures, ep.failing_since,
                             ep.circuit_open_until from endpoints ep where ep.id = ce.endpoint_id) ep
union all
-- once per tenant of the batch: its envelope, and does any endpoint name
-- webhook.delivered / webhook.failed (so a worker builds those events
-- only where someone will receive them)
select 'tenant', null, null, ct.tenant_id, null, null, null, null, null, null, null, null, null, null,
       (select t.settings -> 'envelope' from tenants t where t.id = ct.tenant_id),
       ${WANTS_OUTCOME_EVENTS}
  from (select distinct tenant_id from claimed) ct
  left join endpoints ep on ep.tenant_id = ct.tenant_id and not ep.disabled
                        and ${NAMES_OUTCOME_EVENTS}
 group by ct.tenant_id`;

export interface ClaimOptions {
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
  /** Rows an endpoint with that many due (and the room) gives at least, however many endpoints are due. */
  minShare: number;
}

/** Claims a batch; the endpoints' settings come from `configs` (read once per endpoint version). */
export async function claimDeliveries(
  db: Db,
  configs: EndpointConfigs,
  o: ClaimOptions,
): Promise<{ deliveries: ClaimedDelivery[]; cursor: string }> {
  const res = await db.query<ClaimRow>(
    CLAIM_SQL,
    [o.limit, o.leaseToken, o.skipEndpoints, o.leaseSeconds, o.maxEndpoints, o.cursor, o.endpointLimit, JSON.stringify(Object.fromEntries(o.room)), o.minShare],
    'delivery_claim',
  );
  let cursor = '';
  const rows: ClaimRow[] = [];
  const events = new Map<string, ClaimRow>();
  const endpoints = new Map<string, ClaimRow>();
  const tenants = new Map<string, ClaimRow>();
  for (const r of res.rows) {
    if (r.kind === 'delivery') rows.push(r);
    else if (r.kind === 'event') events.set(`${r.tenant_id}/${r.event_id}`, r);
    else if (r.kind === 'endpoint') endpoints.set(r.endpoint_id!, r);
    else if (r.kind === 'tenant') tenants.set(r.tenant_id!, r);
    else cursor = r.next_cursor ?? '';
  }
  if (rows.length === 0) return { deliveries: [], cursor };
  // each endpoint's state, read once for all its deliveries
  const states = new Map<string, EndpointState>();
  for (const [id, e] of endpoints) {
    states.set(id, {
      version: e.ep_version!,
      disabled: e.disabled === true,
      unhealthy: e.unhealthy === true,
      rateLimitPerSecond: e.rate_limit_per_second === null ? null : Number(e.rate_limit_per_second),
    });
  }
  const settings = await configs.settingsOf(db, states);
  const deliveries: ClaimedDelivery[] = [];
  for (const r of rows) {
    // an endpoint or event deleted since the claim took its rows with it (ON DELETE CASCADE)
    const ep = settings.get(r.endpoint_id!);
    const ev = events.get(`${r.tenant_id}/${r.event_id}`);
    const tenant = tenants.get(r.tenant_id!);
    if (!ep || !ev || !tenant) continue;
    const own = {
      id: r.id!,
      tenantId: r.tenant_id!,
      eventId: r.event_id!,
      eventType: ev.event_type!,
      endpointId: r.endpoint_id!,
      attempts: r.attempts!,
      manual: r.manual!,
      payload: ev.payload!,
      tenantEnvelope: tenant.tenant_envelope,
      wantsDelivered: tenant.wants_delivered === true,
      wantsFailed: tenant.wants_failed === true,
    };
    deliveries.push(leasedDelivery(own, ep, states.get(r.endpoint_id!)!, o.leaseToken));
  }
  return { deliveries, cursor };
}
