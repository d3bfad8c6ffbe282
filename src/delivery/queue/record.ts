import type { Queryable } from '../../db/db.js';
import { boolArray, intArray, textArray } from '../../db/array-literal.js';
import type { AttemptResult } from './types.js';

/*
 * Recording a batch of outcomes is one statement, rows in as JSON (one
 * parameter each for outcomes and attempts instead of thirty parallel
 * arrays; the worker's CPU profile had pg's array escaping at 2 %):
 *
 * - the queue row goes (final outcome) or becomes due again (retry), but
 *   only where this claim still holds it: a worker whose lease expired
 *   cannot overwrite the newer owner's result (fencing);
 * - the delivery record takes the outcome, for the rows the queue step
 *   owned;
 * - one attempt row per HTTP request made, even a stale one: it happened.
 *
 * No audit entry for a success: its attempt row is the record. Endpoint
 * health, audit entries of failures and meta events are outcome side
 * effects (effects.ts), written only when a batch has any.
 */
export const RECORD_SQL = `
with r as (
  select * from json_to_recordset($1::json)
    as r(id text, token text, status text, retry_in_ms int, counted bool, last_status int, last_error text, attempted_at timestamptz)
), ids as materialized (
  -- every join to a big table below also probes it with the batch's ids as
  -- one array, so whatever the statistics say (a queue analyzed nearly
  -- empty was estimated at one row, and the join became a walk of its whole
  -- primary key with the batch rescanned at every entry: 9.6 s for 364
  -- outcomes) the worst plan left is a hash join of batch and batch
  select array_agg(id) as list from r
), done as (
  delete from queue q using r
   where q.delivery_id = any ((select list from ids)::text[])
     and q.delivery_id = r.id and q.lease_token = r.token and r.status <> 'pending'
  returning q.delivery_id as id
), again as (
  update queue q set due_at = now() + r.retry_in_ms * interval '1 millisecond', lease_token = null, lease_until = null,
         attempts = q.attempts + case when r.counted then 1 else 0 end, manual = false
    from r where q.delivery_id = any ((select list from ids)::text[])
     and q.delivery_id = r.id and q.lease_token = r.token and r.status = 'pending'
  returning q.delivery_id as id
), upd as (
  -- the delivery records of the outcomes whose queue row this claim still
  -- held. The outcome values come from r, not from done/again: those are
  -- estimated at one row, and joined to them the update was a nested loop
  -- of batch x batch (7 of 8 ms for 128 outcomes); r is estimated at a
  -- batch, so the join is hashed
  update deliveries d
     set status = o.status, attempts = d.attempts + case when o.counted then 1 else 0 end,
         next_attempt_at = case when o.status = 'pending' then now() + o.retry_in_ms * interval '1 millisecond' end,
         manual = false, last_attempt_at = o.attempted_at, last_status = o.last_status, last_error = o.last_error, updated_at = now()
    from r o
   where d.id = any (array(select id from done union all select id from again)) and d.id = o.id
  returning d.id
), att as (
  insert into attempts (id, delivery_id, tenant_id, endpoint_id, event_id, attempt_number, started_at, duration_ms,
                        request_url, request_headers, response_status, response_headers, response_body,
                        response_body_truncated, error_code, error_message)
  -- tenant, endpoint and event come from the delivery record (one probe, which also
  -- skips a delivery deleted with its endpoint while the request was in flight)
  select a.id, a.delivery_id, d.tenant_id, d.endpoint_id, d.event_id, a.attempt_number, a.started_at, a.duration_ms,
         a.request_url, a.request_headers, a.response_status, a.response_headers, a.response_body,
         a.truncated, a.error_code, a.error_message
    from json_to_recordset($2::json)
      as a(id text, delivery_id text, attempt_number int, started_at timestamptz,
           duration_ms int, request_url text, request_headers json, response_status int, response_headers json, response_body text,
           truncated bool, error_code text, error_message text)
    join deliveries d on d.id = a.delivery_id and d.id = any ((select list from ids)::text[])
  returning 1
)
-- the ids applied only when some were not (the common batch has none lost)
select case when (select count(*) from upd) < (select count(*) from r) then array(select id from upd) end as applied`;

/*
 * The batch every outcome of which is final (succeeded or failed), which is
 * the common batch: no queue row becomes due again, so the statement needs
 * no retry branch, and it takes one row per outcome (with its attempt) as
 * column arrays, the headers as two JSON arrays, instead of two JSON
 * documents parsed field by field. Measured on the same batches of 128,
 * alternated (docs/benchmarks.md, twenty-second pass): PostgreSQL 19.4-19.8
 * µs per recorded delivery against 26.7-27.6 µs for RECORD_SQL, and the
 * worker's parameters 1.5 µs per row against 2.3 µs. Same fencing, same
 * applied ids, same attempt rows.
 */
export const RECORD_FINAL_SQL = `
with r as (
  -- the headers as two JSON arrays (one JSON.stringify each on the worker's side, and no array_in and json_in on
  -- the database's), the rest as column arrays; rows from zips them row by row
  select * from rows from (unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::int[], $6::text[], $7::timestamptz[],
                                  $8::text[], $9::int[], $10::int[], $11::text[]),
                           json_array_elements($12::json), json_array_elements($13::json),
                           unnest($14::text[], $15::bool[], $16::text[], $17::text[]))
    as r(id, token, status, counted, http_status, last_error, started_at,
         attempt_id, attempt_number, duration_ms, url, request_headers, response_headers, response_body, truncated,
         error_code, error_message)
), done as (
  delete from queue q using r
   where q.delivery_id = any ($1::text[]) and q.delivery_id = r.id and q.lease_token = r.token
  returning q.delivery_id as id
), upd as (
  update deliveries d
     set status = r.status, attempts = d.attempts + case when r.counted then 1 else 0 end, next_attempt_at = null,
         manual = false, last_attempt_at = r.started_at, last_status = r.http_status, last_error = r.last_error, updated_at = now()
    from r
   where d.id = any (array(select id from done)) and d.id = r.id
  returning d.id
), att as (
  insert into attempts (id, delivery_id, tenant_id, endpoint_id, event_id, attempt_number, started_at, duration_ms,
                        request_url, request_headers, response_status, response_headers, response_body,
                        response_body_truncated, error_code, error_message)
  select r.attempt_id, r.id, d.tenant_id, d.endpoint_id, d.event_id, r.attempt_number, r.started_at, r.duration_ms,
         r.url, r.request_headers, r.http_status, case when json_typeof(r.response_headers) <> 'null' then r.response_headers end, r.response_body,
         r.truncated, r.error_code, r.error_message
    from r join deliveries d on d.id = r.id and d.id = any ($1::text[])
   where r.attempt_id is not null
  returning 1
)
select case when (select count(*) from upd) < cardinality($1::text[]) then array(select id from upd) end as applied`;

/** Strips NUL characters, which PostgreSQL text cannot hold (an unrecordable attempt would retry forever). */
export const clean = (s: string | null): string | null => (s === null ? null : s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);

function cleanHeaders(h: Record<string, string> | null): Record<string, string> | null {
  if (h === null) return null;
  for (const v of Object.values(h)) if (v.includes('\u0000')) return Object.fromEntries(Object.entries(h).map(([k, x]) => [k, clean(x)!]));
  return h;
}

/** The message kept on the delivery: the error, or the HTTP status of a failed answer. */
export const lastError = (r: AttemptResult): string | null =>
  clean(r.errorMessage ?? (r.responseStatus !== null && r.status !== 'succeeded' ? `HTTP ${r.responseStatus}` : null));

/**
 * Writes a batch of outcomes; returns the ids whose outcome was not applied
 * because their claim no longer held them (lease expired and taken over,
 * or the delivery deleted meanwhile).
 */
export async function recordOutcomes(db: Queryable, results: AttemptResult[]): Promise<Set<string>> {
  if (results.every((r) => r.status !== 'pending')) return recordFinal(db, results);
  const outcomes = results.map((r) => ({
    id: r.delivery.id,
    token: r.delivery.leaseToken,
    status: r.status,
    retry_in_ms: r.retryInMs === null ? null : Math.round(r.retryInMs),
    counted: r.counted,
    last_status: r.responseStatus,
    last_error: lastError(r),
    attempted_at: r.startedAt.toISOString(),
  }));
  const attempts = results
    .filter((r) => !r.skipped)
    .map((r) => ({
      id: r.attemptId,
      delivery_id: r.delivery.id,
      attempt_number: r.delivery.attempts + 1,
      started_at: r.startedAt.toISOString(),
      duration_ms: r.durationMs,
      request_url: r.delivery.url,
      request_headers: cleanHeaders(r.requestHeaders),
      response_status: r.responseStatus,
      response_headers: cleanHeaders(r.responseHeaders),
      response_body: clean(r.responseBody),
      truncated: r.responseBodyTruncated,
      error_code: r.errorCode,
      error_message: clean(r.errorMessage),
    }));
  const res = await db.query<{ applied: string[] | null }>(RECORD_SQL, [JSON.stringify(outcomes), JSON.stringify(attempts)], 'delivery_record');
  const listed = res.rows[0]?.applied;
  if (!listed) return new Set();
  const applied = new Set(listed);
  return new Set(outcomes.filter((o) => !applied.has(o.id)).map((o) => o.id));
}

/** recordOutcomes for a batch of final outcomes only (RECORD_FINAL_SQL). */
async function recordFinal(db: Queryable, results: AttemptResult[]): Promise<Set<string>> {
  const col = <T>(f: (r: AttemptResult) => T): T[] => results.map(f);
  const ids = col((r) => r.delivery.id);
  const res = await db.query<{ applied: string[] | null }>(
    RECORD_FINAL_SQL,
    [
      textArray(ids),
      textArray(col((r) => r.delivery.leaseToken)),
      textArray(col((r) => r.status)),
      boolArray(col((r) => r.counted)),
      intArray(col((r) => r.responseStatus)),
      textArray(col(lastError)),
      textArray(col((r) => r.startedAt.toISOString())),
      textArray(col((r) => (r.skipped ? null : r.attemptId))),
      intArray(col((r) => r.delivery.attempts + 1)),
      intArray(col((r) => r.durationMs)),
      textArray(col((r) => r.delivery.url)),
      JSON.stringify(col((r) => cleanHeaders(r.requestHeaders))),
      JSON.stringify(col((r) => cleanHeaders(r.responseHeaders))),
      textArray(col((r) => clean(r.responseBody))),
      boolArray(col((r) => r.responseBodyTruncated)),
      textArray(col((r) => r.errorCode)),
      textArray(col((r) => clean(r.errorMessage))),
    ],
    'delivery_record_final',
  );
  const listed = res.rows[0]?.applied;
  if (!listed) return new Set();
  const applied = new Set(listed);
  return new Set(ids.filter((id) => !applied.has(id)));
}
