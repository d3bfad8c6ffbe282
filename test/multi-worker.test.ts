import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { ADMIN_TOKEN, Api, SECRET_KEY } from './helpers/herald.js';
import { HeraldProcess, freePort } from './helpers/process.js';
import { Receiver } from './helpers/receiver.js';

/*
 * Several `herald worker` processes over one PostgreSQL share the work:
 * with no crash, every delivery arrives exactly once. (PGlite is one
 * process by nature, so this runs on PostgreSQL only.)
 */
const onPostgres = Boolean(process.env.DATABASE_URL);
let db: TestDatabase;
let receiver: Receiver;
const procs: HeraldProcess[] = [];

beforeAll(async () => {
  if (!onPostgres) return;
  db = await createTestDatabase();
  receiver = await new Receiver().listen();
});
afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await receiver?.close();
  await db?.drop();
});

describe('several workers on one database', () => {
  it.skipIf(!onPostgres)('deliver each delivery exactly once between three worker processes', async () => {
    const port = await freePort();
    const env = { HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
    HERALD_SECRET_KEYS: SECRET_KEY, HERALD_DEV: '1', PORT: String(port), DATABASE_URL: db.url!, HERALD_CLAIM_BATCH_SIZE: '20' };
    procs.push(await HeraldProcess.start('api', env));
    const api = new Api(`http://127.0.0.1:${port}`, ADMIN_TOKEN);
    const t = await api.tenant('Many');
    for (let i = 0; i < 4; i++) await api.endpoint(t, { url: receiver.url(`/w-${i}`) });
    // publish the backlog first, then let three workers race for it
    let next = 0;
    const N = 500;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N) {
          const i = next++;
          expect((await api.publish(t, 'load.test', { i })).status).toBe(202);
        }
      }),
    );
    for (let w = 0; w < 3; w++) procs.push(await HeraldProcess.start('worker', env));
    await receiver.waitFor(() => receiver.received.length >= N * 4, 60_000, 'all deliveries');
    await new Promise((r) => setTimeout(r, 500));
    const keys = receiver.received.map((r) => `${r.path} ${r.headers['webhook-id']}`);
    expect(keys).toHaveLength(N * 4);
    expect(new Set(keys).size).toBe(N * 4);
  }, 120_000);
});
