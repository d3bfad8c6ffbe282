import type { Queryable } from '../../db/db.js';
import { boolArray, intArray, numberArray, textArray } from '../../db/array-literal.js';
import type { AttemptResult } from './types.js';

/*
 * Recording a batch of outcomes is one statement:
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
 *
 * The rows come in as one row per outcome with its attempt: column arrays
 * (src/db/array-literal.ts), the headers as two JSON arrays, zipped by
 * `rows from`. They came as two JSON documents until PostgreSQL's parse of
 * them, field by field, was found to be a quarter of the statement: 26.7-27.6
 * µs per recorded delivery against 19.4-19.8 µs for the arrays, with the
 * worker's side at 2.3 against 1.5 µs a row (batches of 128, alternated;
 * docs/benchmarks.md, twenty-second pass).
 */
const ROWS = `
  select * from rows from (unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::int[], $6::text[], $7::float8[],
                                  $8::text[], $9::int[], $10::int[], $11::text[]),
                           json_array_elements($12::json), json_array_elements($13::json),
                           unnest($14::text[], $15::bool[], $16::text[], $17::text[], $18::int[]))
    as r(id, token, status, counted, http_status, last_error, started_ms,
         attempt_id, attempt_number, duration_ms, url, request_headers, response_headers, response_body, truncated,
         error_code, error_message, retry_in_ms)`;

/*
 * The statement, with or without the retry step. Every join to a big table
 * also probes it with the batch's ids as one array ($1), so whatever the
 * statistics say (a queue analyzed nearly empty was estimated at one row,
 * and the join became a walk of its whole primary key with the batch
 * rescanned at every entry: 9.6 s for 364 outcomes) the worst plan left is
 * a hash join of batch and batch.
 */
const recordSql = (retries: boolean): string => `
with r as (${ROWS}
), done as (
  delete from queue q using r
   where q.delivery_id = any ($1::text[]) and q.delivery_id = r.id and q.lease_token = r.token and r.status <> 'pending'
  returning q.delivery_id as id
)${
  retries
    ? `, again as (
  update queue q set due_at = now() + r.retry_in_ms * interval '1 millisecond', lease_token = null, lease_until = null,
         attempts = q.attempts + case when r.counted then 1 else 0 end, manual = false
    from r where q.delivery_id = any ($1::text[])
     -- retry_in_ms is set for a retry alone: a test the planner estimates at most of the batch (a
     -- status = 'pending' test it put at one row, and joined the batch to the queue row by row)
     and q.delivery_id = r.id and q.lease_token = r.token and r.retry_in_ms is not null
  returning q.delivery_id as id
)`
    : ''
}, upd as (
  -- the delivery records of the outcomes whose queue row this claim still
  -- held. The outcome values come from r, not from done/again: those are
  -- estimated at one row, and joined to them the update was a nested loop
  -- of batch x batch (7 of 8 ms for 128 outcomes); r is estimated at a
  -- batch, so the join is hashed
  update deliveries d
     set status = r.status, attempts = d.attempts + case when r.counted then 1 else 0 end,
         next_attempt_at = case when r.status = 'pending' then now() + r.retry_in_ms * interval '1 millisecond' end,
         manual = false, last_attempt_at = to_timestamp(r.started_ms / 1000), last_status = r.http_status, last_error = r.last_error, updated_at = now()
    from r
   where d.id = any (array(select id from done${retries ? ' union all select id from again' : ''})) and d.id = r.id
  returning d.id
), att as (
  insert into attempts (id, delivery_id, tenant_id, endpoint_id, event_id, attempt_number, started_at, duration_ms,
                        request_url, request_headers, response_status, response_headers, response_body,
                        response_body_truncated, error_code, error_message)
  -- one row per attempt made (a skipped one has no attempt id); tenant, endpoint and event from the
  -- delivery record, one probe, which also skips a delivery deleted with its endpoint while the request was in flight
  select r.attempt_id, r.id, d.tenant_id, d.endpoint_id, d.event_id, r.attempt_number, to_timestamp(r.started_ms / 1000), r.duration_ms,
         r.url, r.request_headers, r.http_status, case when json_typeof(r.response_headers) <> 'null' then r.response_headers end,
         r.response_body, r.truncated, r.error_code, r.error_message
    from r join deliveries d on d.id = r.id and d.id = any ($1::text[])
   where r.attempt_id is not null
  returning 1
)
-- the ids applied, only when some were not (the common batch has none lost)
select case when (select count(*) from upd) < cardinality($1::text[]) then array(select id from upd) end as applied`;

/** Any batch. */
export const RECORD_SQL = recordSql(true);

/*
 * The batch every outcome of which is final (succeeded or failed), which is
 * the common batch: no queue row becomes due again, so the statement has no
 * retry step (measured with the JSON documents, that step alone was 4-6 µs
 * of 45 per delivery: an index probe of the queue for every id of the batch).
 */
export const RECORD_FINAL_SQL = recordSql(false);

/** Strips NUL characters, which PostgreSQL text cannot hold (an unrecordable attempt would retry forever). */
export const clean = (s: string | null): string | null => (s === null ? null : s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);

function cleanHeaders(h: Record<string, string> | null): Record<string, string> | null {
  if (h === null) return null;
  for (const k in h) if (h[k]!.includes('\u0000')) return Object.fromEntries(Object.entries(h).map(([k, x]) => [k, clean(x)!]));
  return h;
}

/** The message kept on the delivery: the error, or the HTTP status of a failed answer. */
export const lastError = (r: AttemptResult): string | null =>
  clean(r.errorMessage ?? (r.responseStatus !== null && r.status !== 'succeeded' ? `HTTP ${r.responseStatus}` : null));

/** The statements' parameters: one row per outcome, with its attempt (see ROWS). */
export function outcomeColumns(results: readonly AttemptResult[]): string[] {
  const col = <T>(f: (r: AttemptResult) => T): T[] => results.map(f);
  return [
    textArray(col((r) => r.delivery.id)),
    textArray(col((r) => r.delivery.leaseToken)),
    textArray(col((r) => r.status)),
    boolArray(col((r) => r.counted)),
    intArray(col((r) => r.responseStatus)),
    textArray(col(lastError)),
    // epoch milliseconds (the statement makes them timestamps): toISOString was 0.75 µs a row
    numberArray(col((r) => r.startedAt.getTime())),
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
    // a retry's delay, and nothing else's: RECORD_SQL tells a retry by it
    intArray(col((r) => (r.status === 'pending' ? Math.round(r.retryInMs ?? 0) : null))),
  ];
}

/**
 * A batch of outcomes made into the statement's parameters: what writing it
 * needs, without the outcomes (see prepareOutcomes).
 */
export interface PreparedOutcomes {
  /** The deliveries' ids, in the batch's order. */
  ids: string[];
  /** Every outcome is final (succeeded or failed): the statement without the retry step. */
  final: boolean;
  /** The statement's parameters (outcomeColumns). */
  params: string[];
}

/**
 * Builds a batch's parameters once, so the write (and its retries) need not
 * hold the outcomes: each holds its delivery, its request and response
 * headers and body. Held through the statement (20-30 ms in the steady
 * state) they lived long enough to be promoted to the old generation: the
 * split worker promoted 2.96 KB a delivery and ran 44 mark-compacts in a
 * 15 s steady state, 2.15 KB and 21 without them (--trace-gc-nvp;
 * docs/benchmarks.md, twenty-eighth pass).
 */
export function prepareOutcomes(results: readonly AttemptResult[]): PreparedOutcomes {
  return { ids: results.map((r) => r.delivery.id), final: results.every((r) => r.status !== 'pending'), params: outcomeColumns(results) };
}

/**
 * Writes a prepared batch of outcomes; returns the ids whose outcome was
 * not applied because their claim no longer held them (lease expired and
 * taken over, or the delivery deleted meanwhile).
 */
export async function writeOutcomes(db: Queryable, batch: PreparedOutcomes): Promise<Set<string>> {
  const res = await db.query<{ applied: string[] | null }>(
    batch.final ? RECORD_FINAL_SQL : RECORD_SQL,
    batch.params,
    batch.final ? 'delivery_record_final' : 'delivery_record',
  );
  const listed = res.rows[0]?.applied;
  if (!listed) return new Set();
  const applied = new Set(listed);
  return new Set(batch.ids.filter((id) => !applied.has(id)));
}
