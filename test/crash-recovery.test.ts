import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { ADMIN_TOKEN, Api, SECRET_KEY } from './helpers/herald.js';
import { HeraldProcess, freePort } from './helpers/process.js';
import { Receiver } from './helpers/receiver.js';

/*
 * SIGKILL a process that is delivering, twice, and restart it: every
 * accepted event still reaches every endpoint, at least once. On
 * PostgreSQL the API and the worker are separate processes and only the
 * worker is killed; on the embedded database (one process) the whole
 * server is killed and restarted on the same data directory.
 */
const EVENTS = 600;
const ENDPOINTS = 2;

let db: TestDatabase;
let receiver: Receiver;
const procs: HeraldProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await new Receiver().listen();
  // a receiver that takes a little time, so deliveries are in flight when the kill lands
  receiver.respond = (_r, res) => {
    setTimeout(() => res.writeHead(200).end('ok'), Math.floor(Math.random() * 15));
  };
});
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await receiver?.close();
  await db?.drop();
});

function envFor(port: number): Record<string, string> {
  return {
    HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
    HERALD_SECRET_KEYS: SECRET_KEY,
    HERALD_DEV: '1',
    PORT: String(port),
    HERALD_MAX_TIMEOUT_MS: '2000',
    HERALD_DEFAULT_TIMEOUT_MS: '2000',
    HERALD_LEASE_SECONDS: '7',
    HERALD_POLL_INTERVAL_MS: '500',
    HERALD_WORKER_CONCURRENCY: '64',
    ...(db.url ? { DATABASE_URL: db.url } : { HERALD_DATA_DIR: db.dataDir! }),
  };
}

async function start(cmd: string, port: number): Promise<HeraldProcess> {
  const p = await HeraldProcess.start(cmd, envFor(port));
  procs.push(p);
  return p;
}

const distinct = () => new Set(receiver.received.map((r) => `${r.path} ${r.headers['webhook-id']}`)).size;

describe('crash recovery', () => {
  it('delivers every accepted event after the delivering process is SIGKILLed twice', async () => {
    const port = await freePort();
    const split = db.kind === 'pg';
    let server = await start(split ? 'api' : 'serve', port);
    let worker = split ? await start('worker', port) : server;
    const api = new Api(`http://127.0.0.1:${port}`, ADMIN_TOKEN);
    const t = await api.tenant('Crash');
    for (let i = 0; i < ENDPOINTS; i++) await api.endpoint(t, { url: receiver.url(`/crash-${i}`), retry: { schedule: [0.2, 0.5, 1, 1, 2, 5, 5], jitter: 0 } });

    const accepted: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < EVENTS) {
          const i = next++;
          const r = await api.publish(t, 'order.created', { i, pad: 'x'.repeat(200) }, `evt_crash_${i}`);
          expect(r.status).toBe(202);
          accepted.push(r.body.id);
        }
      }),
    );
    expect(accepted).toHaveLength(EVENTS);

    for (const threshold of [0.25, 0.6]) {
      await receiver.waitFor(() => receiver.received.length >= EVENTS * ENDPOINTS * threshold, 60_000, `${threshold} of deliveries`);
      worker.kill('SIGKILL');
      await worker.wait();
      if (split) worker = await start('worker', port);
      else {
        server = await start('serve', port);
        worker = server;
      }
    }

    await receiver.waitFor(() => distinct() >= EVENTS * ENDPOINTS, 90_000, 'every delivery');
    for (let i = 0; i < ENDPOINTS; i++) {
      const ids = new Set(receiver.at(`/crash-${i}`).map((r) => r.headers['webhook-id']));
      expect(ids.size).toBe(EVENTS);
      for (const id of accepted) expect(ids.has(id)).toBe(true);
    }
    const duplicates = receiver.received.length - distinct();
    console.log(`[crash-recovery:${db.kind}] accepted ${EVENTS} events x ${ENDPOINTS} endpoints; received ${receiver.received.length}; duplicates ${duplicates}; lost 0`);

    // and the database agrees: nothing left pending
    const until = Date.now() + 20_000;
    for (;;) {
      const pending = await api.get(`/v1/tenants/${t}/deliveries?status=pending&limit=1`);
      if (pending.body.data.length === 0) break;
      if (Date.now() > until) throw new Error('deliveries still pending');
      await new Promise((r) => setTimeout(r, 200));
    }
    server.kill('SIGTERM');
    if (worker !== server) worker.kill('SIGTERM');
    expect(await server.wait()).toBe(0);
  }, 180_000);

  it('drains in-flight sends on SIGTERM and exits cleanly', async () => {
    const port = await freePort();
    const server = await start('serve', port);
    const api = new Api(`http://127.0.0.1:${port}`, ADMIN_TOKEN);
    const t = await api.tenant('Drain');
    const slow = await new Receiver().listen();
    slow.respond = (_r, res) => void setTimeout(() => res.writeHead(200).end('ok'), 400);
    try {
      await api.endpoint(t, { url: slow.url('/slow') });
      for (let i = 0; i < 5; i++) await api.publish(t, 'slow.thing', { i });
      await slow.waitFor(() => slow.received.length >= 5, 10_000);
      const t0 = Date.now();
      server.kill('SIGTERM');
      expect(await server.wait()).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5_000);
      // the answers the receiver gave during the drain were recorded
      const restarted = await start('serve', port);
      const done = await api.get(`/v1/tenants/${t}/deliveries?status=succeeded`);
      expect(done.body.data).toHaveLength(5);
      restarted.kill('SIGTERM');
      await restarted.wait();
    } finally {
      await slow.close();
    }
  }, 60_000);
});
