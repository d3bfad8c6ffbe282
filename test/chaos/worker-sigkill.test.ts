import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ADMIN_TOKEN, Api, SECRET_KEY } from '../helpers/herald.js';
import { HeraldProcess, freePort, killAll, sleep, waitUntil } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';

/*
 * Faults, issue 3: SIGKILL `herald worker` processes several times while
 * thousands of deliveries are in flight, restart each time. Every accepted
 * event reaches every endpoint at least once; a duplicate carries the same
 * webhook-id (and a valid signature); the duplicate count is printed.
 *
 * Needs PostgreSQL: two worker processes cannot share the embedded
 * database (test/crash-recovery.test.ts covers the single-process case).
 */
const PG = Boolean(process.env.DATABASE_URL);
const EVENTS = 2_500;
const ENDPOINTS = 2;
const KILLS_AT = [0.1, 0.3, 0.5, 0.7]; // fractions of all deliveries received when each kill lands
const LEASE_S = 7;

if (!PG) console.log('[chaos:worker-sigkill] SKIPPED: needs PostgreSQL (set DATABASE_URL); several worker processes cannot share PGlite');

let db: TestDatabase;
let receiver: Receiver;
const procs: HeraldProcess[] = [];



describe.skipIf(!PG)('chaos: SIGKILL of worker processes under load (PostgreSQL)', () => {
  let port: number;
  const env = () => ({
    HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
    HERALD_SECRET_KEYS: SECRET_KEY,
    HERALD_DEV: '1',
    DATABASE_URL: db.url!,
    PORT: String(port),
    HERALD_MAX_TIMEOUT_MS: '2000',
    HERALD_DEFAULT_TIMEOUT_MS: '2000',
    HERALD_LEASE_SECONDS: String(LEASE_S),
    HERALD_POLL_INTERVAL_MS: '500',
    HERALD_WORKER_CONCURRENCY: '64',
    HERALD_CIRCUIT_BREAKER_FAILURES: '0',
  });
  const start = async (cmd: 'api' | 'worker') => {
    const p = await HeraldProcess.start(cmd, env(), 60_000);
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    port = await freePort();
    receiver = await new Receiver().listen();
    // 5-40 ms per answer: plenty of deliveries are in flight whenever a kill lands
    receiver.respond = (_r, res) => void setTimeout(() => res.writeHead(200).end('ok'), 5 + Math.floor(Math.random() * 35));
  }, 120_000);

  afterAll(async () => {
    await killAll(procs);
    await receiver?.close();
    await db?.drop();
  });

  it(`delivers every one of ${EVENTS} events x ${ENDPOINTS} endpoints after ${KILLS_AT.length} worker SIGKILLs`, async () => {
    const t0 = Date.now();
    const api = new Api(`http://127.0.0.1:${port}`, ADMIN_TOKEN);
    await start('api');
    const workers = [await start('worker'), await start('worker')];
    const t = await api.tenant('SigkillWorkers');
    const secrets: Record<string, string> = {};
    for (let i = 0; i < ENDPOINTS; i++) {
      const ep = await api.endpoint(t, { url: receiver.url(`/ep-${i}`), retry: { schedule: [0.2, 0.5, 1, 1, 2, 5, 5], jitter: 0 } });
      secrets[`/ep-${i}`] = ep.secret;
    }

    // publish in the background while the kills land (client-supplied ids, retried on any failure)
    const accepted = new Set<string>();
    let next = 0;
    let publishErrors = 0;
    const publishing = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < EVENTS) {
          const i = next++;
          for (let tries = 0; ; tries++) {
            const r = await api.publish(t, 'order.created', { i }, `evt_wk_${i}`).catch(() => null);
            if (r?.status === 202) {
              accepted.add(r.body.id);
              break;
            }
            publishErrors++;
            if (tries > 50) throw new Error(`publish ${i} kept failing: ${r?.status}`);
            await sleep(100);
          }
        }
      }),
    );

    const total = EVENTS * ENDPOINTS;
    const kills: number[] = [];
    for (const [k, frac] of KILLS_AT.entries()) {
      await receiver.waitFor(() => receiver.received.length >= total * frac, 120_000, `${frac * 100}% of deliveries`);
      const idx = k % workers.length;
      const victim = workers[idx]!;
      const before = receiver.received.length;
      victim.kill('SIGKILL');
      expect(await Promise.race([victim.wait(), sleep(10_000).then(() => 'still running')])).toBeNull();
      kills.push(before);
      workers[idx] = await start('worker');
    }
    await publishing;
    expect(accepted.size).toBe(EVENTS);

    const distinct = () => new Set(receiver.received.map((r) => `${r.path} ${r.headers['webhook-id']}`)).size;
    await waitUntil(() => distinct() >= total, 120_000, 'every (event, endpoint) pair to be received');

    // every accepted event reached every endpoint
    for (let i = 0; i < ENDPOINTS; i++) {
      const ids = new Set(receiver.at(`/ep-${i}`).map((r) => String(r.headers['webhook-id'])));
      expect(ids.size).toBe(EVENTS);
      for (const id of accepted) expect(ids.has(id)).toBe(true);
    }
    // a duplicate is the same event: same webhook-id for the same body, and a valid signature of its own
    const copies = new Map<string, number>();
    for (const r of receiver.received) {
      const id = String(r.headers['webhook-id']);
      expect(id).toBe(`evt_wk_${JSON.parse(r.body).i}`);
      copies.set(`${r.path} ${id}`, (copies.get(`${r.path} ${id}`) ?? 0) + 1);
    }
    const duplicated = [...copies.entries()].filter(([, n]) => n > 1);
    for (const [key] of duplicated) {
      const [path, id] = key.split(' ') as [string, string];
      for (const r of receiver.received.filter((x) => x.path === path && x.headers['webhook-id'] === id)) {
        const headers = {
          'webhook-id': id,
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        };
        expect(new Webhook(secrets[path]!).verify(r.body, headers)).toEqual(JSON.parse(r.body));
      }
    }
    const duplicates = receiver.received.length - copies.size;

    // and the database agrees: every delivery succeeded, none left pending or held
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await waitUntil(
        async () => (await c.query(`select count(*)::int as n from deliveries where status <> 'succeeded'`)).rows[0].n === 0,
        60_000,
        'every delivery to be recorded as succeeded',
      );
      const stats = (
        await c.query(
          `select count(*)::int as deliveries, sum(attempts)::int as counted_attempts,
                  (select count(*)::int from attempts) as attempt_rows,
                  (select count(*)::int from events) as events
             from deliveries`,
        )
      ).rows[0];
      expect(stats.events).toBe(EVENTS);
      expect(stats.deliveries).toBe(total);
      const took = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(
        `[chaos:worker-sigkill] accepted ${accepted.size} events x ${ENDPOINTS} endpoints = ${total} deliveries; ` +
          `${kills.length} SIGKILLs at ${kills.join('/')} received; received ${receiver.received.length}; ` +
          `distinct ${copies.size}; lost 0; duplicates ${duplicates} (${duplicated.length} pairs, all same webhook-id, signatures valid); ` +
          `attempt rows ${stats.attempt_rows}; publish retries ${publishErrors}; ${took}s`,
      );
    } finally {
      await c.end();
    }

    for (const w of workers) w.kill('SIGTERM');
    for (const w of workers) expect(await Promise.race([w.wait(), sleep(20_000).then(() => 'hung')])).toBe(0);
  }, 240_000);
});
