/**
 * Backlog: a receiver outage left N deliveries due (default 1,000,000, over
 * 100 endpoints); the receiver is back and one `herald worker` drains them.
 *
 * Set-up (not measured): the events are published through the batch route
 * while no worker runs; then every delivery is marked as having failed once
 * and being due now (attempts = 1, next_attempt_at = now()), which is the
 * state an outage leaves, so the drain is of retries; then
 * VACUUM ANALYZE, as autovacuum would after such an update on a server that
 * runs it. Measured: the drain rate at the receiver (overall, and per
 * tenth of the backlog), the time PostgreSQL takes to pick a claim batch as
 * the backlog shrinks, and the worker's peak RSS.
 */
import { processRssBytes } from './cpu.js';
import { BenchDbProbe } from './db.js';
import type { Receiver } from './receiver.js';
import { openStack } from './stack.js';
import { fmtInt, median, nowMs, payloadOfSize, progress, sleep } from './util.js';

export interface BacklogResult {
  deliveries: number;
  endpoints: number;
  setupSeconds: number;
  drainSeconds: number;
  deliveriesPerSec: number;
  /** Rate over each tenth of the backlog, first to last. */
  decileRates: number[];
  /** Claim pick time (ms), median of the samples taken while more than 90 % / 40–60 % / less than 10 % was left. */
  pickMsFull: number;
  pickMsHalf: number;
  pickMsEnd: number;
  duplicates: number;
  peakRssMb: number | null;
}

const BATCH = 1000;

export async function runBacklog(o: { run: number; receiver: Receiver; deliveries: number; endpoints: number; timeoutMs: number }): Promise<BacklogResult> {
  const stack = await openStack();
  let probe: BenchDbProbe | null = null;
  try {
    const setupStart = nowMs();
    const api = await stack.start('api');
    probe = await BenchDbProbe.open(stack.db.url);
    const client = stack.client(api, 4);
    const tenant = `bench_b${o.run}`;
    await client.createTenant(tenant, 'bench backlog');
    for (let i = 0; i < o.endpoints; i++) await client.createEndpoint(tenant, `${o.receiver.url}/backlog/${i}`);
    const events = Math.ceil(o.deliveries / o.endpoints);
    const pad = JSON.stringify(payloadOfSize(1024, { seq: 0 }));
    let next = 0;
    let lastLog = nowMs();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < events) {
          const from = next;
          const to = Math.min(events, from + BATCH);
          next = to;
          const parts: string[] = [];
          for (let i = from; i < to; i++) parts.push(`{"id":"evt_b${o.run}_${i}","type":"bench.backlog","payload":${pad}}`);
          await client.publishBatchRaw(tenant, `{"events":[${parts.join(',')}]}`);
          if (nowMs() - lastLog > 5000) {
            lastLog = nowMs();
            progress(`  run ${o.run} backlog: published ${fmtInt(to * o.endpoints)}/${fmtInt(events * o.endpoints)} deliveries`);
          }
        }
      }),
    );
    const total = events * o.endpoints;
    // the batch route leaves its deliveries to the workers (migration 0033): written out here, as the first would
    const written = await probe.writeOutDeferred();
    if (written !== total) throw new Error(`backlog: wrote out ${written} deferred deliveries, expected ${total}`);
    progress(`  run ${o.run} backlog: marking ${fmtInt(total)} deliveries as failed once and due now, then VACUUM ANALYZE`);
    // the queue row is what a claim reads (its attempts decide a retry's share: see the worker's throttle), the
    // record what the API shows
    const queued = await probe.exec(`update queue set attempts = 1, due_at = now()`);
    const marked = await probe.exec(`update deliveries set attempts = 1, next_attempt_at = now() where status = 'pending'`);
    if (queued !== total || marked !== total) throw new Error(`backlog: marked ${queued} queue rows and ${marked} deliveries, expected ${total}`);
    await probe.exec('vacuum analyze queue, deliveries');
    const setupSeconds = (nowMs() - setupStart) / 1000;
    await o.receiver.reset(true);

    // --- drain -----------------------------------------------------------------
    const picks: { left: number; ms: number }[] = [{ left: 1, ms: await probe.pickMs() }];
    const worker = await stack.start('worker');
    const deadline = nowMs() + o.timeoutMs;
    let peakRss = 0;
    let lastPick = nowMs();
    for (;;) {
      const s = await o.receiver.stats();
      peakRss = Math.max(peakRss, processRssBytes(worker.pid) ?? 0);
      if (s.distinct >= total) break;
      if (worker.child.exitCode !== null) throw new Error(`worker exited during the backlog drain\n${worker.tail()}`);
      if (nowMs() > deadline) throw new Error(`backlog run ${o.run}: only ${s.distinct}/${total} delivered within ${o.timeoutMs / 1000} s`);
      if (nowMs() - lastPick > 3000) {
        lastPick = nowMs();
        const left = 1 - s.distinct / total;
        picks.push({ left, ms: await probe.pickMs() });
        const secs = s.firstAt ? (s.lastAt - s.firstAt) / 1000 : 0;
        progress(
          `  run ${o.run} backlog: ${fmtInt(s.distinct)}/${fmtInt(total)} delivered` +
            (secs > 0 ? ` (${fmtInt(s.count / secs)}/s)` : '') +
            `, claim pick ${picks[picks.length - 1]?.ms.toFixed(2)} ms, worker RSS ${fmtInt(peakRss / 1024 / 1024)} MB peak`,
        );
      }
      await sleep(100);
    }
    picks.push({ left: 0, ms: await probe.pickMs() });
    const arrivals = await o.receiver.arrivals();
    const final = await o.receiver.stats();
    const times = arrivals.times;
    const first = times[0] ?? 0;
    const last = times[times.length - 1] ?? 0;
    const decileRates: number[] = [];
    for (let d = 0; d < 10; d++) {
      const a = times[Math.floor((d * times.length) / 10)] ?? 0;
      const b = times[Math.min(times.length - 1, Math.floor(((d + 1) * times.length) / 10) - 1)] ?? 0;
      decileRates.push(b > a ? times.length / 10 / ((b - a) / 1000) : Number.NaN);
    }
    const within = (lo: number, hi: number) => median(picks.filter((p) => p.left >= lo && p.left <= hi).map((p) => p.ms));
    return {
      deliveries: total,
      endpoints: o.endpoints,
      setupSeconds,
      drainSeconds: (last - first) / 1000,
      deliveriesPerSec: (times.length - 1) / ((last - first) / 1000),
      decileRates,
      pickMsFull: within(0.9, 1),
      pickMsHalf: within(0.4, 0.6),
      pickMsEnd: within(0, 0.1),
      duplicates: final.duplicates,
      peakRssMb: peakRss > 0 ? peakRss / 1024 / 1024 : null,
    };
  } catch (err) {
    throw stack.explain(err);
  } finally {
    await probe?.close();
    await stack.close();
  }
}
