import type { Queryable } from '../db/db.js';
import { LookupCache } from '../store/lookup-cache.js';
import { DELIVERED_SUBSCRIPTIONS, FAILED_SUBSCRIPTIONS } from '../store/outcome-subscribers.js';

/** An enabled endpoint as fan-out sees it. */
export interface FanoutEndpoint {
  id: string;
  /** Ordered delivery: its deliveries wait their turn in the queue and are never handed over. */
  ordered: boolean;
}

/**
 * A tenant's subscriptions at one generation (migration 0030): which
 * enabled endpoints each event type reaches, with the rules of
 * herald_type_patterns. Read in one statement, so the generation and the
 * endpoints are of the same snapshot.
 */
export class TenantFanout {
  private readonly byPattern = new Map<string, FanoutEndpoint[]>();
  /** Endpoints with no type list: every type but Herald's own. */
  private readonly open: FanoutEndpoint[] = [];
  private readonly memo = new Map<string, FanoutEndpoint[]>();
  readonly wantsDelivered: boolean;
  readonly wantsFailed: boolean;

  constructor(
    readonly generation: string,
    /** Some enabled endpoint has a payload filter: this tenant's events are matched in SQL. */
    readonly filtered: boolean,
    endpoints: { id: string; eventTypes: string[] | null; ordered: boolean }[],
  ) {
    let delivered = false;
    let failed = false;
    for (const e of endpoints) {
      const ep = { id: e.id, ordered: e.ordered };
      if (e.eventTypes === null) {
        this.open.push(ep);
        continue;
      }
      for (const t of new Set(e.eventTypes)) {
        const list = this.byPattern.get(t);
        if (list) list.push(ep);
        else this.byPattern.set(t, [ep]);
      }
      delivered ||= DELIVERED_SUBSCRIPTIONS.some((t) => e.eventTypes!.includes(t));
      failed ||= FAILED_SUBSCRIPTIONS.some((t) => e.eventTypes!.includes(t));
    }
    this.wantsDelivered = delivered;
    this.wantsFailed = failed;
  }

  /** The endpoints `type` reaches, each once, by id. */
  endpointsFor(type: string): FanoutEndpoint[] {
    let found = this.memo.get(type);
    if (found) return found;
    const seen = new Map<string, FanoutEndpoint>();
    for (const p of typePatterns(type)) for (const ep of this.byPattern.get(p) ?? []) seen.set(ep.id, ep);
    if (opensTo(type)) for (const ep of this.open) seen.set(ep.id, ep);
    found = [...seen.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // types are few per tenant; an unbounded stream of distinct ones starts the memo over
    if (this.memo.size >= 1_000) this.memo.clear();
    this.memo.set(type, found);
    return found;
  }
}

/** herald_type_patterns (migrations 0010, 0029): the subscriptions that reach `type`. */
export function typePatterns(type: string): string[] {
  if (type.startsWith('webhook.')) return [type, 'webhook.*'];
  if (type === 'endpoint.disabled') return [type];
  const out = ['*', type];
  for (let i = 0; i < type.length; i++) if (type[i] === '.') out.push(`${type.slice(0, i + 1)}*`);
  return out;
}

/** herald_type_open: whether an endpoint with no type list receives `type` (not Herald's own events). */
export const opensTo = (type: string): boolean => !(type.startsWith('webhook.') || type === 'endpoint.disabled');

const LOAD_SQL = `
select coalesce((select gen from endpoint_generations where tenant_id = $1), 0)::text as generation,
       coalesce(json_agg(json_build_array(id, event_types, ordered)) filter (where not disabled), '[]')::text as endpoints,
       coalesce(bool_or(filter_path is not null) filter (where not disabled), false) as filtered
  from endpoints where tenant_id = $1`;

/**
 * Each tenant's subscriptions, read once and kept while its generation
 * holds (a publish checks it), so a publish needs no matching in SQL.
 * Entries expire after `ttlMs` only to bound what idle tenants keep.
 */
export class FanoutCache {
  private readonly tenants: LookupCache<TenantFanout>;

  constructor(ttlMs = 60_000) {
    this.tenants = new LookupCache(ttlMs);
  }

  get(q: Queryable, tenantId: string): Promise<TenantFanout> {
    return this.tenants.get(tenantId, async () => {
      const res = await q.query<{ generation: string; endpoints: string; filtered: boolean }>(LOAD_SQL, [tenantId], 'fanout_load');
      const row = res.rows[0]!;
      const endpoints = (JSON.parse(row.endpoints) as [string, string[] | null, boolean][]).map(([id, eventTypes, ordered]) => ({ id, eventTypes, ordered }));
      return new TenantFanout(row.generation, row.filtered, endpoints);
    });
  }

  /** The tenant's generation moved: read its subscriptions again at the next publish. */
  forget(tenantId: string): void {
    this.tenants.forget(tenantId);
  }
}
