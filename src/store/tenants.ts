import type { Queryable } from '../db/db.js';

import type { Template } from '../delivery/envelope.js';
import type { RetryPolicy, SignatureConfig } from '../delivery/types.js';

/** Per-tenant settings that let a platform keep the webhook contract its customers already verify. */
export interface TenantSettings {
  /** Body template wrapped around every published payload (see delivery/envelope.ts). */
  envelope?: Template;
  /** Values new endpoints of this tenant get when they do not set them. */
  endpointDefaults?: {
    signature?: SignatureConfig;
    retry?: RetryPolicy;
    timeoutMs?: number;
    headers?: Record<string, string>;
  };
}

export interface Tenant {
  id: string;
  name: string;
  settings: TenantSettings;
  createdAt: string;
  updatedAt: string;
}

interface TenantRow {
  id: string;
  name: string;
  settings: TenantSettings;
  created_at: Date;
  updated_at: Date;
}

const toTenant = (r: TenantRow): Tenant => ({
  id: r.id,
  name: r.name,
  settings: r.settings ?? {},
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** Inserts a tenant; returns null when the id is taken. */
export async function insertTenant(q: Queryable, id: string, name: string, settings: TenantSettings = {}): Promise<Tenant | null> {
  const res = await q.query<TenantRow>(
    `insert into tenants (id, name, settings) values ($1, $2, $3) on conflict (id) do nothing returning *`,
    [id, name, JSON.stringify(settings)],
  );
  return res.rows[0] ? toTenant(res.rows[0]) : null;
}

export async function getTenant(q: Queryable, id: string): Promise<Tenant | null> {
  const res = await q.query<TenantRow>(`select * from tenants where id = $1`, [id], 'tenant_get');
  return res.rows[0] ? toTenant(res.rows[0]) : null;
}

/** Ordered by id; `after` is the last id of the previous page. */
export async function listTenants(q: Queryable, opts: { limit: number; after?: string }): Promise<Tenant[]> {
  const res = await q.query<TenantRow>(
    `select * from tenants where ($1::text is null or id > $1) order by id limit $2`,
    [opts.after ?? null, opts.limit],
  );
  return res.rows.map(toTenant);
}

export async function updateTenant(q: Queryable, id: string, patch: { name?: string; settings?: TenantSettings }): Promise<Tenant | null> {
  const res = await q.query<TenantRow>(
    `update tenants set name = coalesce($2, name), settings = coalesce($3::jsonb, settings), updated_at = now() where id = $1 returning *`,
    [id, patch.name ?? null, patch.settings === undefined ? null : JSON.stringify(patch.settings)],
  );
  return res.rows[0] ? toTenant(res.rows[0]) : null;
}

export async function deleteTenant(q: Queryable, id: string): Promise<boolean> {
  // Endpoints and tokens go through ON DELETE CASCADE. Events, deliveries,
  // their attempts and queue rows have no foreign keys (migrations 0010 and
  // 0032): they go in a second statement, which sees the publishes this
  // one waited for (a publish holds a lock on the tenant's row); a new
  // publish finds no tenant, and a worker writing out a batch's deferred
  // deliveries (delivery/queue/fanout.ts) locks the tenant's row as a publish
  // does, so its rows are seen too; the batches not written out yet go with
  // the events. The caller runs both in one transaction.
  const res = await q.query(`delete from tenants where id = $1 returning id`, [id]);
  if (res.rows.length === 0) return false;
  await q.query(
    `with d as (delete from deliveries where tenant_id = $1 returning id),
          q as (delete from queue where delivery_id in (select id from d)),
          a as (delete from attempts where delivery_id in (select id from d)),
          f as (delete from fanouts where tenant_id = $1)
     delete from events where tenant_id = $1`,
    [id],
  );
  return true;
}

/** What a portal link must match to open a tenant (migration 0020). */
export interface TenantCredentials {
  /** Changes when a tenant is deleted and created again under the same id. */
  incarnation: string;
  /** Raised to revoke every portal link of the tenant. */
  portalGeneration: number;
}

export async function getTenantCredentials(q: Queryable, id: string): Promise<TenantCredentials | null> {
  const res = await q.query<{ incarnation: string; portal_generation: number }>(
    `select incarnation::text as incarnation, portal_generation from tenants where id = $1`,
    [id],
    'tenant_credentials',
  );
  const r = res.rows[0];
  return r ? { incarnation: r.incarnation, portalGeneration: Number(r.portal_generation) } : null;
}

/** Revokes every portal link of a tenant issued until now; null when there is no such tenant. */
export async function revokePortalLinks(q: Queryable, id: string): Promise<TenantCredentials | null> {
  const res = await q.query<{ incarnation: string; portal_generation: number }>(
    `update tenants set portal_generation = portal_generation + 1 where id = $1 returning incarnation::text as incarnation, portal_generation`,
    [id],
  );
  const r = res.rows[0];
  return r ? { incarnation: r.incarnation, portalGeneration: Number(r.portal_generation) } : null;
}
