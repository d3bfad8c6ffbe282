import type { Db, Queryable } from '../../db/db.js';

/*
 * Writes out the deliveries batches deferred (migration 0033): takes the
 * oldest fanouts rows no other worker holds, inserts their delivery records
 * and queue rows, and deletes them, in one statement (one transaction: a
 * crash leaves the row to the next worker, never half written). What the
 * publish decided is kept: the same ids, endpoints and creation times.
 * Deliveries of an endpoint deleted since the publish are dropped (its
 * deletion removed what it had), and so are those of a tenant deleted
 * since; the tenants still there are locked as a publish locks its own
 * (migration 0032), so a deletion under way waits for this statement and
 * then removes what it wrote.
 */
const WRITE_OUT_SQL = `
with f as (
  delete from fanouts where id in (select id from fanouts order by id limit $1 for update skip locked)
  returning id, tenant_id, created_at, delivery_ids, event_ids, endpoint_ids
), tenants_alive as materialized (
  select id from tenants where id in (select tenant_id from f) for key share
), d as materialized (
  select f.id as fid, f.tenant_id, f.created_at, x.*
    from f cross join lateral unnest(f.delivery_ids, f.event_ids, f.endpoint_ids) with ordinality as x(id, event_id, endpoint_id, ord)
   where f.tenant_id in (select id from tenants_alive)
), live as (
  select d.* from d
   where d.endpoint_id in (select e.id from endpoints e where e.id = any (array(select distinct endpoint_id from d)))
), dl as (
  insert into deliveries (id, tenant_id, event_id, endpoint_id, next_attempt_at, created_at)
  select id, tenant_id, event_id, endpoint_id, created_at, created_at from live order by fid, ord
  returning id, tenant_id, event_id, endpoint_id, created_at, seq
), q as (
  insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, seq)
  select id, tenant_id, event_id, endpoint_id, created_at, seq from dl
  returning 1
)
select (select count(*) from f)::int as batches, (select count(*) from q)::int as deliveries`;

/** Writes out up to `batches` deferred batches; how many it took, and the deliveries they made. */
export async function writeOutFanouts(db: Queryable, batches: number): Promise<{ batches: number; deliveries: number }> {
  const res = await db.query<{ batches: number; deliveries: number }>(WRITE_OUT_SQL, [batches], 'fanout_write_out');
  const row = res.rows[0];
  return { batches: Number(row?.batches ?? 0), deliveries: Number(row?.deliveries ?? 0) };
}

/** Dead fanouts rows (and their out-of-line arrays) removed, as the worker does for the queue (upkeep.ts). */
export async function vacuumFanouts(db: Db): Promise<void> {
  await db.exec('vacuum (skip_locked, parallel 0) fanouts');
}
