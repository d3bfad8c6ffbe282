import type { Queryable } from '../../db/db.js';
import { newId } from '../../ids.js';
import { NOTIFY_CHANNEL } from '../../store/events.js';
import { renderEnvelope } from '../envelope.js';
import type { AttemptResult, HealthRules } from './types.js';

/*
 * The side effects of a batch of outcomes, in one statement, run only when
 * the batch has any (a healthy endpoint's successes with nobody subscribed
 * to `webhook.delivered` have none):
 *
 * - endpoint health: consecutive failures, the circuit breaker, automatic
 *   disabling (410 Gone, too many failures, failing for too long), and the
 *   reset after a success of an endpoint that had failures on record;
 * - an audit entry per delivery that finally failed;
 * - the `webhook.delivered` / `webhook.failed` meta events, with a
 *   delivery (and its queue row) per endpoint that subscribed to them by
 *   name. Meta events are never produced for meta events: no recursion.
 */
const EFFECTS_SQL = `
with h as (
  select * from json_to_recordset($1::json) as h(endpoint_id text, any_ok bool, fails int, gone bool, first_fail timestamptz)
), ep_before as (
  select e.id, e.disabled from endpoints e join h on h.endpoint_id = e.id
), ep_upd as (
  update endpoints e set
      consecutive_failures = case when h.any_ok then 0 else e.consecutive_failures + h.fails end,
      failing_since = case when h.any_ok then null else coalesce(e.failing_since, h.first_fail) end,
      circuit_open_until = case
        when h.any_ok then null
        when $4::int > 0 and e.consecutive_failures + h.fails >= $4::int then now() + make_interval(secs => $5::int)
        else e.circuit_open_until end,
      disabled = e.disabled or h.gone or (not h.any_ok and (
        ($6::int > 0 and e.consecutive_failures + h.fails >= $6::int) or
        ($7::int > 0 and coalesce(e.failing_since, h.first_fail) <= now() - make_interval(secs => $7::int)))),
      disabled_reason = case
        when e.disabled then e.disabled_reason
        when h.gone then 'the receiver answered 410 Gone'
        when not h.any_ok and $6::int > 0 and e.consecutive_failures + h.fails >= $6::int
          then format('%s consecutive failed attempts', e.consecutive_failures + h.fails)
        when not h.any_ok and $7::int > 0 and coalesce(e.failing_since, h.first_fail) <= now() - make_interval(secs => $7::int)
          then format('only failures since %s', coalesce(e.failing_since, h.first_fail))
        else e.disabled_reason end,
      updated_at = case when h.gone or h.fails > 0 then now() else e.updated_at end
    from h
   where e.id = h.endpoint_id
     and (h.fails > 0 or h.gone or e.consecutive_failures > 0 or e.failing_since is not null or e.circuit_open_until is not null)
  returning e.id, e.tenant_id, e.disabled, e.disabled_reason, e.circuit_open_until
), audit as (
  insert into audit_log (tenant_id, actor, action, target_type, target_id, details)
  select f.tenant_id, 'system', 'webhook.failed', 'delivery', f.id,
         jsonb_build_object('eventId', f.event_id, 'endpointId', f.endpoint_id, 'attempts', f.attempts)
    from json_to_recordset($2::json) as f(id text, tenant_id text, event_id text, endpoint_id text, attempts int)
  returning 1
), metas as (
  select * from json_to_recordset($3::json) as m(tenant_id text, id text, type text, payload text, created_at timestamptz, dlv_base text)
), live as (
  -- no outcome event for a tenant deleted meanwhile; one being deleted waits for this (migration 0032)
  select id from tenants where id in (select tenant_id from metas) for key share
), meta_ev as (
  insert into events (tenant_id, id, type, payload, created_at)
  select m.tenant_id, m.id, m.type, m.payload::json, m.created_at from metas m
   where m.tenant_id in (select id from live)
  returning tenant_id, id, type, created_at
), meta_dl as (
  insert into deliveries (id, tenant_id, event_id, endpoint_id, next_attempt_at, created_at)
  select m.dlv_base || to_hex(4095 + row_number() over (partition by ev.id order by ep.id)),
         ev.tenant_id, ev.id, ep.id, ev.created_at, ev.created_at
    from meta_ev ev join metas m on m.id = ev.id and m.tenant_id = ev.tenant_id
    join endpoints ep on ep.tenant_id = ev.tenant_id and not ep.disabled
                                     and (ep.event_types && herald_type_patterns(ev.type) or (ep.event_types is null and herald_type_open(ev.type)))
  returning id, tenant_id, event_id, endpoint_id, created_at, seq
), meta_q as (
  insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, seq)
  select id, tenant_id, event_id, endpoint_id, created_at, seq from meta_dl
  returning 1
)
select case when (select count(*) from meta_q) > 0 then pg_notify('${NOTIFY_CHANNEL}', '') end as notified,
       (select coalesce(json_agg(json_build_object('endpointId', x.id, 'tenantId', x.tenant_id, 'reason', x.disabled_reason)), '[]')
          from ep_upd x join ep_before b on b.id = x.id where x.disabled and not b.disabled)::text as newly_disabled,
       (select coalesce(json_agg(x.id), '[]') from ep_upd x where x.circuit_open_until > now())::text as open_circuits`;

export interface EffectsOutcome {
  /** Endpoints this batch disabled (410 Gone, or failing for too long). */
  newlyDisabled: { endpointId: string; tenantId: string; reason: string }[];
  /** Endpoints whose circuit this batch opened or kept open. */
  openCircuits: string[];
}

interface Health {
  endpoint_id: string;
  any_ok: boolean;
  fails: number;
  gone: boolean;
  first_fail: string | null;
}

/** Whether an attempt counts against the endpoint's health. */
const failedAttempt = (r: AttemptResult) => r.counted && r.status !== 'succeeded';

/** Per endpoint of the batch whose health may change: did anything succeed, how many attempts failed, did it answer 410. */
function healthOf(results: AttemptResult[]): Health[] {
  const by = new Map<string, Health & { unhealthy: boolean }>();
  for (const r of results) {
    let h = by.get(r.delivery.endpointId);
    if (!h) {
      h = { endpoint_id: r.delivery.endpointId, any_ok: false, fails: 0, gone: false, first_fail: null, unhealthy: false };
      by.set(r.delivery.endpointId, h);
    }
    h.unhealthy ||= r.delivery.endpointUnhealthy;
    if (r.status === 'succeeded') h.any_ok = true;
    if (r.responseStatus === 410) h.gone = true;
    if (failedAttempt(r)) {
      h.fails++;
      const at = r.startedAt.toISOString();
      if (h.first_fail === null || at < h.first_fail) h.first_fail = at;
    }
  }
  return [...by.values()]
    .filter((h) => h.fails > 0 || h.gone || (h.any_ok && h.unhealthy))
    .map(({ unhealthy: _, ...h }) => h);
}

/**
 * The `webhook.delivered` / `webhook.failed` event a final outcome
 * publishes (wrapped in the tenant's envelope template when it has one),
 * or null when nobody subscribes or for outcomes of meta events.
 */
function metaEvent(
  r: AttemptResult,
): { tenant_id: string; id: string; type: string; payload: string; created_at: string; dlv_base: string } | null {
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
  return { tenant_id: r.delivery.tenantId, id, type, payload: body, created_at: createdAt.toISOString(), dlv_base: newId('dlv') };
}

/** Whether a batch of outcomes has any side effect to write (cheap: most batches of a healthy system have none). */
export function hasEffects(results: AttemptResult[]): boolean {
  return results.some(
    (r) =>
      r.status === 'failed' ||
      failedAttempt(r) ||
      r.responseStatus === 410 ||
      (r.status === 'succeeded' && (r.delivery.endpointUnhealthy || (r.delivery.wantsDelivered && !r.delivery.eventType.startsWith('webhook.')))),
  );
}

/** Writes the side effects of outcomes that were applied (not those in `lost`); nothing when there are none. */
export async function applyEffects(db: Queryable, results: AttemptResult[], lost: Set<string>, rules: HealthRules): Promise<EffectsOutcome> {
  const applied = lost.size === 0 ? results : results.filter((r) => !lost.has(r.delivery.id));
  const health = healthOf(applied);
  const failed = applied
    .filter((r) => r.status === 'failed')
    .map((r) => ({
      id: r.delivery.id,
      tenant_id: r.delivery.tenantId,
      event_id: r.delivery.eventId,
      endpoint_id: r.delivery.endpointId,
      attempts: r.delivery.attempts + (r.counted ? 1 : 0),
    }));
  const metas = applied.map(metaEvent).filter((m) => m !== null);
  if (health.length === 0 && failed.length === 0 && metas.length === 0) return { newlyDisabled: [], openCircuits: [] };
  const res = await db.query<{ newly_disabled: string; open_circuits: string }>(
    EFFECTS_SQL,
    [
      JSON.stringify(health),
      JSON.stringify(failed),
      JSON.stringify(metas),
      rules.circuitBreakerFailures,
      rules.circuitBreakerCooldownSeconds,
      rules.disableAfterFailures,
      rules.disableAfterSeconds,
    ],
    'delivery_effects',
  );
  const row = res.rows[0];
  return {
    newlyDisabled: JSON.parse(row?.newly_disabled ?? '[]') as EffectsOutcome['newlyDisabled'],
    openCircuits: JSON.parse(row?.open_circuits ?? '[]') as string[],
  };
}
