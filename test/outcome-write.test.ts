import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOT_PATH_SETTINGS } from '../src/db/hot-path.js';
import { claimDeliveries } from '../src/delivery/queue/claim.js';
import { EndpointConfigs } from '../src/delivery/queue/endpoint-configs.js';
import { RECORD_FINAL_SQL, RECORD_SQL, outcomeColumns, prepareOutcomes, writeOutcomes } from '../src/delivery/queue/record.js';
import type { AttemptResult, ClaimedDelivery } from '../src/delivery/queue/types.js';
import { boolArray, intArray, numberArray, textArray } from '../src/db/array-literal.js';
import { newId } from '../src/ids.js';
import { SecretBox } from '../src/security/secret-box.js';
import { SECRET_KEY, startHerald, type TestHerald } from './helpers/herald.js';

/*
 * The outcome write (src/delivery/queue/record.ts) on the engine under test:
 * a batch of final outcomes goes through RECORD_FINAL_SQL, a batch with a
 * retry through RECORD_SQL, both taking column arrays and JSON headers. Both
 * must store what an answer carried byte for byte and apply an outcome only
 * while its claim holds the row.
 * An API-only Herald: no worker takes the rows these tests claim by hand.
 */
let herald: TestHerald;
let tenant: string;
let seq = 0;

beforeAll(async () => {
  herald = await startHerald({}, { api: true, worker: false });
  tenant = await herald.api.tenant();
  await herald.api.endpoint(tenant, { url: 'https://example.com/hook', eventTypes: ['ow.*'] });
});
afterAll(async () => {
  await herald?.stop();
});

/** Publishes `n` events and claims their deliveries under `token`. */
async function claimed(n: number, token: string): Promise<ClaimedDelivery[]> {
  for (let i = 0; i < n; i++) await herald.api.publish(tenant, 'ow.x', { i: seq++ });
  const { deliveries } = await claimDeliveries(herald.running.db, new EndpointConfigs(new SecretBox([SECRET_KEY])), {
    limit: n,
    leaseToken: token,
    leaseSeconds: 60,
    skipEndpoints: [],
    endpointLimit: 64,
    room: new Map(),
    maxEndpoints: 10,
    minShare: 1,
    cursor: '',
  });
  expect(deliveries).toHaveLength(n);
  return deliveries;
}

function result(d: ClaimedDelivery, over: Partial<AttemptResult> = {}): AttemptResult {
  return {
    delivery: d,
    attemptId: newId('att'),
    status: 'succeeded',
    retryInMs: null,
    startedAt: new Date('2026-12-05T05:00:00.123Z'),
    durationMs: 7,
    requestHeaders: { 'content-type': 'application/json', 'webhook-id': d.eventId },
    responseStatus: 200,
    responseHeaders: { 'content-length': '0' },
    responseBody: '',
    responseBodyTruncated: false,
    errorCode: null,
    errorMessage: null,
    skipped: false,
    counted: true,
    ...over,
  };
}

const row = async (sql: string, params: unknown[]) => (await herald.running.db.query<Record<string, unknown>>(sql, params)).rows[0];

// every character an array literal or JSON treats specially, the word NULL, and a NUL (stored as U+FFFD)
const HOSTILE = 'a "quoted" \\back\\slash, {braces}, NULL\nnew line\ttab é 日本 🎉 \u0000end';
const STORED = HOSTILE.replace('\u0000', '\uFFFD');

describe('outcome write', () => {
  it('stores a final batch exactly: any character in body, headers and message, NULL as a word, null as null', async () => {
    const [ok, failed, gone] = await claimed(3, 'final');
    const written = [
      result(ok!, { responseBody: HOSTILE, responseHeaders: { 'x-odd': 'say "hi" \\ {x,y}', 'x-null': 'NULL' } }),
      result(failed!, { status: 'failed', responseStatus: null, responseHeaders: null, responseBody: null, errorCode: 'connection_refused', errorMessage: HOSTILE, responseBodyTruncated: true }),
      // no request made (say, its endpoint was disabled): the delivery is final, with no attempt row
      result(gone!, { status: 'failed', skipped: true, responseStatus: null, responseHeaders: null, responseBody: null, errorCode: 'endpoint_disabled', errorMessage: 'endpoint is disabled', counted: false }),
    ];
    expect(await writeOutcomes(herald.running.db, prepareOutcomes(written))).toEqual(new Set());

    const a = await row(`select * from attempts where delivery_id = $1`, [ok!.id]);
    expect(a).toMatchObject({ id: written[0]!.attemptId, tenant_id: tenant, endpoint_id: ok!.endpointId, event_id: ok!.eventId, attempt_number: 1, duration_ms: 7 });
    expect(a!.response_body).toBe(STORED);
    expect(a!.response_headers).toEqual({ 'x-odd': 'say "hi" \\ {x,y}', 'x-null': 'NULL' });
    expect(a!.request_headers).toEqual({ 'content-type': 'application/json', 'webhook-id': ok!.eventId });
    expect(a!.response_status).toBe(200);
    expect(new Date(a!.started_at as string).toISOString()).toBe('2026-12-05T05:00:00.123Z');

    const f = await row(`select * from attempts where delivery_id = $1`, [failed!.id]);
    expect(f).toMatchObject({ response_status: null, response_headers: null, response_body: null, response_body_truncated: true, error_code: 'connection_refused' });
    expect(f!.error_message).toBe(STORED);
    expect(await row(`select count(*)::int as n from attempts where delivery_id = $1`, [gone!.id])).toEqual({ n: 0 });

    const states = (await herald.running.db.query<{ id: string; status: string; attempts: number; last_status: number | null; last_error: string | null; next_attempt_at: unknown }>(
      `select id, status, attempts, last_status, last_error, next_attempt_at from deliveries where id = any ($1::text[])`,
      [[ok!.id, failed!.id, gone!.id]],
    )).rows;
    const by = new Map(states.map((s) => [s.id, s]));
    expect(by.get(ok!.id)).toMatchObject({ status: 'succeeded', attempts: 1, last_status: 200, last_error: null, next_attempt_at: null });
    expect(by.get(failed!.id)).toMatchObject({ status: 'failed', attempts: 1, last_status: null, last_error: STORED });
    expect(by.get(gone!.id)).toMatchObject({ status: 'failed', attempts: 0, last_error: 'endpoint is disabled' });
    expect(await row(`select count(*)::int as n from queue where delivery_id = any ($1::text[])`, [[ok!.id, failed!.id, gone!.id]])).toEqual({ n: 0 });
  });

  it('applies a final outcome only while its claim holds the row; the attempt is recorded either way', async () => {
    const [held, lost] = await claimed(2, 'mine');
    const stale = { ...lost!, leaseToken: 'someone-else' };
    const notApplied = await writeOutcomes(herald.running.db, prepareOutcomes([result(held!), result(stale)]));
    expect(notApplied).toEqual(new Set([lost!.id]));
    expect(await row(`select status from deliveries where id = $1`, [held!.id])).toEqual({ status: 'succeeded' });
    // the row stays with the claim that holds it, pending, for that claim's own outcome
    expect(await row(`select status, attempts from deliveries where id = $1`, [lost!.id])).toEqual({ status: 'pending', attempts: 0 });
    expect(await row(`select lease_token from queue where delivery_id = $1`, [lost!.id])).toEqual({ lease_token: 'mine' });
    expect(await row(`select count(*)::int as n from attempts where delivery_id = $1`, [lost!.id])).toEqual({ n: 1 });
  });

  it('keeps no attempt of a delivery deleted while its request was in flight, applied or stale beside it in the batch', async () => {
    const [kept, deleted, stale] = await claimed(3, 'gone');
    await herald.running.db.query(`delete from deliveries where id = $1`, [deleted!.id]);
    const notApplied = await writeOutcomes(herald.running.db, prepareOutcomes([result(kept!), result(deleted!), result({ ...stale!, leaseToken: 'other' })]));
    expect(notApplied).toEqual(new Set([deleted!.id, stale!.id]));
    const n = async (id: string) => (await row(`select count(*)::int as n from attempts where delivery_id = $1`, [id]))!.n;
    expect(await n(deleted!.id)).toBe(0);
    expect(await n(kept!.id)).toBe(1);
    // the stale one's attempt happened, and names its delivery's tenant, endpoint and event
    expect(await row(`select tenant_id, endpoint_id, event_id from attempts where delivery_id = $1`, [stale!.id])).toEqual({
      tenant_id: tenant,
      endpoint_id: stale!.endpointId,
      event_id: stale!.eventId,
    });
  });

  it('takes a batch with a retry in it through the general statement: the retry is due again, the final one is done', async () => {
    const [again, done] = await claimed(2, 'mixed');
    const notApplied = await writeOutcomes(herald.running.db, prepareOutcomes([
      result(again!, { status: 'pending', retryInMs: 60_000, responseStatus: 503, responseBody: HOSTILE }),
      result(done!),
    ]));
    expect(notApplied).toEqual(new Set());
    expect(await row(`select status, attempts from deliveries where id = $1`, [again!.id])).toEqual({ status: 'pending', attempts: 1 });
    expect(await row(`select lease_token, attempts, due_at > now() + interval '50 seconds' as later from queue where delivery_id = $1`, [again!.id])).toEqual({ lease_token: null, attempts: 1, later: true });
    expect((await row(`select response_body from attempts where delivery_id = $1`, [again!.id]))!.response_body).toBe(STORED);
    expect(await row(`select status from deliveries where id = $1`, [done!.id])).toEqual({ status: 'succeeded' });
  });

  it('plans both statements as index probes on a fresh, never analyzed database, with no join of batch against batch', async () => {
    const fake = (i: number) => ({ id: `dlv_plan_${i}`, leaseToken: 'tok', url: 'https://x', attempts: 0, eventId: 'evt_plan' }) as ClaimedDelivery;
    const batch = Array.from({ length: 128 }, (_, i) => result(fake(i)));
    for (const [sql, rows] of [
      [RECORD_FINAL_SQL, batch],
      [RECORD_SQL, batch.map((r, i) => (i % 2 ? { ...r, status: 'pending' as const, retryInMs: 1_000 } : r))],
    ] as const) {
      const plan = await herald.running.db.transaction(async (tx) => {
        for (const [k, v] of Object.entries(HOT_PATH_SETTINGS)) await tx.exec(`set local ${k} = ${v}`);
        const r = await tx.query<{ 'QUERY PLAN': string }>(`explain ${sql}`, outcomeColumns(rows));
        return r.rows.map((x) => x['QUERY PLAN']).join('\n');
      });
      expect(plan).toMatch(/Index Scan (using|on) queue_pkey/);
      expect(plan).toMatch(/Index Scan (using|on) deliveries_pkey/);
      expect(plan).not.toMatch(/Seq Scan/);
      expect(plan).not.toMatch(/Join Filter/);
    }
  });
});

describe('array literals', () => {
  it('round-trips every string through PostgreSQL unchanged, in order, nulls as nulls', async () => {
    const values = ['', 'NULL', 'null', ' lead and trail ', 'a,b', '{x}', '"', '\\', '\\"', HOSTILE.replace('\u0000', ''), null, 'é🎉'];
    const back = await herald.running.db.query<{ v: string | null; n: number; b: boolean }>(
      `select v, n, b from unnest($1::text[], $2::int[], $3::bool[]) as u(v, n, b)`,
      [textArray(values), intArray(values.map((_, i) => (i % 3 === 0 ? null : i))), boolArray(values.map((_, i) => i % 2 === 0))],
    );
    expect(back.rows.map((r) => r.v)).toEqual(values);
    expect(back.rows.map((r) => r.n)).toEqual(values.map((_, i) => (i % 3 === 0 ? null : i)));
    expect(back.rows.map((r) => r.b)).toEqual(values.map((_, i) => i % 2 === 0));
  });

  it('turns epoch milliseconds into the same instants the Dates were, to the millisecond', async () => {
    const dates = ['2026-12-05T05:00:00.123Z', '2026-12-05T05:00:00.001Z', '2026-12-05T05:00:00.999Z', '1999-12-31T23:59:59.999Z', '2038-01-19T03:14:08.000Z'].map((s) => new Date(s));
    const back = await herald.running.db.query<{ at: string; ms: number | null }>(
      `select to_timestamp(ms / 1000)::text as at, ms from unnest($1::float8[]) with ordinality as u(ms, n) order by n`,
      [numberArray([...dates.map((d) => d.getTime()), null, 1.5])],
    );
    expect(back.rows.slice(0, dates.length).map((r) => new Date(r.at).toISOString())).toEqual(dates.map((d) => d.toISOString()));
    expect(back.rows.slice(dates.length).map((r) => (r.ms === null ? null : Number(r.ms)))).toEqual([null, 1.5]);
  });
});
