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

/*
 * The hold (deliveries leased to the worker that wait in memory for a
 * slot) is bounded by the bodies it keeps alive as well as by its count:
 * a worker that takes hand-offs of big events while its slot is busy
 * stops at half the byte bound, far below the count, and leaves the rest
 * to the queue. Both engines.
 */
describe('the hold of big events', () => {
  let big: TestHerald;
  let slow: Receiver;
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));

  beforeAll(async () => {
    big = await startHerald({ workerConcurrency: 1, maxBodyBytes: 4 * 1024 * 1024 });
    slow = await new Receiver().listen();
    // every answer waits until the test opens the gate: the one slot stays taken
    slow.respond = async (_r, res) => {
      await gate;
      res.writeHead(200).end('ok');
    };
  });
  afterAll(async () => {
    open();
    await big?.stop();
    await slow?.close();
  });

  it('takes hand-offs until the held bodies weigh half its bound, then leaves the rest to claims', async () => {
    const t = await big.api.tenant();
    await big.api.endpoint(t, { url: slow.url('/big'), eventTypes: ['b.*'] });
    const taken = async (via: string) => metric(await (await fetch(`${big.url}/metrics`)).text(), 'herald_deliveries_taken_total', `via="${via}"`);
    const blob = 'x'.repeat(1_500_000);
    expect((await big.api.publish(t, 'b.small', { i: 0 })).status).toBe(202);
    await slow.waitForCount('/big', 1);
    // eight events of 1.5 MB while every answer waits: hand-offs stop once the hold has
    // 4 MiB of bodies (three events), not at its count of 1,024 deliveries; one more may
    // be taken when the first send stalls and lets a held one out (two sends open at most),
    // and the rest wait in the queue
    for (let i = 1; i <= 8; i++) expect((await big.api.publish(t, 'b.big', { i, blob })).status).toBe(202);
    await sleep(300);
    const handed = await taken('handoff');
    expect(handed).toBeGreaterThanOrEqual(1 + 3);
    expect(handed).toBeLessThanOrEqual(1 + 4);
    expect(await taken('claim')).toBe(0);
    open();
    await slow.waitForCount('/big', 9, 20_000);
    expect(await taken('claim')).toBe(9 - handed);
    const seen = slow.at('/big').map((r) => (JSON.parse(r.body) as { i: number }).i).sort((a, b) => a - b);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  }, 30_000);
});
