import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ADMIN_TOKEN, Api, SECRET_KEY } from '../helpers/herald.js';
import { HeraldProcess, freePort, killAll, sleep, waitUntil } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';

/*
 * Faults, issue 3: SIGTERM a worker with sends in flight to a slow
 * receiver. It claims nothing new, lets in-flight sends finish for up to
 * HERALD_SHUTDOWN_TIMEOUT_MS, aborts the rest and releases them (due now,
 * no lease), records every outcome and exits 0. The released deliveries
 * are then delivered by another worker at once — well before the lease
 * would have expired — and the aborted attempt does not use up one of the
 * retry policy's attempts.
 *
 * PostgreSQL: `herald worker` is stopped while `herald api` keeps running;
 * then the same with one `herald serve` (its worker in a thread of its own).
 * PGlite: the single `herald serve` process is stopped and started again.
 */
const SHUTDOWN_MS = 2_000;
const LEASE_S = 30; // long on purpose: a delivery that was not released would wait this long
const EVENTS = 8; // each goes to a quick and a slow endpoint: 16 sends in flight at SIGTERM

const dbs: TestDatabase[] = [];
let receiver: Receiver;
const procs: HeraldProcess[] = [];
const shapes = process.env.DATABASE_URL ? (['split', 'serve'] as const) : (['serve'] as const);


beforeAll(async () => {
  receiver = await new Receiver().listen();
  // first request per (path, webhook-id): /quick answers in 500 ms (inside the drain window),
  // /slow in 20 s (outside it); any later request is answered at once
  receiver.respond = (r, res) => {
    const n = receiver.received.filter((x) => x.path === r.path && x.headers['webhook-id'] === r.headers['webhook-id']).length;
    const delay = n > 1 ? 0 : r.path === '/quick' ? 500 : 20_000;
    const timer = setTimeout(() => !res.destroyed && res.writeHead(200).end('ok'), delay);
    res.on('close', () => clearTimeout(timer));
  };
}, 120_000);

afterAll(async () => {
  await killAll(procs);
  await receiver?.close();
  for (const db of dbs) await db.drop();
});

describe.each(shapes)(`chaos: graceful shutdown with sends in flight (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, %s)`, (shape) => {
  it('drains within the shutdown timeout, releases the rest, exits 0; another worker delivers them at once', async () => {
    const split = shape === 'split';
    const db = await createTestDatabase();
    dbs.push(db);
    receiver.received.length = 0;
    const port = await freePort();
    const env = {
      HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
      HERALD_SECRET_KEYS: SECRET_KEY,
      HERALD_DEV: '1',
      PORT: String(port),
      HERALD_MAX_TIMEOUT_MS: '15000',
      HERALD_DEFAULT_TIMEOUT_MS: '15000',
      HERALD_LEASE_SECONDS: String(LEASE_S),
      HERALD_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_MS),
      HERALD_POLL_INTERVAL_MS: '1000',
      ...(db.url ? { DATABASE_URL: db.url } : { HERALD_DATA_DIR: db.dataDir! }),
    };
    const start = async (cmd: 'api' | 'worker' | 'serve') => {
      const p = await HeraldProcess.start(cmd, env, 60_000);
      procs.push(p);
      return p;
    };
    const api = split ? await start('api') : null;
    const first = split ? await start('worker') : await start('serve');
    const client = new Api(`http://127.0.0.1:${port}`, ADMIN_TOKEN);
    const t = await client.tenant('Drain');
    const quick = await client.endpoint(t, { url: receiver.url('/quick'), retry: { schedule: [1, 1], jitter: 0 } });
    const slow = await client.endpoint(t, { url: receiver.url('/slow'), retry: { schedule: [1, 1], jitter: 0 } });
    for (let i = 0; i < EVENTS; i++) expect((await client.publish(t, 'drain.me', { i })).status).toBe(202);
    await receiver.waitFor(() => receiver.received.length >= EVENTS * 2, 30_000, 'every send to be in flight');

    const t0 = Date.now();
    first.kill('SIGTERM');
    const code = await Promise.race([first.wait(), sleep(SHUTDOWN_MS + 20_000).then(() => 'hung')]);
    const exitMs = Date.now() - t0;
    expect(code).toBe(0);
    // drained for the whole window (the slow sends never finished), and not much longer
    expect(exitMs).toBeGreaterThanOrEqual(SHUTDOWN_MS - 100);
    expect(exitMs).toBeLessThan(SHUTDOWN_MS + 5_000);
    expect(receiver.received).toHaveLength(EVENTS * 2); // nothing new was claimed while draining

    const byEndpoint = async (endpointId: string) =>
      (await client.get(`/v1/tenants/${t}/deliveries?endpointId=${endpointId}&limit=100`)).body.data as any[];
    if (split) {
      // the API still runs: look before another worker exists
      const q = await byEndpoint(quick.id);
      const s = await byEndpoint(slow.id);
      expect(q.map((d) => d.status)).toEqual(Array(EVENTS).fill('succeeded')); // finished inside the window, recorded
      for (const d of s) {
        expect(d.status).toBe('pending');
        expect(d.attempts).toBe(0); // an aborted send is not the receiver's fault
        expect(d.nextAttemptAt).not.toBeNull(); // released: due now, not held under a lease
        expect(Date.parse(d.nextAttemptAt)).toBeLessThanOrEqual(Date.now());
      }
    }

    // another worker takes the released deliveries at once (the lease would have kept them for 30 s)
    const t1 = Date.now();
    const second = split ? await start('worker') : await start('serve');
    const redeliveredMs = await waitUntil(
      async () => (await byEndpoint(slow.id).catch(() => [])).filter((d) => d.status === 'succeeded').length === EVENTS,
      LEASE_S * 1000,
      'the released deliveries to be delivered',
    );
    const sinceRestart = Date.now() - t1;
    expect(sinceRestart).toBeLessThan(LEASE_S * 1000 / 2);
    for (const d of await byEndpoint(slow.id)) {
      const full = (await client.get(`/v1/tenants/${t}/deliveries/${d.id}`)).body;
      expect(full.attempts).toBe(1);
      expect(full.attemptLog.map((a: any) => a.error?.code ?? a.response?.status)).toEqual(['aborted', 200]);
    }
    for (const d of await byEndpoint(quick.id)) expect(d).toMatchObject({ status: 'succeeded', attempts: 1 });
    // the quick ones were sent once; the slow ones twice (aborted, then delivered)
    expect(receiver.at('/quick')).toHaveLength(EVENTS);
    expect(receiver.at('/slow')).toHaveLength(EVENTS * 2);

    console.log(
      `[chaos:graceful-shutdown:${db.kind}:${shape}] SIGTERM with ${EVENTS * 2} sends in flight: exit 0 after ${exitMs} ms ` +
        `(HERALD_SHUTDOWN_TIMEOUT_MS=${SHUTDOWN_MS}); ${EVENTS} finished and recorded during the drain, ${EVENTS} aborted and released; ` +
        `released ones delivered ${(sinceRestart / 1000).toFixed(1)} s after a new ${split ? 'worker' : 'serve'} was started ` +
        `(${(redeliveredMs / 1000).toFixed(1)} s after it was up; lease ${LEASE_S} s); lost 0`,
    );

    second.kill('SIGTERM');
    api?.kill('SIGTERM');
    expect(await Promise.race([second.wait(), sleep(20_000).then(() => 'hung')])).toBe(0);
    if (api) expect(await Promise.race([api.wait(), sleep(20_000).then(() => 'hung')])).toBe(0);
  }, 180_000);
});
