import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { PgliteDb } from '../../src/db/pglite.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ADMIN_TOKEN, Api, SECRET_KEY } from '../helpers/herald.js';
import { HeraldProcess, freePort, killAll, sleep, waitUntil } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';

/*
 * Faults, issue 3: SIGKILL the API process during a burst of publishes
 * that carry client-supplied event ids. The client retries every request
 * that failed (connection refused or reset, or a 5xx) against the
 * restarted API, with the same id. Afterwards each event exists exactly
 * once, has exactly one delivery per endpoint, and was delivered.
 *
 * On PostgreSQL `herald api` is killed while a separate `herald worker`
 * keeps delivering; on the embedded database the single `herald serve`
 * process (API and worker) is killed.
 */
// PGlite is one process doing everything (API, worker, database) on a shared two-core machine: a smaller burst.
const EVENTS = process.env.DATABASE_URL ? 1_500 : 500;
const ENDPOINTS = 2;
const KILLS_AT = [0.2, 0.55]; // fractions of the burst accepted when each kill lands
const CLIENTS = 16;

let db: TestDatabase;
let receiver: Receiver;
const procs: HeraldProcess[] = [];


beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await new Receiver().listen();
}, 120_000);

afterAll(async () => {
  await killAll(procs);
  await receiver?.close();
  await db?.drop();
});

describe(`chaos: SIGKILL of the API during a publish burst (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  it(`keeps each of ${EVENTS} client-id events exactly once across ${KILLS_AT.length} API SIGKILLs`, async () => {
    const t0 = Date.now();
    const split = db.kind === 'pg';
    const port = await freePort();
    const env = {
      HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
      HERALD_SECRET_KEYS: SECRET_KEY,
      HERALD_DEV: '1',
      PORT: String(port),
      // 2 s on PGlite too: its queries block the event loop that also sends, and the sender no
      // longer mistakes an answer read late for a timeout (finding 3 in docs/reliability.md).
      HERALD_MAX_TIMEOUT_MS: '2000',
      HERALD_DEFAULT_TIMEOUT_MS: '2000',
      HERALD_LEASE_SECONDS: split ? '7' : '15',
      HERALD_POLL_INTERVAL_MS: '500',
      ...(db.url ? { DATABASE_URL: db.url } : { HERALD_DATA_DIR: db.dataDir! }),
    };
    const start = async (cmd: 'api' | 'worker' | 'serve') => {
      const p = await HeraldProcess.start(cmd, env, 60_000);
      procs.push(p);
      return p;
    };
    let api = await start(split ? 'api' : 'serve');
    const worker = split ? await start('worker') : null;
    const client = new Api(`http://127.0.0.1:${port}`, ADMIN_TOKEN);
    const t = await client.tenant('SigkillApi');
    for (let i = 0; i < ENDPOINTS; i++) await client.endpoint(t, { url: receiver.url(`/api-${i}`), retry: { schedule: [0.2, 0.5, 1, 2], jitter: 0 } });

    const accepted = new Set<string>();
    let next = 0;
    let failedRequests = 0; // connection errors and 5xx, each retried
    let replayed = 0; // retries answered `idempotent-replayed: true`: the killed API had committed them
    const unexpected: string[] = [];
    const burst = Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < EVENTS) {
          const i = next++;
          const id = `evt_api_${i}`;
          const until = Date.now() + 90_000;
          for (let tries = 0; ; tries++) {
            const r = await client.publish(t, 'invoice.paid', { i }, id).catch((err: Error) => ({ status: 0, err, body: null, headers: new Headers() }));
            if (r.status === 202) {
              accepted.add(id);
              if (tries > 0 && r.headers.get('idempotent-replayed') === 'true') replayed++;
              break;
            }
            if (r.status !== 0 && r.status < 500) unexpected.push(`${id}: ${r.status} ${JSON.stringify(r.body)}`);
            failedRequests++;
            if (Date.now() > until) throw new Error(`publish ${id} kept failing (last status ${r.status})`);
            await sleep(100);
          }
        }
      }),
    );

    const progress = setInterval(
      () => console.log(`[chaos:api-sigkill:${db.kind}] progress: accepted ${accepted.size}/${EVENTS}, client retries ${failedRequests}, received ${receiver.received.length}`),
      15_000,
    );
    onTestFinished(() => clearInterval(progress));
    const downtimes: number[] = [];
    for (const frac of KILLS_AT) {
      await waitUntil(() => accepted.size >= EVENTS * frac, 120_000, `${frac * 100}% of the burst`);
      api.kill('SIGKILL');
      expect(await Promise.race([api.wait(), sleep(10_000).then(() => 'still running')])).toBeNull();
      const down = Date.now();
      api = await start(split ? 'api' : 'serve');
      downtimes.push(Date.now() - down);
    }
    await burst;
    expect(unexpected).toEqual([]);
    expect(accepted.size).toBe(EVENTS);

    // delivered: every accepted event reached every endpoint
    const distinct = () => new Set(receiver.received.map((r) => `${r.path} ${r.headers['webhook-id']}`)).size;
    await waitUntil(() => distinct() >= EVENTS * ENDPOINTS, 120_000, 'every (event, endpoint) pair to be received');
    for (let i = 0; i < ENDPOINTS; i++) {
      const ids = new Set(receiver.at(`/api-${i}`).map((r) => String(r.headers['webhook-id'])));
      expect(ids.size).toBe(EVENTS);
      for (const id of accepted) expect(ids.has(id)).toBe(true);
    }
    // and the API agrees that nothing is pending
    await waitUntil(
      async () => (await client.get(`/v1/tenants/${t}/deliveries?status=pending&limit=1`)).body.data.length === 0,
      60_000,
      'no delivery left pending',
    );

    // exactly once, counted in the database itself
    api.kill('SIGTERM');
    worker?.kill('SIGTERM');
    expect(await Promise.race([api.wait(), sleep(20_000).then(() => 'hung')])).toBe(0);
    if (worker) expect(await Promise.race([worker.wait(), sleep(20_000).then(() => 'hung')])).toBe(0);
    const { timeoutAttempts, ...counts } = await countRows(db, t);
    if (counts.notSucceeded !== 0) console.log(`[chaos:api-sigkill:${db.kind}] not succeeded:`, JSON.stringify(await failures(db, t)));
    expect(counts).toEqual({ events: EVENTS, distinctEvents: EVENTS, deliveries: EVENTS * ENDPOINTS, distinctPairs: EVENTS * ENDPOINTS, notSucceeded: 0 });
    const duplicates = receiver.received.length - distinct();
    console.log(
      `[chaos:api-sigkill:${db.kind}] ${EVENTS} events x ${ENDPOINTS} endpoints; ${KILLS_AT.length} SIGKILLs of \`herald ${split ? 'api' : 'serve'}\` ` +
        `(restart ${downtimes.map((d) => `${(d / 1000).toFixed(1)}s`).join(', ')}); client retries ${failedRequests}; ` +
        `retries answered as replays (committed before the kill) ${replayed}; events ${counts.events} (each once); deliveries ${counts.deliveries}; ` +
        `received ${receiver.received.length}; lost 0; duplicate sends ${duplicates}; attempts logged as timeout ${timeoutAttempts}; ${((Date.now() - t0) / 1000).toFixed(1)}s`,
    );
  }, 240_000);
});

const COUNT_SQL = `
  select (select count(*)::int from events where tenant_id = $1) as events,
         (select count(distinct id)::int from events where tenant_id = $1) as "distinctEvents",
         (select count(*)::int from deliveries where tenant_id = $1) as deliveries,
         (select count(*)::int from (select distinct event_id, endpoint_id from deliveries where tenant_id = $1) x) as "distinctPairs",
         (select count(*)::int from deliveries where tenant_id = $1 and status <> 'succeeded') as "notSucceeded",
         (select count(*)::int from attempts where tenant_id = $1 and error_code = 'timeout') as "timeoutAttempts"`;

/** Row counts straight from the database (PostgreSQL, or the PGlite directory once its process has exited). */
async function countRows(d: TestDatabase, tenantId: string): Promise<Record<string, number>> {
  if (d.url) {
    const c = new pg.Client({ connectionString: d.url });
    await c.connect();
    try {
      return (await c.query(COUNT_SQL, [tenantId])).rows[0];
    } finally {
      await c.end();
    }
  }
  const lite = await PgliteDb.open(d.dataDir!);
  try {
    return (await lite.query<Record<string, number>>(COUNT_SQL, [tenantId])).rows[0]!;
  } finally {
    await lite.close();
  }
}

/** Deliveries that did not succeed, with their attempts (diagnostics for a failed run). */
async function failures(d: TestDatabase, tenantId: string): Promise<unknown[]> {
  const q = `select d.id, d.status, d.attempts, d.last_status, d.last_error,
                    (select json_agg(json_build_object('n', a.attempt_number, 'status', a.response_status, 'error', a.error_code, 'ms', a.duration_ms) order by a.started_at)
                       from attempts a where a.delivery_id = d.id) as log
               from deliveries d where d.tenant_id = $1 and d.status <> 'succeeded' limit 10`;
  if (d.url) {
    const c = new pg.Client({ connectionString: d.url });
    await c.connect();
    try {
      return (await c.query(q, [tenantId])).rows;
    } finally {
      await c.end();
    }
  }
  const lite = await PgliteDb.open(d.dataDir!);
  try {
    return (await lite.query(q, [tenantId])).rows;
  } finally {
    await lite.close();
  }
}
