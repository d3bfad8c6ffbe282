import type { Db } from '../db/db.js';

/*
 * Retention removes old events (their deliveries and attempts go with them
 * through ON DELETE CASCADE) and old audit entries, in batches of `batch`
 * rows, each its own short transaction: no long lock ever blocks intake or
 * workers. An event that still has a pending delivery is kept, whatever its
 * age. A transaction-scoped advisory lock lets one process at a time work.
 */
const DELETE_EVENTS = `
with lock as (select pg_try_advisory_xact_lock(7177002) as ok),
victims as (
  select e.tenant_id, e.id from events e, lock
   where lock.ok and e.created_at < now() - make_interval(secs => $1)
     and not exists (select 1 from deliveries d where d.tenant_id = e.tenant_id and d.event_id = e.id and d.status = 'pending')
   order by e.created_at
   limit $2
)
delete from events e using victims v where e.tenant_id = v.tenant_id and e.id = v.id`;

const DELETE_AUDIT = `
with lock as (select pg_try_advisory_xact_lock(7177003) as ok)
delete from audit_log a where a.id in (
  select id from audit_log, lock where lock.ok and created_at < now() - make_interval(secs => $1) order by id limit $2)`;

export interface RetentionRun {
  events: number;
  auditEntries: number;
}

/** One pass: deletes batches until nothing old is left or `maxBatches` ran. */
export async function applyRetention(db: Db, retentionSeconds: number, batch = 5_000, maxBatches = 100): Promise<RetentionRun> {
  const out: RetentionRun = { events: 0, auditEntries: 0 };
  for (let i = 0; i < maxBatches; i++) {
    const ev = await db.query(DELETE_EVENTS, [retentionSeconds, batch]);
    const au = await db.query(DELETE_AUDIT, [retentionSeconds, batch]);
    out.events += ev.rowCount;
    out.auditEntries += au.rowCount;
    if (ev.rowCount < batch && au.rowCount < batch) break;
  }
  return out;
}
