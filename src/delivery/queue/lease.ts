import type { Db } from '../../db/db.js';
import { NOTIFY_CHANNEL } from '../../store/events.js';

/**
 * Gives deliveries back: due again after `delayMs` (0 = now), for any
 * worker (graceful shutdown, an endpoint at its cap, pacing). Only rows
 * this claim still holds are touched.
 */
export async function releaseDeliveries(db: Db, items: { id: string; leaseToken: string; delayMs?: number }[]): Promise<number> {
  if (items.length === 0) return 0;
  const res = await db.query(
    `with r as (select * from unnest($1::text[], $2::text[], $3::int[]) as r(id, token, delay_ms))
     update queue q set lease_token = null, lease_until = null, due_at = now() + r.delay_ms * interval '1 millisecond'
       from r where q.delivery_id = any ($1::text[]) and q.delivery_id = r.id and q.lease_token = r.token`,
    [items.map((i) => i.id), items.map((i) => i.leaseToken), items.map((i) => Math.round(i.delayMs ?? 0))],
    'delivery_release',
  );
  if (res.rowCount > 0 && items.some((i) => !i.delayMs)) await db.query(`select pg_notify('${NOTIFY_CHANNEL}', '')`);
  return res.rowCount;
}

/**
 * Gives back every delivery still leased under `token` (a hand-off whose
 * publish failed after it may have committed, or whose deliveries the
 * worker could not take): due now, for any worker. A token is used once,
 * so this touches nothing else.
 */
export async function releaseLease(db: Db, token: string): Promise<number> {
  const res = await db.query(`update queue set lease_token = null, lease_until = null where lease_token = $1`, [token]);
  if (res.rowCount > 0) await db.query(`select pg_notify('${NOTIFY_CHANNEL}', '')`);
  return res.rowCount;
}

/**
 * Tells the database this worker is alive, and learns in the same round
 * trip how many workers share the endpoints' rate limits and which
 * endpoints' circuits are open (workers send nothing to those until they close),
 * and whether a batch's deferred deliveries wait to be written out (a NOTIFY
 * that never came: the API crashed after its commit, or the LISTEN
 * connection was down).
 */
export async function heartbeat(db: Db, workerId: string): Promise<{ workers: number; openCircuits: string[]; fanoutsWaiting: boolean }> {
  const res = await db.query<{ n: number; open: string[]; fanouts: boolean }>(
    `with beat as (
       insert into workers (id) values ($1) on conflict (id) do update set last_seen_at = now() returning 1)
     select (select count(*) from workers where last_seen_at > now() - interval '15 seconds' and id <> $1)::int + 1 as n,
            array(select id from endpoints where circuit_open_until is not null and circuit_open_until > now()) as open,
            exists (select from fanouts) as fanouts
       from beat`,
    [workerId],
    'worker_heartbeat',
  );
  const row = res.rows[0];
  return { workers: Number(row?.n ?? 1), openCircuits: row?.open ?? [], fanoutsWaiting: row?.fanouts === true };
}

export async function forgetWorker(db: Db, workerId: string): Promise<void> {
  await db.query(`delete from workers where id = $1 or last_seen_at < now() - interval '1 hour'`, [workerId]);
}

/**
 * When the next queued delivery that no live lease holds falls due (null
 * when none), so an idle worker sleeps exactly until then: per endpoint
 * (loose index scan, at most 1,000 of them) its first such row. A lease
 * that runs out (a worker died) is found by the poll, which bounds the sleep.
 */
export async function nextDueAt(db: Db): Promise<Date | null> {
  const res = await db.query<{ at: Date | null }>(
    `with recursive eps as (
       (select endpoint_id as eid, 1 as n from queue order by endpoint_id limit 1)
       union all
       select nx.eid, eps.n + 1 from eps cross join lateral (
         select endpoint_id as eid from queue where endpoint_id > eps.eid order by endpoint_id limit 1) nx
        where eps.n < 1000)
     select min(f.due_at) as at from eps cross join lateral (
       select q.due_at from queue q where q.endpoint_id = eps.eid and (q.lease_until is null or q.lease_until <= now())
        order by q.due_at limit 1) f`,
    [],
    'delivery_next_due',
  );
  const at = res.rows[0]?.at;
  return at ? new Date(at) : null;
}
