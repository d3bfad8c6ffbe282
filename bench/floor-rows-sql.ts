/**
 * The steady floor's statements when it writes Herald's own rows
 * (FLOOR_RECORD=herald, floor-steady-server.ts): the cheapest statements
 * that leave what Herald's do (arrays in, no joins, tenant `floor`).
 * Shared with statement-cost.ts, which runs them beside Herald's own.
 */

/** The event rows of the intake statements below, as CTE `e` (id, created_at): $1 the tenant, $2-$4 id, type, payload. */
export const floorRowsEvents = `with e as (
  insert into events (tenant_id, id, type, payload, created_at)
  select $1, id, type, payload::json, now() from unnest($2::text[], $3::text[], $4::text[]) as i(id, type, payload)
  returning id, created_at
)`;

/**
 * The intake floor's batch statement when it writes Herald's rows (intake's
 * `floor-rows`, floor-server.ts; also bench/intake-rows.ts): $1 the tenant,
 * $2-$4 the events (id, type, payload); per event the event row, a delivery
 * record and a queue row, to endpoint `ep_floor`.
 */
export const FLOOR_ROWS_INTAKE_SQL = `
${floorRowsEvents}, d as (
  insert into deliveries (id, tenant_id, event_id, endpoint_id, next_attempt_at, created_at)
  select 'dlv_' || id, $1, id, 'ep_floor', created_at, created_at from e
  returning id, event_id, endpoint_id, created_at, seq
)
insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, seq)
select id, $1, event_id, endpoint_id, created_at, seq from d`;

/**
 * $1-$3 the events (id, type, payload), $4-$6 the deliveries (id, event
 * id, endpoint id): the event rows, a delivery record and a queue row each,
 * leased to the floor for 60 s.
 */
export const FLOOR_ROWS_PUBLISH_SQL = `
with e as (
  insert into events (tenant_id, id, type, payload, created_at)
  select 'floor', id, type, payload::json, now() from unnest($1::text[], $2::text[], $3::text[]) as i(id, type, payload)
), d as (
  insert into deliveries (id, tenant_id, event_id, endpoint_id, next_attempt_at, created_at)
  select d.id, 'floor', d.event_id, d.endpoint_id, now(), now() from unnest($4::text[], $5::text[], $6::text[]) as d(id, event_id, endpoint_id)
  returning id, event_id, endpoint_id, seq
)
insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, seq, lease_token, lease_until)
select id, 'floor', event_id, endpoint_id, now(), seq, 'floor', now() + interval '60 seconds' from d`;

/**
 * One row per answer, $1-$9: delivery id, HTTP status, started at,
 * duration, event id, endpoint id, URL, request and response headers
 * (JSON texts): the queue row deleted, the record updated, an attempt row.
 */
export const FLOOR_ROWS_RECORD_SQL = `
with r as (
  select * from unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
    as r(id, status, started_at, duration_ms, event_id, endpoint_id, url, req_headers, res_headers)
), gone as (delete from queue where delivery_id = any ($1::text[])
), upd as (
  update deliveries d set status = 'succeeded', attempts = 1, next_attempt_at = null, last_attempt_at = r.started_at,
         last_status = r.status, updated_at = now()
    from r where d.id = r.id
)
insert into attempts (id, delivery_id, tenant_id, endpoint_id, event_id, attempt_number, started_at, duration_ms,
                      request_url, request_headers, response_status, response_headers, response_body, response_body_truncated)
select 'att_' || r.id, r.id, 'floor', r.endpoint_id, r.event_id, 1, r.started_at, r.duration_ms,
       r.url, r.req_headers::json, r.status, r.res_headers::json, '', false from r`;
