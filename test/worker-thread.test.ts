import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids.js';
import { eventBatch, publishAndHandOff } from '../src/store/events.js';
import { startHerald, type TestHerald } from './helpers/herald.js';
import { metric } from './helpers/metrics.js';
import { waitUntil } from './helpers/process.js';
import { Receiver } from './helpers/receiver.js';

/*
 * `herald serve` on PostgreSQL runs its worker in a worker thread
 * (delivery/threaded-worker.ts): publishes hand their deliveries to it by
 * message, /metrics adds up both threads, and stopping lets in-flight
 * deliveries finish. The embedded database keeps one thread.
 */
const onPostgres = !!process.env.DATABASE_URL;

async function expectWorkerOnApiThread(overrides: { workerThread: boolean }): Promise<void> {
  const own = await startHerald(overrides);
  try {
    expect(own.running.worker).not.toBeNull();
    expect(own.running.workerThread).toBeNull();
  } finally {
    await own.stop();
  }
}

describe.skipIf(!onPostgres)('the worker in a thread of its own (serve on PostgreSQL)', () => {
  let herald: TestHerald;
  let receiver: Receiver;
  let slow = 0;

  beforeAll(async () => {
    herald = await startHerald({ workerThread: true });
    receiver = await new Receiver().listen();
    receiver.respond = async (r, res) => {
      if (r.path === '/slow') await new Promise((done) => setTimeout(done, slow));
      res.writeHead(200).end();
    };
  });
  afterAll(async () => {
    await herald?.stop();
    await receiver?.close();
  });

  it('runs the worker in a thread and delivers what is published, handed over by message', async () => {
    expect(herald.running.worker).toBeNull();
    expect(herald.running.workerThread).not.toBeNull();
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/a'), eventTypes: ['t.*'] });
    await herald.api.endpoint(t, { url: receiver.url('/b'), eventTypes: ['t.*'] });
    for (let i = 0; i < 20; i++) expect((await herald.api.publish(t, 't.x', { i })).status).toBe(202);
    await receiver.waitForCount('/a', 20);
    await receiver.waitForCount('/b', 20);
    // the worker's counters reach /metrics through the API's thread, and a publish handed its deliveries over
    const text = String((await herald.api.get('/metrics')).body);
    expect(metric(text, 'herald_deliveries_taken_total', 'via="handoff"')).toBeGreaterThan(0);
    expect(metric(text, 'herald_delivery_attempts_total', 'outcome="success"')).toBeGreaterThanOrEqual(40);
    expect(metric(text, 'herald_events_published_total')).toBeGreaterThanOrEqual(20);
    // process-wide metrics once, from the API's thread (not summed over threads)
    expect(text.match(/^herald_process_process_start_time_seconds /gm)).toHaveLength(1);
  });

  it('leases the next publish at once after a hand-off, before the thread has reported on it', async () => {
    const w = herald.running.workerThread!;
    // wait for a report of room (a lease taken and settled with nothing handed over)
    await waitUntil(() => {
      const l = w.reserve();
      if (l) w.noneHanded(l);
      return l !== null;
    }, 5_000, 'the thread reports room');
    const first = w.reserve()!;
    expect(first).not.toBeNull();
    // a publish hands 10 deliveries over (to an endpoint that does not exist: the thread skips them) ...
    const handed = Array.from({ length: 10 }, (_, i) => ({
      id: `dlv_lease${i}`, eventId: 'evt_lease', endpointId: 'ep_gone', endpointVersion: '0', rateLimitPerSecond: null, endpointUnhealthy: false,
    }));
    w.accept(first, { id: 'no_tenant', envelope: null, events: new Map() }, { deliveries: handed, wantsDelivered: false, wantsFailed: false });
    // ... and the next publish, in the same turn (no report can have come), is leased the room less
    // those 10: with one lease per report it got none, and its deliveries waited for a claim
    const second = w.reserve();
    expect(second).not.toBeNull();
    expect(second!.limit).toBe(first.limit - 10);
    w.noneHanded(second!);
    // once the thread has taken the hand-off, its report gives the room back whole
    await waitUntil(() => {
      const l = w.reserve();
      if (l) w.noneHanded(l);
      return l !== null && l.limit >= first.limit;
    }, 5_000, 'the room reported again');
  });

  it('releases a hand-off whose publish failed after the commit, so it goes out without waiting for the lease', async () => {
    const t = await herald.api.tenant();
    await herald.api.endpoint(t, { url: receiver.url('/c'), eventTypes: ['c.*'] });
    const thread = herald.running.workerThread!;
    let lease = thread.reserve();
    for (let i = 0; !lease && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20)); // the room is reported after each hand-off
      lease = thread.reserve();
    }
    expect(lease).not.toBeNull();
    expect(thread.reserve()).toBeNull(); // one lease out at a time
    const e = { id: newId('evt'), type: 'c.x', payloadJson: '{"n":1}', body: null, createdAt: new Date() };
    const { handedOff } = await publishAndHandOff(herald.running.db, t, eventBatch([e]), lease!);
    expect(handedOff?.deliveries).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.at('/c')).toHaveLength(0); // leased, and nobody holds it
    thread.abandon(lease!);
    const t0 = Date.now();
    await receiver.waitForCount('/c', 1, 5_000);
    expect(Date.now() - t0).toBeLessThan(5_000); // not after the 60 s lease
  });

  it('finishes in-flight deliveries and records them when stopped', async () => {
    const own = await startHerald({ workerThread: true, shutdownTimeoutMs: 5_000 });
    try {
      const t = await own.api.tenant();
      await own.api.endpoint(t, { url: receiver.url('/slow'), eventTypes: ['s.*'] });
      slow = 700;
      for (let i = 0; i < 5; i++) await own.api.publish(t, 's.x', { i });
      await receiver.waitFor(() => receiver.at('/slow').length >= 1, 5_000, 'a slow request under way');
      await own.running.stop();
      const db = await import('pg');
      const c = new db.default.Client({ connectionString: own.database.url });
      await c.connect();
      try {
        const pending = await c.query<{ n: number }>(`select count(*)::int as n from deliveries where status = 'pending'`);
        const done = await c.query<{ n: number }>(`select count(*)::int as n from deliveries where status = 'succeeded'`);
        // every request under way finished and is recorded as delivered; nothing is lost (the rest still waits in the queue)
        expect(done.rows[0]!.n).toBe(receiver.at('/slow').length);
        expect(done.rows[0]!.n + pending.rows[0]!.n).toBe(5);
        const queued = await c.query<{ n: number }>(`select count(*)::int as n from queue`);
        expect(queued.rows[0]!.n).toBe(pending.rows[0]!.n);
      } finally {
        await c.end();
      }
    } finally {
      slow = 0;
      await own.stop();
    }
  });

  it('keeps the worker on the API thread when configured so', () => expectWorkerOnApiThread({ workerThread: false }));
});

describe.skipIf(onPostgres)('the embedded database', () => {
  it('keeps the worker on the API thread (PGlite belongs to one thread)', () => expectWorkerOnApiThread({ workerThread: true }));
});
