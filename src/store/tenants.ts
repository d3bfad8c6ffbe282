import type { Queryable } from '../db/db.js';

export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

interface TenantRow {
  id: string;
  name: string;
  created_at: Date;
  updated_at: Date;
}

const toTenant = (r: TenantRow): Tenant => ({
  id: r.id,
  name: r.name,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** Inserts a tenant; returns null when the id is taken. */
export async function insertTenant(q: Queryable, id: string, name: string): Promise<Tenant | null> {
  const res = await q.query<TenantRow>(
    `insert into tenants (id, name) values ($1, $2) on conflict (id) do nothing returning *`,
    [id, name],
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

export async function updateTenant(q: Queryable, id: string, patch: { name?: string }): Promise<Tenant | null> {
  const res = await q.query<TenantRow>(
    `update tenants set name = coalesce($2, name), updated_at = now() where id = $1 returning *`,
    [id, patch.name ?? null],
  );
  return res.rows[0] ? toTenant(res.rows[0]) : null;
}

export async function deleteTenant(q: Queryable, id: string): Promise<boolean> {
  const res = await q.query(`delete from tenants where id = $1`, [id]);
  return res.rowCount > 0;
}
