import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ADMIN_TOKEN, Api, SECRET_KEY } from '../helpers/herald.js';
import { PrivatePostgres, privatePostgresAvailable } from '../helpers/private-postgres.js';
import { HeraldProcess, freePort, killAll, sleep, waitUntil } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';

/*
 * Faults, issue 3: restart PostgreSQL under load. A PRIVATE server
 * (test/helpers/private-postgres.ts: its own initdb, port and socket
 * directory) is stopped for ~5 s, once with `pg_ctl -m fast` and once with
 * `-m immediate` (a crash: WAL recovery on start), while a client keeps
 * publishing. The machine's shared PostgreSQL is never touched.
 *
 * While it is down: the API answers 503 (never a 500, never a crash), both
 * processes stay up. Once it is back: the API accepts again, the worker's
 * claims resume (jittered backoff), its LISTEN connection comes back — the
 * poll interval is 10 s, so a publish delivered within ~1 s can only have
 * been woken by NOTIFY — nothing accepted is lost and the queue drains
 * (herald_queue_oldest_due_age_seconds back to 0).
 */
const AVAILABLE = privatePostgresAvailable();
const OUTAGE_MS = 5_000;
const POLL_MS = 10_000;
const PROBE_LIMIT_MS = 2_000; // a NOTIFY-woken delivery; polling alone would take up to 10 s

if (!AVAILABLE) console.log('[chaos:postgres-restart] SKIPPED: PostgreSQL binaries not found (/usr/lib/postgresql/<n>/bin or HERALD_PG_BIN)');

let server: PrivatePostgres | undefined;
let receiver: Receiver;
const procs: HeraldProcess[] = [];



async function metric(base: string, name: string): Promise<number | null> {
  const r = await fetch(`${base}/metrics`).catch(() => null);
  if (!r || r.status !== 200) return null;
  const line = (await r.text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : null;
}

beforeAll(async () => {
  receiver = await new Receiver().listen();
  if (AVAILABLE) server = await PrivatePostgres.create();
}, 180_000);

afterAll(async () => {
  await killAll(procs);
  await receiver?.close();
  await server?.destroy();
});

describe.skipIf(!AVAILABLE)('chaos: PostgreSQL restarts under load (private server)', () => {
  it('answers 503 while the database is down, reconnects, resumes LISTEN, loses nothing and drains', async () => {
    const t0 = Date.now();
    const url = await server!.createDatabase('herald');
    const port = await freePort();
    const env = {
      HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
      HERALD_SECRET_KEYS: SECRET_KEY,
      HERALD_DEV: '1',
      DATABASE_URL: url,
      PORT: String(port),
      HERALD_POLL_INTERVAL_MS: String(POLL_MS),
      HERALD_MAX_TIMEOUT_MS: '5000',
      HERALD_DEFAULT_TIMEOUT_MS: '5000',
      HERALD_LEASE_SECONDS: '10',
      HERALD_LOG_LEVEL: 'info',
    };
    const apiProc = await HeraldProcess.start('api', env, 60_000);
    procs.push(apiProc);
    const workerProc = await HeraldProcess.start('worker', env, 60_000);
    procs.push(workerProc);
    const base = `http://127.0.0.1:${port}`;
    const client = new Api(base, ADMIN_TOKEN);
    const t = await client.tenant('PgRestart');
    await client.endpoint(t, { url: receiver.url('/load'), retry: { schedule: [0.5, 1, 2, 4, 8], jitter: 0.1 }, eventTypes: ['load.*'] });
    await client.endpoint(t, { url: receiver.url('/probe'), eventTypes: ['probe.*'] });

    // A publish is delivered through NOTIFY: the worker sleeps up to POLL_MS otherwise.
    let probes = 0;
    const probe = async (): Promise<number> => {
      await waitUntil(async () => (await metric(base, 'herald_queue_due_deliveries')) === 0, 60_000, 'an empty queue before the probe');
      await sleep(300); // the worker is now in its 10 s idle sleep
      const id = `evt_probe_${probes++}`;
      const sent = Date.now();
      const r = await client.publish(t, 'probe.ping', { id }, id);
      expect(r.status).toBe(202);
      await receiver.waitFor(() => receiver.at('/probe').some((x) => x.headers['webhook-id'] === id), POLL_MS * 2, `probe ${id}`);
      return receiver.at('/probe').find((x) => x.headers['webhook-id'] === id)!.at - sent;
    };
    const before = await probe();
    expect(before).toBeLessThan(PROBE_LIMIT_MS);

    // the load: 4 clients, client-supplied ids, every failure retried with the same id
    const accepted = new Set<string>();
    const statuses = new Map<number, number>();
    let stop = false;
    let n = 0;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stop) {
          const id = `evt_load_${n++}`;
          const until = Date.now() + 120_000;
          for (;;) {
            const r = await client.publish(t, 'load.tick', { id }, id).catch(() => ({ status: 0 }));
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            if (r.status === 202) {
              accepted.add(id);
              break;
            }
            if (Date.now() > until) throw new Error(`${id} never accepted (last ${r.status})`);
            await sleep(100);
          }
          await sleep(20);
        }
      }),
    );
    onTestFinished(() => void (stop = true));
    const progress = setInterval(
      () => console.log(`[chaos:postgres-restart] progress: accepted ${accepted.size}, received ${receiver.received.length}, statuses ${JSON.stringify(Object.fromEntries(statuses))}`),
      15_000,
    );
    onTestFinished(() => clearInterval(progress));

    const cycles: Record<string, unknown>[] = [];
    for (const mode of ['fast', 'immediate'] as const) {
      await sleep(3_000); // load before the outage
      const acceptedBefore = accepted.size;
      const s503 = statuses.get(503) ?? 0;
      await server!.stop(mode);
      const down = Date.now();
      // while it is down: 503 (and Retry-After), a live process, no crash
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      const pub = await client.publish(t, 'load.tick', { during: mode });
      expect(pub.status).toBe(503);
      expect(pub.headers.get('retry-after')).toBe('1');
      expect(pub.body.error.code).toBe('unavailable');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      await sleep(Math.max(0, OUTAGE_MS - (Date.now() - down)));
      expect(apiProc.running).toBe(true);
      expect(workerProc.running).toBe(true);
      await server!.start();
      const up = Date.now();
      const apiBack = await waitUntil(async () => (await fetch(`${base}/readyz`)).status === 200, 60_000, 'the API to reach the database again');
      // the worker's LISTEN connection is back (seen from the server's side)
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const listenBack = await waitUntil(
        async () => (await c.query(`select count(*)::int as n from pg_stat_activity where query ilike 'listen %' and datname = 'herald'`)).rows[0].n >= 1,
        60_000,
        'the worker to LISTEN again',
      ).finally(() => c.end());
      await sleep(2_000); // load after the outage
      const after = await probe();
      cycles.push({
        mode,
        outageMs: up - down,
        '503s': (statuses.get(503) ?? 0) - s503,
        apiBackMs: apiBack,
        listenBackMs: listenBack,
        probeMs: after,
        acceptedDuring: accepted.size - acceptedBefore,
      });
      expect(after).toBeLessThan(PROBE_LIMIT_MS);
    }
    stop = true;
    await load;

    // nothing accepted is lost, and the queue drains
    const lost = () => [...accepted].filter((id) => !receiver.at('/load').some((x) => x.headers['webhook-id'] === id));
    await waitUntil(() => new Set(receiver.at('/load').map((x) => x.headers['webhook-id'])).size >= accepted.size, 90_000, 'every accepted event');
    expect(lost()).toEqual([]);
    await waitUntil(async () => (await metric(base, 'herald_queue_oldest_due_age_seconds')) === 0, 60_000, 'oldest due age back to 0');
    expect(await metric(base, 'herald_queue_due_deliveries')).toBe(0);
    // Outcomes commit asynchronously, and a batch whose write met the outage is retried with backoff
    // (a send's slot is freed before its outcome is written): the record of the last deliveries may
    // trail their arrival by seconds. Draining means it catches up, within the lease and the retries.
    const pendingNow = async () => (await client.get(`/v1/tenants/${t}/deliveries?status=pending&limit=1`)).body.data as unknown[];
    await waitUntil(async () => (await pendingNow()).length === 0, 40_000, 'no delivery left pending');
    expect(await pendingNow()).toEqual([]);
    // only 503s (and 202s) were answered: never a 500
    expect([...statuses.keys()].filter((s) => s !== 202 && s !== 503 && s !== 0)).toEqual([]);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    // the worker backed off and reconnected, as its log says
    expect(workerProc.output).toMatch(/claim failed/);
    expect(workerProc.output).toMatch(/listen connection restored/);
    expect(apiProc.output).not.toMatch(/unhandled error/);

    const received = receiver.at('/load').length;
    const distinct = new Set(receiver.at('/load').map((x) => x.headers['webhook-id'])).size;
    console.log(
      `[chaos:postgres-restart] accepted ${accepted.size}; delivered ${distinct}; lost 0; duplicates ${received - distinct}; ` +
        `answers ${JSON.stringify(Object.fromEntries(statuses))} (0 = connection error); probe before ${before} ms; ` +
        `cycles ${JSON.stringify(cycles)}; ${((Date.now() - t0) / 1000).toFixed(1)}s`,
    );

    apiProc.kill('SIGTERM');
    workerProc.kill('SIGTERM');
    expect(await Promise.race([apiProc.wait(), sleep(20_000).then(() => 'hung')])).toBe(0);
    expect(await Promise.race([workerProc.wait(), sleep(20_000).then(() => 'hung')])).toBe(0);
  }, 240_000);
});
