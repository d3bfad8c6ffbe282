import { Type, type Static } from 'typebox';
import type { Queryable } from '../../db/db.js';
import { getEndpoint } from '../../store/endpoints.js';
import { getTenant } from '../../store/tenants.js';
import { errors } from '../../errors.js';
import { EndpointParams, TenantParams } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

/** Bucket widths the stats routes accept, in seconds. */
const BUCKETS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21_600, '1d': 86_400 } as const;
type Bucket = keyof typeof BUCKETS;
/** More buckets than this is a mistake (or a chart nobody can read): 400. */
const MAX_BUCKETS = 1000;
/** The per-endpoint health table of the tenant stats lists at most this many endpoints. */
const MAX_HEALTH_ENDPOINTS = 500;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const StatsQuery = Type.Object({
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Start of the window (Default: 24 h before until)' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'End of the window (Default: now)' })),
  bucket: Type.Optional(
    Type.Union(
      (Object.keys(BUCKETS) as Bucket[]).map((b) => Type.Literal(b)),
      { description: 'Width of one time bucket (Default: 1h)' },
    ),
  ),
});

const Latency = {
  p50Ms: Nullable(Type.Number()),
  p95Ms: Nullable(Type.Number()),
  p99Ms: Nullable(Type.Number()),
};
const Counts = {
  /** Deliveries created in the bucket, by their status now. */
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  pending: Type.Integer(),
  /** HTTP attempts started in the bucket: 2xx, and everything else (other statuses and network errors). */
  attempts: Type.Integer(),
  attemptsSucceeded: Type.Integer(),
  attemptsFailed: Type.Integer(),
};
const Point = Type.Object({ start: Type.String(), ...Counts, ...Latency });
const Totals = Type.Object({ ...Counts, ...Latency, successRate: Nullable(Type.Number()) });
const LastAttempt = Nullable(
  Type.Object({ at: Type.String(), status: Nullable(Type.Integer()), errorCode: Nullable(Type.String()), succeeded: Type.Boolean() }),
);
const EndpointHealth = Type.Object({
  endpointId: Type.String(),
  disabled: Type.Boolean(),
  attempts: Type.Integer(),
  attemptsSucceeded: Type.Integer(),
  successRate: Nullable(Type.Number()),
  p95Ms: Nullable(Type.Number()),
  lastAttempt: LastAttempt,
});
const Window = { since: Type.String(), until: Type.String(), bucket: Type.String() };
const EndpointStats = Type.Object({ ...Window, endpointId: Type.String(), totals: Totals, series: Type.Array(Point), lastAttempt: LastAttempt });
const TenantStats = Type.Object({
  ...Window,
  totals: Totals,
  series: Type.Array(Point),
  endpoints: Type.Array(EndpointHealth),
  endpointsTruncated: Type.Boolean(),
});

interface StatsWindow {
  since: Date;
  until: Date;
  bucket: Bucket;
}

/**
 * Since/until/bucket, checked: errors name the field. `since` is aligned down
 * to a whole bucket (buckets start at multiples of their width since the
 * epoch), so the same query asked twice a minute apart gives the same buckets.
 */
function windowOf(q: Static<typeof StatsQuery>, now = Date.now()): StatsWindow {
  const bucket = q.bucket ?? '1h';
  const width = BUCKETS[bucket] * 1000;
  const until = q.until ? Date.parse(q.until) : now;
  const since = q.since ? Date.parse(q.since) : until - 24 * 3600 * 1000;
  if (!Number.isFinite(until)) throw errors.invalidField('until', 'is not a valid time');
  if (!Number.isFinite(since)) throw errors.invalidField('since', 'is not a valid time');
  if (since >= until) throw errors.invalidField('since', 'must be before until');
  const aligned = Math.floor(since / width) * width;
  const n = Math.ceil((until - aligned) / width);
  if (n > MAX_BUCKETS) {
    throw errors.invalidField('bucket', `${bucket} buckets from since to until make ${n}; at most ${MAX_BUCKETS}: choose a wider bucket or a later since`);
  }
  return { since: new Date(aligned), until: new Date(until), bucket };
}

interface PointRow {
  start: Date;
  succeeded: number;
  failed: number;
  pending: number;
  attempts: number;
  attempts_ok: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

const ms = (v: number | string | null) => (v === null ? null : Math.round(Number(v) * 10) / 10);
const iso = (d: Date | string) => new Date(d).toISOString();

function point(r: PointRow) {
  return {
    succeeded: r.succeeded,
    failed: r.failed,
    pending: r.pending,
    attempts: r.attempts,
    attemptsSucceeded: r.attempts_ok,
    attemptsFailed: r.attempts - r.attempts_ok,
    p50Ms: ms(r.p50),
    p95Ms: ms(r.p95),
    p99Ms: ms(r.p99),
  };
}

/** An attempt succeeded when the receiver answered 2xx (as the worker judges it). */
const OK = `(a.response_status between 200 and 299)`;

/**
 * Deliveries per bucket by creation time (with their status now) and attempts
 * per bucket by start time with latency percentiles, over one tenant or one
 * endpoint. Attempts are read through `attempts_endpoint_started`: for a whole
 * tenant the endpoint ids come from `endpoints`, as attempts has no tenant+time
 * index. Returns the series and the totals over the whole window (percentiles
 * of the window, not an average of the buckets' percentiles).
 */
async function series(db: Queryable, tenantId: string, endpointId: string | null, w: StatsWindow) {
  const interval = `${BUCKETS[w.bucket]} seconds`;
  const params = [tenantId, endpointId, w.since.toISOString(), w.until.toISOString(), interval];
  const attemptsOf = `
    select a.started_at, a.duration_ms, a.response_status from attempts a
     where a.endpoint_id in (select id from endpoints where tenant_id = $1 and ($2::text is null or id = $2))
       and a.tenant_id = $1 and a.started_at >= $3 and a.started_at < $4`;
  const deliveriesOf = `
    select d.created_at, d.status from deliveries d
     where d.tenant_id = $1 and ($2::text is null or d.endpoint_id = $2) and d.created_at >= $3 and d.created_at < $4`;
  const rows = await db.query<PointRow>(
    `with buckets as (
       select generate_series($3::timestamptz, $4::timestamptz - interval '1 millisecond', $5::interval) as start
     ), a as (
       select date_bin($5::interval, a.started_at, $3::timestamptz) as start,
              count(*)::int as attempts,
              count(*) filter (where ${OK})::int as attempts_ok,
              percentile_cont(0.5) within group (order by a.duration_ms) as p50,
              percentile_cont(0.95) within group (order by a.duration_ms) as p95,
              percentile_cont(0.99) within group (order by a.duration_ms) as p99
         from (${attemptsOf}) a group by 1
     ), d as (
       select date_bin($5::interval, d.created_at, $3::timestamptz) as start,
              count(*) filter (where d.status = 'succeeded')::int as succeeded,
              count(*) filter (where d.status = 'failed')::int as failed,
              count(*) filter (where d.status = 'pending')::int as pending
         from (${deliveriesOf}) d group by 1
     )
     select b.start,
            coalesce(d.succeeded, 0) as succeeded, coalesce(d.failed, 0) as failed, coalesce(d.pending, 0) as pending,
            coalesce(a.attempts, 0) as attempts, coalesce(a.attempts_ok, 0) as attempts_ok, a.p50, a.p95, a.p99
       from buckets b left join a on a.start = b.start left join d on d.start = b.start
      order by b.start`,
    params,
  );
  const total = await db.query<Omit<PointRow, 'start'>>(
    `select
       (select count(*) filter (where status = 'succeeded') from (${deliveriesOf}) d)::int as succeeded,
       (select count(*) filter (where status = 'failed') from (${deliveriesOf}) d)::int as failed,
       (select count(*) filter (where status = 'pending') from (${deliveriesOf}) d)::int as pending,
       count(*)::int as attempts,
       count(*) filter (where ${OK})::int as attempts_ok,
       percentile_cont(0.5) within group (order by a.duration_ms) as p50,
       percentile_cont(0.95) within group (order by a.duration_ms) as p95,
       percentile_cont(0.99) within group (order by a.duration_ms) as p99
     from (${attemptsOf}) a`,
    params.slice(0, 4),
  );
  const t = point({ start: w.since, ...total.rows[0]! });
  return {
    since: iso(w.since),
    until: iso(w.until),
    bucket: w.bucket,
    totals: { ...t, successRate: t.attempts ? Math.round((t.attemptsSucceeded / t.attempts) * 10_000) / 10_000 : null },
    series: rows.rows.map((r) => ({ start: iso(r.start), ...point(r) })),
  };
}

interface LastRow {
  endpoint_id: string;
  started_at: Date | null;
  response_status: number | null;
  error_code: string | null;
}

function lastAttemptOf(r: LastRow | undefined) {
  if (!r?.started_at) return null;
  const status = r.response_status;
  return { at: iso(r.started_at), status, errorCode: r.error_code, succeeded: status !== null && status >= 200 && status < 300 };
}

/** Success rate and p95 in the window, and the last attempt ever, of each endpoint of a tenant (at most `limit`). */
async function endpointHealth(db: Queryable, tenantId: string, w: StatsWindow, limit: number) {
  const res = await db.query<LastRow & { id: string; disabled: boolean; attempts: number; attempts_ok: number; p95: number | null }>(
    `select e.id, e.disabled, s.attempts, s.attempts_ok, s.p95, l.started_at, l.response_status, l.error_code
       from (select id, disabled from endpoints where tenant_id = $1 order by id limit $4) e
       cross join lateral (
         select count(*)::int as attempts, count(*) filter (where ${OK})::int as attempts_ok,
                percentile_cont(0.95) within group (order by a.duration_ms) as p95
           from attempts a where a.endpoint_id = e.id and a.started_at >= $2 and a.started_at < $3
       ) s
       left join lateral (
         select a.started_at, a.response_status, a.error_code from attempts a
          where a.endpoint_id = e.id order by a.started_at desc limit 1
       ) l on true
      order by e.id`,
    [tenantId, w.since.toISOString(), w.until.toISOString(), limit + 1],
  );
  const rows = res.rows.slice(0, limit);
  return {
    truncated: res.rows.length > limit,
    endpoints: rows.map((r) => ({
      endpointId: r.id,
      disabled: r.disabled,
      attempts: r.attempts,
      attemptsSucceeded: r.attempts_ok,
      successRate: r.attempts ? Math.round((r.attempts_ok / r.attempts) * 10_000) / 10_000 : null,
      p95Ms: ms(r.p95),
      lastAttempt: lastAttemptOf(r),
    })),
  };
}

/**
 * Delivery statistics for charts and endpoint health, computed in SQL. Success
 * rates count attempts (a 2xx answer), so an endpoint that is failing shows it
 * at once, not only when its deliveries have used up their retries.
 */
export const statsRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const tags = ['stats'];

  app.get(
    '/v1/tenants/:tenantId/stats',
    { schema: { tags, params: TenantParams, querystring: StatsQuery, response: { 200: TenantStats } } },
    async (req) => {
      const { tenantId } = req.params;
      const w = windowOf(req.query);
      if (!(await getTenant(ctx.db, tenantId))) throw errors.notFound('tenant');
      const s = await series(ctx.db, tenantId, null, w);
      const h = await endpointHealth(ctx.db, tenantId, w, MAX_HEALTH_ENDPOINTS);
      return { ...s, endpoints: h.endpoints, endpointsTruncated: h.truncated };
    },
  );

  app.get(
    '/v1/tenants/:tenantId/endpoints/:endpointId/stats',
    { schema: { tags, params: EndpointParams, querystring: StatsQuery, response: { 200: EndpointStats } } },
    async (req) => {
      const { tenantId, endpointId } = req.params;
      const w = windowOf(req.query);
      if (!(await getEndpoint(ctx.db, tenantId, endpointId, ctx.secrets))) throw errors.notFound('endpoint');
      const s = await series(ctx.db, tenantId, endpointId, w);
      const last = await ctx.db.query<LastRow>(
        `select endpoint_id, started_at, response_status, error_code from attempts
          where endpoint_id = $1 and tenant_id = $2 order by started_at desc limit 1`,
        [endpointId, tenantId],
      );
      return { ...s, endpointId, lastAttempt: lastAttemptOf(last.rows[0]) };
    },
  );
};
