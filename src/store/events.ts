import { textArray } from '../db/array-literal.js';
import { binaryTextArray } from '../db/binary-text-array.js';
import type { Queryable } from '../db/db.js';
import { NAMES_OUTCOME_EVENTS, WANTS_OUTCOME_EVENTS } from './outcome-subscribers.js';
import { newId } from '../ids.js';
import { typeMatches, within } from './list-filters.js';

export const NOTIFY_CHANNEL = 'herald_deliveries';
/** NOTIFY_CHANNEL's payload for deferred deliveries of a batch waiting to be written out (migration 0033, delivery/fanout-writer.ts). */
export const FANOUT_PAYLOAD = 'fanout';

export interface EventRecord {
  id: string;
  tenantId: string;
  type: string;
  /** Always a JSON object: publish refuses anything else. */
  payload: Record<string, unknown>;
  createdAt: string;
}

export interface PublishResult {
  id: string;
  type: string;
  createdAt: string;
  /** Deliveries created for this event (one per matching endpoint). */
  deliveries: number;
  /** True when an event with this id already existed: nothing new was created. */
  replayed: boolean;
}

interface PublishRow {
  id: string;
  type: string;
  created_at: Date;
  deliveries: number | string;
  handed?: string | null;
  wants_delivered?: boolean | null;
  wants_failed?: boolean | null;
}

/** A lease under which a publish hands its deliveries to the worker of the same process. */
export interface HandoffLease {
  token: string;
  leaseSeconds: number;
  /** Deliveries the worker takes at most; the rest of the publish waits in the queue, unleased. */
  limit: number;
}

/** Deliveries a publish created already leased (see HandoffLease), with what a worker needs of their endpoints. */
export interface HandedOff {
  deliveries: {
    id: string;
    eventId: string;
    endpointId: string;
    /** The endpoint's settings version (updated_at). */
    endpointVersion: string;
    rateLimitPerSecond: number | null;
    endpointUnhealthy: boolean;
  }[];
  /** Whether some endpoint of the tenant subscribes to webhook.delivered / webhook.failed. */
  wantsDelivered: boolean;
  wantsFailed: boolean;
}

/**
 * Publishes one event: the batch statement with one row. `onlyEndpointId`
 * sends it to that one endpoint whatever it subscribes to (the "send test
 * event" button).
 */
export async function publishEvent(q: Queryable, e: NewEvent & { tenantId: string; onlyEndpointId?: string }): Promise<PublishResult> {
  const [result] = await publishEvents(q, e.tenantId, [e], e.onlyEndpointId);
  return result!;
}

/*
 * A batch that names its ids is all or nothing (the batch route): an id an
 * event already holds with another type or payload refuses the whole batch.
 * The statement inserts with ON CONFLICT DO NOTHING, which probes every id
 * anyway, and compares only the ids it did not insert with the events that
 * hold them (none, in the usual batch: then `ev` has every row and nothing
 * is read). The first conflict, in batch order, calls herald_refuse_replay,
 * whose error rolls the statement back (migration 0035). The CTE runs only
 * where the statement's own SELECT reads it, so each statement reads it
 * from a row it always returns. `$on` off (single publishes, which compare
 * a replay after the fact) skips it.
 */
const REFUSED = (p: { ids: number; types: number; payloads: number; on: number }) => `refused as materialized (
  select herald_refuse_replay(c.id, c.ord) from (
    select i.id, i.ord from unnest($${p.ids}::text[], $${p.types}::text[], $${p.payloads}::text[]) with ordinality as i(id, type, payload, ord)
      join events e on e.tenant_id = $1 and e.id = i.id
     where $${p.on}::bool and (select count(*) from ev) < cardinality($${p.ids}::text[])
       and not exists (select from ev where ev.id = i.id)
       and (e.type <> i.type or e.payload::jsonb <> i.payload::jsonb)
     order by i.ord limit 1) c
)`;

/** The error of herald_refuse_replay: the batch's position (0-based) of the first event whose id another event holds; null for any other error. */
export function refusedReplayAt(err: unknown): number | null {
  const e = err as { code?: string; detail?: string };
  return e?.code === 'HR409' && e.detail !== undefined ? Number(e.detail) - 1 : null;
}

/*
 * Publishing in one statement, hence one transaction, for one event or up
 * to a thousand (arrays in, one row per new event out): the event rows and
 * one delivery per matching enabled endpoint ($8: that endpoint alone,
 * whatever its types and filter) with its queue row. An endpoint with a
 * payload filter matches only the events its filter holds for. An
 * id that already exists in the tenant inserts nothing. The caller wakes
 * the workers after the commit (db/wake.ts explains why not in here).
 */
const PUBLISH_BATCH_SQL = `
with tenant as materialized (
  -- the tenant's row locked for the statement (migration 0032), or 23503 if it is gone
  select herald_lock_tenant($1) as locked
), input as (
  select i.*,
         -- the event as payload filters see it, once per event (in this CTE, which is materialized, not in the
         -- join below, where a plan may evaluate it once per endpoint), and only when an endpoint of the tenant
         -- has a filter (one probe of a partial index per statement): see filters/compile-filter.ts
         case when exists (select from endpoints f where f.tenant_id = $1 and f.filter_path is not null)
              then jsonb_build_object('id', i.id, 'type', i.type, 'payload', i.payload::jsonb,
                                      'createdAt', to_char(i.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
         end as doc
    -- the payloads come as a binary text[] ($4, see EventBatch), zipped with the other columns
    from rows from (unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), unnest($5::text[]), unnest($6::timestamptz[]),
                    unnest($7::text[]), unnest($9::text[]), unnest($13::text[]))
    with ordinality as i(id, type, payload, body, created_at, ordering_key, dlv_base, trace_context, ord)
), types as materialized (
  -- once per distinct type of the batch, not per (event, endpoint): see herald_type_patterns
  select type, herald_type_patterns(type) as patterns, herald_type_open(type) as open from (select distinct type from input) t
), subscribed as materialized (
  -- the endpoints of each type of the batch ($8: that endpoint alone, whatever its types and filter),
  -- matched once per type rather than once per event: 32 events of 10 types to 100 endpoints had
  -- 3,200 (event, endpoint) pairs to test, against 1,000 (type, endpoint) pairs here
  select ty.type, ep.id, ep.ordered, case when $8::text is null then ep.filter_path end as filter_path, ep.filter_vars
    from types ty
    join endpoints ep on ep.tenant_id = $1 and not ep.disabled
     and (($8::text is null and (ep.event_types && ty.patterns or (ep.event_types is null and ty.open))) or ep.id = $8)
), ev as (
  insert into events (tenant_id, id, type, payload, body, created_at, ordering_key, trace_context)
  select $1, i.id, i.type, i.payload::json, i.body, i.created_at, i.ordering_key, i.trace_context::jsonb from input i
   where (select locked from tenant)
   order by i.ord
  on conflict (tenant_id, id) do nothing
  returning tenant_id, id, type, created_at, ordering_key
), dl as (
  -- deliveries are numbered (seq) in the batch's order, which ordered delivery follows
  insert into deliveries (id, tenant_id, event_id, endpoint_id, next_attempt_at, created_at, ordering_key)
  -- ids sort by creation time (a fresh sortable id per event, numbered per
  -- endpoint), so every index keyed on them grows at its right edge instead
  -- of touching a random page (and logging it whole after a checkpoint)
  select i.dlv_base || to_hex(4095 + row_number() over (partition by ev.id order by ep.id)),
         ev.tenant_id, ev.id, ep.id, ev.created_at, ev.created_at,
         case when ep.ordered then '' else ev.ordering_key end
    from ev join subscribed ep on ep.type = ev.type
    join (select distinct on (id) id, ord, dlv_base, doc from input order by id, ord) i on i.id = ev.id
   -- i.id = ev.id again, before the filter: a nested loop checks both as one join filter, the filter first,
   -- which evaluated every filter for every (event, event, endpoint) of the batch: quadratic in the batch
   where ep.filter_path is null or (i.id = ev.id and jsonb_path_match(i.doc, ep.filter_path, ep.filter_vars, true))
   order by i.ord, ep.id
  returning id, tenant_id, event_id, endpoint_id, created_at, ordering_key, seq
), q as (
  -- each delivery's row in the hot queue (delivery/queue/claim.ts); with
  -- a hand-off lease ($10), already leased to the worker of this process,
  -- except ordered deliveries, which wait their turn in the queue
  insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, ordering_key, seq, lease_token, lease_until)
  select id, tenant_id, event_id, endpoint_id, created_at, ordering_key, seq,
         case when handed then $10::text end,
         case when handed then now() + make_interval(secs => $11::int) end
    from (select dl.*, $10::text is not null and ordering_key is null
                       -- no more than the worker takes ($12): a hand-off it had to give back cost a release and a claim
                       and count(*) filter (where ordering_key is null) over (order by seq) <= $12::int as handed
            from dl) dl
  returning delivery_id, event_id, endpoint_id, lease_token
), handed as materialized (
  -- what the worker needs of the endpoints of the deliveries handed to it (see delivery/queue/claim.ts)
  select json_agg(json_build_array(q.delivery_id, q.event_id, q.endpoint_id, ep.updated_at::text, ep.rate_limit_per_second,
                  ep.consecutive_failures > 0 or ep.failing_since is not null or ep.circuit_open_until is not null)) as list
    from q join endpoints ep on ep.id = q.endpoint_id
   where q.lease_token is not null
), meta as materialized (
  select ${WANTS_OUTCOME_EVENTS}
    from endpoints ep
   where $10::text is not null and ep.tenant_id = $1 and not ep.disabled
     and ${NAMES_OUTCOME_EVENTS}
), per_event as (
  -- one pass over the new deliveries (a sub-select per event would scan
  -- them all once per event: quadratic in the batch, the batch route's cost)
  select event_id, count(*)::int as n from dl group by event_id
), ${REFUSED({ ids: 2, types: 3, payloads: 4, on: 14 })}
-- one row per new event; a row of nulls when there is none (every id a
-- replay), so that the check of refused runs whatever was inserted
select ev.id, ev.type, ev.created_at, coalesce(p.n, 0) as deliveries,
       -- the handed list in one row only: in every row it was sent (and parsed) once per event of the
       -- batch, 13 × 14 KB per publish in the steady state, a third of the bytes herald serve allocated
       case when row_number() over () = 1 then (select list from handed)::text end as handed,
       (select wants_delivered from meta) as wants_delivered,
       (select wants_failed from meta) as wants_failed,
       (select count(*) from refused) as refused
  from (select) one left join (ev left join per_event p on p.event_id = ev.id) on true`;

export interface NewEvent {
  id: string;
  type: string;
  payloadJson: string;
  body: string | null;
  createdAt: Date;
  orderingKey?: string | null;
  /** The publish span's W3C trace context as JSON (telemetry/), null when Herald exports no traces. */
  traceContext?: string | null;
  /** Herald made the id for this publish (the caller named none), so no event can have it yet. */
  idMadeHere?: boolean;
}

/** An event to publish without its payload text (which EventBatch holds, joined). */
export type EventHead = Omit<NewEvent, 'payloadJson'>;

/**
 * Events as a publish statement takes them: the payload texts written once
 * into the statement's parameter (a binary text[], see binaryTextArray),
 * apart from the rest. A caller that lets go of its NewEvents keeps no
 * payload text alive while the statement runs: on the batch route those
 * texts (1 MB a batch) outlived a scavenge or two and were copied and
 * promoted each time (see Publisher.write).
 *
 * The payloads went as a text array literal (pg escaped each: a regex pass
 * and a copy, 2 % of the API's time on the batch route), then as one JSON
 * array joined as a string (two 1 MB strings a batch, each a fresh mapping
 * V8 page-faults in: 6.5 ms a batch against 0.6 ms written into a Buffer),
 * then as that array in a Buffer, which PostgreSQL read twice (checked as
 * json, then split by json_array_elements). As binary text[] each payload
 * is read once, when its `::json` cast checks it.
 */
export interface EventBatch {
  events: EventHead[];
  payloads: Buffer;
  /** An id an event already holds with another type or payload refuses the batch (see REFUSED). */
  allOrNothing: boolean;
}

export function eventBatch(events: NewEvent[], allOrNothing = false): EventBatch {
  const heads = events.map((e): EventHead => ({
    id: e.id,
    type: e.type,
    body: e.body,
    createdAt: e.createdAt,
    orderingKey: e.orderingKey,
    traceContext: e.traceContext,
    idMadeHere: e.idMadeHere,
  }));
  return { events: heads, payloads: binaryTextArray(events.map((e) => e.payloadJson)), allOrNothing };
}

/*
 * The publish statements' array parameters are written here rather than
 * left to pg, whose generic serializer builds each array literal a string
 * per element (with a regular expression each): for `serve`'s publishes,
 * the delivery ids and their events and endpoints, pg's `arrayString` was
 * 7 % of all the bytes the process allocated in the steady state. Arrays
 * that hold no null go as binary text[] (binaryTextArray: their bytes
 * straight into one Buffer), the others as array literals (array-literal.ts).
 */

/** The event rows as the publish statements take them: id, type, payload, body, created_at, ordering_key. */
const eventColumns = ({ events, payloads }: EventBatch): unknown[] => [
  binaryTextArray(events.map((e) => e.id)),
  binaryTextArray(events.map((e) => e.type)),
  payloads,
  textArray(events.map((e) => e.body)),
  textArray(events.map((e) => e.createdAt.toISOString())),
  textArray(events.map((e) => e.orderingKey ?? null)),
];

/** Publishes many events of one tenant in one statement; results in input order. */
export async function publishEvents(q: Queryable, tenantId: string, events: NewEvent[], onlyEndpointId?: string): Promise<PublishResult[]> {
  return (await publishAndHandOff(q, tenantId, eventBatch(events), null, onlyEndpointId)).results;
}

/**
 * Publishes as publishEvents, and with a lease, inserts the new
 * deliveries (but ordered ones) already leased under it and returns them:
 * the caller hands them to its worker once this statement has committed,
 * which spares them the claim.
 */
export async function publishAndHandOff(
  q: Queryable,
  tenantId: string,
  batch: EventBatch,
  lease: HandoffLease | null,
  onlyEndpointId?: string,
): Promise<{ results: PublishResult[]; handedOff: HandedOff | null }> {
  const { events } = batch;
  const res = await q.query<PublishRow>(
    PUBLISH_BATCH_SQL,
    [
      tenantId,
      ...eventColumns(batch),
      onlyEndpointId ?? null,
      binaryTextArray(events.map(() => newId('dlv'))),
      lease?.token ?? null,
      lease?.leaseSeconds ?? 0,
      lease?.limit ?? 0,
      textArray(events.map((e) => e.traceContext ?? null)),
      batch.allOrNothing,
    ],
    'event_publish_batch',
  );
  // no new event: the one row is nulls (see PUBLISH_BATCH_SQL)
  const rows = res.rows.filter((r) => r.id !== null);
  const first = rows[0];
  const handed = lease ? rows.find((r) => r.handed)?.handed : undefined;
  const handedOff: HandedOff | null =
    first && handed
      ? {
          deliveries: (JSON.parse(handed) as [string, string, string, string, number | null, boolean][]).map(
            ([id, eventId, endpointId, endpointVersion, rate, endpointUnhealthy]) => ({
              id,
              eventId,
              endpointId,
              endpointVersion,
              rateLimitPerSecond: rate === null ? null : Number(rate),
              endpointUnhealthy,
            }),
          ),
          wantsDelivered: first.wants_delivered === true,
          wantsFailed: first.wants_failed === true,
        }
      : null;
  const created = new Map(rows.map((r) => [r.id, { type: r.type, createdAt: new Date(r.created_at).toISOString(), deliveries: Number(r.deliveries) }]));
  return { results: await resultsOf(q, tenantId, events, created), handedOff };
}

/**
 * One result per event, in input order: the events this publish created
 * as `created` says, the others (ids that already existed, or a second
 * use of an id within the batch) read back as replays.
 */
async function resultsOf(
  q: Queryable,
  tenantId: string,
  events: EventHead[],
  created: Map<string, { type: string; createdAt: string; deliveries: number }>,
): Promise<PublishResult[]> {
  const missing = events.filter((e) => !created.has(e.id)).map((e) => e.id);
  const existing = new Map<string, { type: string; createdAt: string; deliveries: number }>();
  if (missing.length > 0) {
    const r = await q.query<PublishRow>(
      `select e.id, e.type, e.created_at,
              ((select count(*) from deliveries d where d.tenant_id = e.tenant_id and d.event_id = e.id)
               -- and those of its batch that no worker has written out yet (migration 0033)
               + (select count(*) from fanouts f cross join lateral unnest(f.event_ids) x(event_id)
                   where f.tenant_id = e.tenant_id and x.event_id = e.id))::int as deliveries
         from events e where e.tenant_id = $1 and e.id = any($2)`,
      [tenantId, missing],
    );
    for (const row of r.rows) existing.set(row.id, { type: row.type, createdAt: new Date(row.created_at).toISOString(), deliveries: Number(row.deliveries) });
  }
  const seen = new Set<string>();
  return events.map((e) => {
    const first = !seen.has(e.id) && created.has(e.id);
    seen.add(e.id);
    const row = created.get(e.id) ?? existing.get(e.id);
    if (!row) throw new Error(`event ${e.id} vanished between insert and read`);
    return { id: e.id, ...row, replayed: !first };
  });
}

/*
 * Publishing with the matching done by the caller (intake/fanout-cache.ts):
 * the event rows, and the delivery and queue rows as the caller built
 * them, in one statement, if the tenant's endpoint generation ($2) is still
 * the one the caller matched against; otherwise nothing is written (see
 * migration 0030). Deliveries are inserted only for events this statement
 * created (an id that already exists is a replay: nothing new), in the
 * caller's order, which numbers them (seq) as ordered delivery needs. The
 * deliveries named in $14 go into the queue leased to the worker of this
 * process; with a lease, the last column carries what the worker needs of
 * their endpoints, once per endpoint.
 */
const publishMatchedSql = (ids: EventIds) => `
${LOCK_AND_GENERATION}, ${EVENT_ROWS(ids)}, dl as (
  insert into deliveries (id, tenant_id, event_id, endpoint_id, next_attempt_at, created_at, ordering_key)
  select d.id, $1, d.event_id, d.endpoint_id, ev.created_at, ev.created_at, d.ordering_key
    from unnest($10::text[], $11::text[], $12::text[], $13::text[]) with ordinality as d(id, event_id, endpoint_id, ordering_key, ord)
    join ev on ev.id = d.event_id
   order by d.ord
  returning id, event_id, endpoint_id, created_at, ordering_key, seq
), q as (
  insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, ordering_key, seq, lease_token, lease_until)
  select dl.id, $1, dl.event_id, dl.endpoint_id, dl.created_at, dl.ordering_key, dl.seq,
         case when h.id is not null then $15::text end,
         case when h.id is not null then now() + make_interval(secs => $16::int) end
    from dl left join unnest($14::text[]) as h(id) on h.id = dl.id
  returning 1
)${ids !== 'made' ? `, ${REFUSED({ ids: 3, types: 4, payloads: 5, on: 18 })}` : ''}
select (select same from ok) as applied,
       ${CREATED_IDS},
       ${ids !== 'made' ? '(select count(*) from refused) as refused,' : ''}
       case when $15::text is not null then
         (select json_agg(json_build_array(e.id, e.updated_at::text, e.rate_limit_per_second,
                 e.consecutive_failures > 0 or e.failing_since is not null or e.circuit_open_until is not null))
            from endpoints e where e.id = any ($17::text[]))::text end as endpoints`;

/** CTE `ok` of publishMatchedSql and publishDeferredSql: the tenant locked, and whether its endpoint generation is still $2. */
const LOCK_AND_GENERATION = `with ok as materialized (
  -- the tenant's row locked for the statement (migration 0032), or 23503 if it is gone
  select herald_lock_tenant($1) as locked,
         coalesce((select gen from endpoint_generations where tenant_id = $1), 0) = $2::bigint as same
)`;

/**
 * Who made a publish's ids, which decides how its event rows go in:
 * - `made`: Herald, for this publish; no event can hold them, so a plain
 *   insert, without an arbiter.
 * - `named`: the caller, so they may exist already (a retried publish:
 *   nothing is inserted for them). One probe of events_pkey per id first:
 *   when none exists (the usual batch), a plain insert; otherwise ON
 *   CONFLICT DO NOTHING. A plain insert that meets an id published by a
 *   statement still running fails with a unique violation, and
 *   publishMatched runs the statement again as `contended`.
 * - `contended`: ON CONFLICT DO NOTHING alone: after that race, and for a
 *   batch that names an id twice (its second row meets its first).
 * The arbiter's speculative insertion costs more per row than the probe
 * (docs/benchmarks.md, "Forty-third pass").
 */
type EventIds = 'made' | 'named' | 'contended';

/** The columns of an event row, from $3-$9, in batch order, if the generation held; `where` adds a condition. */
const eventRowsInsert = (where: string, arbiter: boolean) => `insert into events (tenant_id, id, type, payload, body, created_at, ordering_key, trace_context)
  select $1, i.id, i.type, i.payload::json, i.body, i.created_at, i.ordering_key, i.trace_context::jsonb
    from rows from (unnest($3::text[]), unnest($4::text[]), unnest($5::text[]), unnest($6::text[]), unnest($7::timestamptz[]),
                    unnest($8::text[]), unnest($9::text[]))
         with ordinality as i(id, type, payload, body, created_at, ordering_key, trace_context, ord)
   where (select same from ok)${where}
   order by i.ord
  ${arbiter ? 'on conflict (tenant_id, id) do nothing' : ''}
  returning id, created_at`;

/** CTE `ev` of publishMatchedSql and publishDeferredSql: the event rows inserted (id, created_at). */
const EVENT_ROWS = (ids: EventIds) =>
  ids === 'named'
    ? `taken as materialized (
  -- whether an event holds one of the ids already: a lookup per id, stopping at the first found
  select exists (select from unnest($3::text[]) as i(id)
                 cross join lateral (select from events e where e.tenant_id = $1 and e.id = i.id limit 1) e) as held
), ev_new as (
  ${eventRowsInsert(' and not (select held from taken)', false)}
), ev_replay as (
  ${eventRowsInsert(' and (select held from taken)', true)}
), ev as (
  select id, created_at from ev_new union all select id, created_at from ev_replay
)`
    : `ev as (
  ${eventRowsInsert('', ids === 'contended')}
)`;

/** The ids created, only when some were not (the common publish creates them all). */
const CREATED_IDS = `case when (select count(*) from ev) < cardinality($3::text[]) then array(select id from ev) end as created`;

/*
 * The batch route's form (migration 0033): the events, and one fanouts row
 * that lists the deliveries they make ($10-$12; every event of the batch
 * created at $13), which a worker writes out (delivery/queue/fanout.ts).
 * With ids Herald made, every listed delivery goes in as sent; with named
 * ids, only those of events this statement created (a replay makes nothing):
 * when it created them all (the common case), that is the list as sent too,
 * and only a batch with a replay in it joins its deliveries with the events
 * created.
 */

/** The fanouts row as sent: every listed delivery, if the generation held. */
const LIST_ALL = `select $1, $10::text[], $11::text[], $12::text[], $13::timestamptz, cardinality($10::text[])
   where (select same from ok) and cardinality($10::text[]) > 0`;

const publishDeferredSql = (ids: EventIds) => `
${LOCK_AND_GENERATION}, ${EVENT_ROWS(ids)}, fo as (
  insert into fanouts (tenant_id, delivery_ids, event_ids, endpoint_ids, created_at, deliveries)
  ${
    ids !== 'made'
      ? `${LIST_ALL} and (select count(*) from ev) = cardinality($3::text[])
  union all
  select $1, array_agg(d.id order by d.ord), array_agg(d.event_id order by d.ord), array_agg(d.endpoint_id order by d.ord), $13::timestamptz, count(*)
    from unnest($10::text[], $11::text[], $12::text[]) with ordinality as d(id, event_id, endpoint_id, ord)
    join ev on ev.id = d.event_id
   where (select count(*) from ev) < cardinality($3::text[])
  having count(*) > 0`
      : LIST_ALL
  }
  returning 1
)${ids !== 'made' ? `, ${REFUSED({ ids: 3, types: 4, payloads: 5, on: 14 })}` : ''}
select (select same from ok) as applied,
       (select count(*) from fo)::int as fanouts,
       ${CREATED_IDS},
       ${ids !== 'made' ? '(select count(*) from refused) as refused,' : ''}
       null::text as endpoints`;

/** Each statement in the three forms of EventIds. */
const forms = (name: string, sql: (ids: EventIds) => string): Record<EventIds, { text: string; name: string }> => ({
  made: { text: sql('made'), name: `${name}_made` },
  named: { text: sql('named'), name: `${name}_named` },
  contended: { text: sql('contended'), name: `${name}_contended` },
});
const PUBLISH_MATCHED = forms('event_publish_matched', publishMatchedSql);
const PUBLISH_DEFERRED = forms('event_publish_deferred', publishDeferredSql);

/** A unique violation of events_pkey: a plain insert met an id that a statement running meanwhile published. */
const idTakenMeanwhile = (err: unknown): boolean => {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'events_pkey';
};

/** A tenant's subscriptions at a generation (what publishMatched needs of intake/fanout-cache.ts). */
export interface Matcher {
  generation: string;
  endpointsFor(type: string): { id: string; ordered: boolean }[];
  wantsDelivered: boolean;
  wantsFailed: boolean;
}

/**
 * Publishes as publishAndHandOff, with the deliveries matched by the caller
 * (`fanout`); null when the tenant's endpoints changed since `fanout` was
 * read (nothing was written: read them again, or match in SQL). With
 * `defer`, deliveries that need no order are not written here but listed
 * for a worker to write (`deferred` of them; see publishDeferredSql); a
 * batch with an ordered delivery, or whose events were not all created at
 * one instant, is written whole, as without it.
 */
export async function publishMatched(
  q: Queryable,
  tenantId: string,
  batch: EventBatch,
  fanout: Matcher,
  lease: HandoffLease | null,
  defer = false,
): Promise<{ results: PublishResult[]; handedOff: HandedOff | null; deferred: number } | null> {
  const { events } = batch;
  const ids: string[] = [];
  const eventIds: string[] = [];
  const endpointIds: string[] = [];
  const orderingKeys: (string | null)[] = [];
  const handed: { id: string; eventId: string; endpointId: string }[] = [];
  const counts = new Map<string, number>();
  let ordered = false;
  for (const e of events) {
    if (counts.has(e.id)) continue; // a second use of an id in the batch: a replay
    const endpoints = fanout.endpointsFor(e.type);
    counts.set(e.id, endpoints.length);
    // ids sort by creation time, numbered per endpoint (as PUBLISH_BATCH_SQL names them)
    const base = newId('dlv');
    endpoints.forEach((ep, k) => {
      const id = base + (4096 + k).toString(16);
      const key = ep.ordered ? '' : (e.orderingKey ?? null);
      ids.push(id);
      eventIds.push(e.id);
      endpointIds.push(ep.id);
      orderingKeys.push(key);
      if (key !== null) ordered = true;
      // ordered deliveries wait their turn in the queue; no more than the worker takes
      if (lease && key === null && handed.length < lease.limit) handed.push({ id, eventId: e.id, endpointId: ep.id });
    });
  }
  const fresh = events.every((e) => e.idMadeHere === true);
  // the list carries one creation time for its deliveries: a batch's events share one (Publisher.publishBatch)
  const at = events[0]?.createdAt.getTime();
  const deferred = defer && !ordered && events.every((e) => e.createdAt.getTime() === at);
  if (deferred) handed.length = 0;
  const statements = deferred ? PUBLISH_DEFERRED : PUBLISH_MATCHED;
  const params = [tenantId, fanout.generation, ...eventColumns(batch), textArray(events.map((e) => e.traceContext ?? null)), binaryTextArray(ids), binaryTextArray(eventIds), binaryTextArray(endpointIds)];
  if (deferred) params.push(events[0]!.createdAt.toISOString());
  else params.push(textArray(orderingKeys), binaryTextArray(handed.map((h) => h.id)), lease?.token ?? null, lease?.leaseSeconds ?? 0, binaryTextArray([...new Set(handed.map((h) => h.endpointId))]));
  // the check of REFUSED, in the forms whose ids may exist
  if (!fresh) params.push(batch.allOrNothing);
  type Row = { applied: boolean; created: string[] | null; endpoints: string | null };
  const run = (ids: EventIds) => q.query<Row>(statements[ids].text, params, statements[ids].name);
  // an id twice in the batch (fewer distinct ids than events) would fail the plain insert of `named` as surely as a race
  const res = fresh
    ? await run('made')
    : counts.size < events.length
      ? await run('contended')
      : await run('named').catch((err: unknown) => (idTakenMeanwhile(err) ? run('contended') : Promise.reject(err)));
  const row = res.rows[0]!;
  if (!row.applied) return null;
  const createdIds = row.created === null ? null : new Set(row.created);
  const created = new Map<string, { type: string; createdAt: string; deliveries: number }>();
  let made = 0;
  for (const e of events) {
    if (created.has(e.id) || (createdIds !== null && !createdIds.has(e.id))) continue;
    created.set(e.id, { type: e.type, createdAt: e.createdAt.toISOString(), deliveries: counts.get(e.id)! });
    made += counts.get(e.id)!;
  }
  const results = await resultsOf(q, tenantId, events, created);
  if (deferred) return { results, handedOff: null, deferred: made };
  let handedOff: HandedOff | null = null;
  if (lease) {
    const info = new Map(
      (JSON.parse(row.endpoints ?? '[]') as [string, string, number | null, boolean][]).map(([id, version, rate, unhealthy]) => [id, { version, rate, unhealthy }]),
    );
    const deliveries: HandedOff['deliveries'] = [];
    for (const h of handed) {
      const ep = info.get(h.endpointId);
      // an event that was not created has no deliveries; an endpoint deleted meanwhile, none to hand over
      if (!created.has(h.eventId) || !ep) continue;
      // every field named: a spread of `h` here was 1.9 µs of each delivery in `serve`'s profile
      deliveries.push({
        id: h.id,
        eventId: h.eventId,
        endpointId: h.endpointId,
        endpointVersion: ep.version,
        rateLimitPerSecond: ep.rate === null ? null : Number(ep.rate),
        endpointUnhealthy: ep.unhealthy,
      });
    }
    handedOff = { deliveries, wantsDelivered: fanout.wantsDelivered, wantsFailed: fanout.wantsFailed };
  }
  return { results, handedOff, deferred: 0 };
}

interface EventRow {
  id: string;
  tenant_id: string;
  type: string;
  payload: string;
  created_at: Date;
}

const toEvent = (r: EventRow): EventRecord => ({
  id: r.id,
  tenantId: r.tenant_id,
  type: r.type,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  createdAt: new Date(r.created_at).toISOString(),
});

export async function getEvent(q: Queryable, tenantId: string, id: string): Promise<EventRecord | null> {
  const res = await q.query<EventRow>(
    `select id, tenant_id, type, payload::text as payload, created_at from events where tenant_id = $1 and id = $2`,
    [tenantId, id],
  );
  return res.rows[0] ? toEvent(res.rows[0]) : null;
}

export interface EventCursor {
  createdAt: string;
  id: string;
}

/** What the event log can be narrowed to. */
export interface EventFilters {
  /** An exact type, `prefix.*` or `*`. */
  type?: string;
  since?: string;
  until?: string;
  /** One event by its id. */
  id?: string;
  /** Events whose payload holds `value` at `path` (compared as text: `"42"` finds the number 42). */
  payload?: { path: string[]; value: string };
}

/**
 * Rows a payload search reads at most per page. Payloads have no index
 * (one on every field would tax each publish), so a search walks the
 * tenant's events newest first through events_tenant_listed and stops
 * here; the page's cursor then continues from the last row read, so
 * "Load more" searches further back.
 */
export const PAYLOAD_SCAN_ROWS = 5000;

const EVENT_COLUMNS = 'id, tenant_id, type, payload::text as payload, created_at';

/** Newest first, keyset-paginated on (created_at, id). */
export async function listEvents(q: Queryable, tenantId: string, opts: EventFilters & { limit: number; before?: EventCursor }): Promise<EventRecord[]> {
  const res = await q.query<EventRow>(
    `select ${EVENT_COLUMNS} from events
      where tenant_id = $1
        and ($2::timestamptz is null or (created_at, id) < ($2::timestamptz, $3::text))
        and ${typeMatches('type', 4)}
        and ${within('created_at', 5, 6)}
        and ($8::text is null or id = $8)
      order by created_at desc, id desc limit $7`,
    [tenantId, opts.before?.createdAt ?? null, opts.before?.id ?? null, opts.type ?? null, opts.since ?? null, opts.until ?? null, opts.limit, opts.id ?? null],
  );
  return res.rows.map(toEvent);
}

/**
 * A payload search: the matches among the next PAYLOAD_SCAN_ROWS events
 * (with the other filters applied), and where the scan stopped when it
 * read that many, so the caller can continue from there.
 */
export async function searchEventPayloads(
  q: Queryable,
  tenantId: string,
  opts: EventFilters & { payload: { path: string[]; value: string }; limit: number; before?: EventCursor },
): Promise<{ rows: EventRecord[]; scanEnd: EventCursor | null }> {
  const res = await q.query<EventRow & { hit: boolean }>(
    `with scanned as materialized (
       select id, tenant_id, type, payload, created_at from events
        where tenant_id = $1
          and ($2::timestamptz is null or (created_at, id) < ($2::timestamptz, $3::text))
          and ${typeMatches('type', 4)}
          and ${within('created_at', 5, 6)}
        order by created_at desc, id desc limit $7
     ), hits as (
       select *, true as hit from scanned where (payload #>> $8::text[]) = $9 order by created_at desc, id desc limit $10
     ), tail as (
       -- the last row read, only when the scan read all it may (there may be more behind it)
       select *, false as hit from scanned where (select count(*) from scanned) = $7 order by created_at, id limit 1
     )
     select id, tenant_id, type, payload::text as payload, created_at, hit from (select * from hits union all select * from tail) r
      order by hit desc, created_at desc, id desc`,
    [
      tenantId,
      opts.before?.createdAt ?? null,
      opts.before?.id ?? null,
      opts.type ?? null,
      opts.since ?? null,
      opts.until ?? null,
      PAYLOAD_SCAN_ROWS,
      opts.payload.path,
      opts.payload.value,
      opts.limit,
    ],
  );
  const tail = res.rows.find((r) => !r.hit);
  return {
    rows: res.rows.filter((r) => r.hit).map(toEvent),
    scanEnd: tail ? { createdAt: new Date(tail.created_at).toISOString(), id: tail.id } : null,
  };
}
