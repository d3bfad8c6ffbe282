import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { metric } from './helpers/metrics.js';
import { sleep, waitUntil } from './helpers/process.js';
import { Receiver } from './helpers/receiver.js';

/*
 * A publish in `herald serve` hands its deliveries to the worker of the
 * same process. Outcomes waiting for their write bound what the worker
 * takes: a claim waits once they are as many as its slots, a hand-off only
 * once they are four times that (a refused hand-off costs a claim later).
 * The outcome writes are held here by a lock another connection takes on
 * the attempts table, so PostgreSQL only (the embedded database has one
 * connection).
 */
const SLOTS = 4;
let herald: TestHerald;
let receiver: Receiver;

describe.runIf(process.env.DATABASE_URL)('hand-offs while outcomes wait for their write', () => {
  beforeAll(async () => {
    herald = await startHerald({ workerConcurrency: SLOTS });
    receiver = await new Receiver().listen();
  });
  afterAll(async () => {
    await herald?.stop();
    await receiver?.close();
  });

  it('takes hand-offs until four times its slots of outcomes wait, then leaves the rest to claims', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/ok'), eventTypes: ['w.*'] });
    const worker = herald.running.worker!;
    const blocker = new pg.Client({ connectionString: herald.database.url });
    await blocker.connect();
    const taken = async (via: string) => metric(await (await fetch(`${herald.url}/metrics`)).text(), 'herald_deliveries_taken_total', `via="${via}"`);
    const publish = async (n: number) => {
      for (let i = 0; i < n; i++) expect((await herald.api.publish(t, 'w.x', { i })).status).toBe(202);
    };
    try {
      await blocker.query('begin');
      await blocker.query('lock table attempts in share mode');
      // each is sent (the receiver has it) and its outcome waits for the lock; past
      // SLOTS outcomes waiting no claim runs, so whatever arrives was handed off
      await publish(4 * SLOTS);
      await receiver.waitForCount('/ok', 4 * SLOTS);
      expect(await taken('handoff')).toBe(4 * SLOTS);
      expect(await taken('claim')).toBe(0);
      // four times the slots wait (once the last answers are counted): no more hand-offs
      await waitUntil(() => worker.handoffRoom() === 0, 2_000, 'no room for a hand-off');
      expect(worker.handoffRoom()).toBe(0);
      await publish(2);
      await sleep(500);
      expect(receiver.at('/ok')).toHaveLength(4 * SLOTS);
      // the writes go through; the two waiting in the queue are claimed
      await blocker.query('rollback');
      await receiver.waitForCount('/ok', 4 * SLOTS + 2);
      expect(await taken('claim')).toBe(2);
      const recorded = async () =>
        Number((await herald.running.db.query<{ n: number }>('select count(*)::int as n from attempts where tenant_id = $1', [t])).rows[0]!.n);
      await waitUntil(async () => (await recorded()) >= 4 * SLOTS + 2, 5_000, 'every attempt recorded');
      expect(await recorded()).toBe(4 * SLOTS + 2);
    } finally {
      await blocker.query('rollback').catch(() => undefined);
      await blocker.end();
    }
  });
});
