import type { Db } from '../db/db.js';

/*
 * Retention removes old events (their deliveries and attempts, with the
 * stored request headers and response bodies, go with them in the same
 * statement; Herald's own `webhook.*` meta events are events like any
 * other) and old audit entries, in batches of `batch` rows, each its own
 * short transaction: no long lock ever blocks intake or workers. An event
 * that still has a pending delivery is kept, whatever its age. A
 * transaction-scoped advisory lock lets one process at a time work.
 *
 * Batched deletes rather than time-partitioned tables: measured in
 * docs/reliability.md ("Bounded storage"). Dropping a partition is far
 * cheaper per row (500,000 rows of 1 KB: 0.3 s and 1.5 MB of WAL against
 * 3.6 s and 558 MB), but it needs partitions (and primary keys that
 * include the partition key) on four related tables, cannot keep an old
 * event that still has a pending delivery, and takes an ACCESS EXCLUSIVE
 * lock on the parent (a 2 s read in flight stalled every insert 1.8 s
 * behind a DROP; batches: 19 ms). The batches keep every statement short
 * (~70 ms for 5,000 rows) and need a VACUUM (or autovacuum) to make the
 * space reusable.
 *
 * The victims are found per tenant through `events_tenant_listed`
 * (tenant_id, created_at), the index the event listings need anyway: the
 * tenants are walked in a nested loop, each giving its old events from the
 * head of its range, until the batch is full (the LIMIT stops the walk; no
 * global order is needed, any old event is a victim). Migration 0008 had
 * added `events_created (created_at)` for this (before it, every batch read
 * the whole table); 0036 drops it, because every publish paid for keeping
 * it (about 4 % of the batch statement alone: docs/benchmarks.md, 31st
 * pass). The walk costs an index probe per tenant it passes without old
 * events: 3.4 ms against 2.7 for a batch of 5,000 among 10,000 tenants,
 * 22 ms against 0.1 for a pass that finds nothing (36th pass).
 *
 * RETENTION_VICTIMS_SQL: up to $2 events older than $1 seconds that nothing
 * pending hangs on (read-only; the retention soak times it alone).
 */
export const RETENTION_VICTIMS_SQL = `
  select e.tenant_id, e.id
    from (
      -- nor an event of a batch whose deliveries no worker has written out yet (migration 0033)
      select least(now() - make_interval(secs => $1), coalesce((select min(created_at) from fanouts), 'infinity')) as at
    ) cutoff
   cross join tenants t
   cross join lateral (
     select e.tenant_id, e.id from events e
      where e.tenant_id = t.id and e.created_at < cutoff.at
        and not exists (select 1 from deliveries d where d.tenant_id = e.tenant_id and d.event_id = e.id and d.status = 'pending')
      order by e.created_at
      limit $2
   ) e
   limit $2`;

const DELETE_EVENTS = `
with lock as (select pg_try_advisory_xact_lock(7177002) as ok),
victims as (
  select v.tenant_id, v.id from lock, (${RETENTION_VICTIMS_SQL}) v where lock.ok
), dl as (
  -- deliveries and attempts go with their event (no foreign keys on those hot rows: migration 0010)
  delete from deliveries d using victims v where d.tenant_id = v.tenant_id and d.event_id = v.id returning d.id
), att as (
  delete from attempts a where a.delivery_id in (select id from dl)
)
delete from events e using victims v where e.tenant_id = v.tenant_id and e.id = v.id`;

const DELETE_AUDIT = `
with lock as (select pg_try_advisory_xact_lock(7177003) as ok)
delete from audit_log a where a.id in (
  select id from audit_log, lock where lock.ok and created_at < now() - make_interval(secs => $1) order by id limit $2)`;

/** Heartbeat rows of worker processes that died without saying goodbye. */
const DELETE_STALE_WORKERS = `delete from workers where last_seen_at < now() - interval '1 hour'`;

/** Tables retention deletes from in volume (the ones a VACUUM after a pass is for). */
export const RETENTION_TABLES = ['events', 'deliveries', 'attempts', 'audit_log'] as const;

export interface RetentionRun {
  events: number;
  auditEntries: number;
  /** True when the pass stopped at `maxBatches` with old rows left: run again soon. */
  more: boolean;
}

/** One pass: deletes batches until nothing old is left or `maxBatches` ran. */
export async function applyRetention(db: Db, retentionSeconds: number, batch = 5_000, maxBatches = 100): Promise<RetentionRun> {
  const out: RetentionRun = { events: 0, auditEntries: 0, more: false };
  for (let i = 0; i < maxBatches; i++) {
    const ev = await db.query(DELETE_EVENTS, [retentionSeconds, batch]);
    const au = await db.query(DELETE_AUDIT, [retentionSeconds, batch]);
    out.events += ev.rowCount;
    out.auditEntries += au.rowCount;
    if (ev.rowCount < batch && au.rowCount < batch) return out;
  }
  out.more = true;
  return out;
}

export async function deleteStaleWorkers(db: Db): Promise<number> {
  return (await db.query(DELETE_STALE_WORKERS)).rowCount;
}

/**
 * Does anything vacuum the tables retention deletes from? False on PGlite
 * (no autovacuum launcher in a single-user engine) and when autovacuum is
 * off on the server or on one of the tables.
 */
export async function autovacuumRuns(db: Db): Promise<boolean> {
  if (db.kind === 'pglite') return false;
  const r = await db.query<{ on: boolean }>(
    `select current_setting('autovacuum')::boolean
            and not exists (select 1 from pg_class c, pg_options_to_table(c.reloptions) o
                             where c.oid = any (array[${RETENTION_TABLES.map((t) => `'${t}'::regclass`).join(', ')}])
                               and o.option_name = 'autovacuum_enabled' and not o.option_value::boolean) as on`,
  );
  return r.rows[0]?.on ?? false;
}

/**
 * Plain VACUUM (no FULL: it takes a SHARE UPDATE EXCLUSIVE lock, which
 * blocks neither reads nor writes) of the retention tables, so the space
 * of deleted rows is reused by new ones instead of the files growing; and
 * ANALYZE, because where autovacuum does not run nothing else refreshes the
 * planner's statistics of tables whose contents retention replaces
 * continuously (one soak sample with VACUUM-only statistics had the
 * list-deliveries query at 238 ms instead of ~3 ms; likely a plan flip,
 * not seen again with ANALYZE).
 */
export async function vacuumRetentionTables(db: Db): Promise<void> {
  await db.query(`vacuum (analyze) ${RETENTION_TABLES.join(', ')}`);
}
