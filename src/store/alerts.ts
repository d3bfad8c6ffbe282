import type { Queryable } from '../db/db.js';
import { newId } from '../ids.js';

/** What an alert announces about an endpoint. */
export type AlertKind = 'failing' | 'disabled' | 'recovered';

/** What the message says about the endpoint, frozen when the change was seen. */
export interface AlertDetail {
  tenantName: string;
  url: string;
  consecutiveFailures: number;
  lastStatus: number | null;
  lastErrorCode: string | null;
  lastError: string | null;
  /** Why Herald disabled it (disabled alerts only). */
  reason: string | null;
}

/** Row type of `alerts`. */
export interface Alert {
  id: string;
  tenantId: string;
  endpointId: string;
  kind: AlertKind;
  detail: AlertDetail;
  createdAt: string;
  status: AlertStatus;
  attempts: number;
  sentAt: string | null;
  lastError: string | null;
}

/** pending: waits to be posted; sent; dropped: given up after repeated failed posts. */
export type AlertStatus = 'pending' | 'sent' | 'dropped';

interface AlertRow {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  kind: AlertKind;
  detail: AlertDetail;
  created_at: Date;
  status: AlertStatus;
  attempts: number;
  sent_at: Date | null;
  last_error: string | null;
}

const toAlert = (r: AlertRow): Alert => ({
  id: r.id,
  tenantId: r.tenant_id,
  endpointId: r.endpoint_id,
  kind: r.kind,
  detail: r.detail,
  createdAt: new Date(r.created_at).toISOString(),
  status: r.status,
  attempts: r.attempts,
  sentAt: r.sent_at === null ? null : new Date(r.sent_at).toISOString(),
  lastError: r.last_error,
});

/*
 * One statement: each endpoint's state now against the state last announced,
 * and an alert per change. An endpoint is
 *  - disabled: disabled by Herald, which always says why (a person's
 *    endpoint has no reason, created disabled, or `disabled by user`);
 *  - failing: its circuit is (or was, with no success since) open, or it has
 *    had `$1` failed attempts in a row;
 *  - ok: its last attempt succeeded (no failure since);
 *  - between (a failure or two after a success): no change either way, so a
 *    flapping endpoint does not alert on every attempt.
 * Endpoints of `herald listen` sessions (a developer's laptop) and those a
 * person disabled are left out. It reads `endpoints` whole (one row per
 * endpoint, like the operator view; no index on the health columns, which
 * the record path updates on every failure) once per interval.
 */
const DETECT_SQL = `
with cur as (
  select e.id as endpoint_id, e.tenant_id, e.url, e.consecutive_failures, e.disabled_reason,
         case when e.disabled then 'disabled'
              when e.circuit_open_until is not null or e.consecutive_failures >= $1 then 'failing'
              when e.consecutive_failures = 0 then 'ok' end as state
    from endpoints e
   where (e.disabled or e.consecutive_failures > 0 or e.circuit_open_until is not null
          or exists (select 1 from alert_states s where s.endpoint_id = e.id and s.state <> 'ok'))
     and not (e.disabled and (e.disabled_reason is null or e.disabled_reason = 'disabled by user'))
     and not exists (select 1 from listen_sessions l where l.endpoint_id = e.id)
), changed as (
  select c.* from cur c left join alert_states s on s.endpoint_id = c.endpoint_id
   where c.state is not null and c.state <> coalesce(s.state, 'ok')
), moved as (
  insert into alert_states (endpoint_id, tenant_id, state)
  select endpoint_id, tenant_id, state from changed
  on conflict (endpoint_id) do update set state = excluded.state, changed_at = now()
   where alert_states.state <> excluded.state
  returning endpoint_id
)
insert into alerts (id, tenant_id, endpoint_id, kind, detail)
select $2::text || c.endpoint_id,
       c.tenant_id, c.endpoint_id,
       case c.state when 'ok' then 'recovered' else c.state end,
       jsonb_build_object('tenantName', t.name, 'url', c.url, 'consecutiveFailures', c.consecutive_failures,
                          'lastStatus', l.response_status, 'lastErrorCode', l.error_code, 'lastError', l.error_message,
                          'reason', case when c.state = 'disabled' then c.disabled_reason end)
  from changed c
  join moved m on m.endpoint_id = c.endpoint_id
  join tenants t on t.id = c.tenant_id
  left join lateral (
    select a.response_status, a.error_code, a.error_message from attempts a
     where a.endpoint_id = c.endpoint_id order by a.started_at desc limit 1
  ) l on true
returning id`;

/** Compares endpoint states with those announced and queues an alert per change; returns how many. */
export async function detectAlerts(q: Queryable, afterFailures: number): Promise<number> {
  // ids: one fresh sortable prefix per pass, made unique by the endpoint id
  const r = await q.query(DETECT_SQL, [afterFailures, `${newId('alr')}_`]);
  return r.rows.length;
}

/**
 * Takes the due alerts (oldest first, at most `limit`) for one message,
 * holding them for `leaseSeconds` so another worker's pass skips them.
 */
export async function claimDueAlerts(q: Queryable, limit: number, leaseSeconds: number): Promise<Alert[]> {
  const r = await q.query<AlertRow>(
    `update alerts a set next_attempt_at = now() + make_interval(secs => $2::int)
      where a.id in (select id from alerts where status = 'pending' and next_attempt_at <= now()
                      order by created_at, id limit $1 for update skip locked)
     returning a.*`,
    [limit, leaseSeconds],
  );
  return r.rows.map(toAlert).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

export async function markAlertsSent(q: Queryable, ids: string[]): Promise<void> {
  await q.query(`update alerts set status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = null where id = any($1::text[])`, [ids]);
}

/**
 * A post that failed: each alert is tried again after `retryInSeconds`, or
 * given up (`dropped`) once it has had `maxAttempts`.
 */
export async function markAlertsFailed(q: Queryable, ids: string[], error: string, retryInSeconds: number, maxAttempts: number): Promise<void> {
  await q.query(
    `update alerts set attempts = attempts + 1, last_error = $2,
            status = case when attempts + 1 >= $4 then 'dropped' else 'pending' end,
            next_attempt_at = now() + make_interval(secs => $3::int)
      where id = any($1::text[])`,
    [ids, error.slice(0, 500), retryInSeconds, maxAttempts],
  );
}

/** Deletes alerts sent or given up more than `olderThanSeconds` ago. */
export async function pruneAlerts(q: Queryable, olderThanSeconds: number): Promise<void> {
  await q.query(`delete from alerts where status <> 'pending' and created_at < now() - make_interval(secs => $1::int)`, [olderThanSeconds]);
}

/** What the Operator page shows of alerting: the latest alerts and how many wait. */
export async function alertActivity(q: Queryable, limit: number): Promise<{ pending: number; recent: Alert[] }> {
  const pending = await q.query<{ n: number }>(`select count(*)::int as n from alerts where status = 'pending'`);
  const recent = await q.query<AlertRow>(`select * from alerts order by created_at desc, id desc limit $1`, [limit]);
  return { pending: pending.rows[0]?.n ?? 0, recent: recent.rows.map(toAlert) };
}
