/**
 * Scenario 1, sustained delivery: a backlog of N events × E endpoints is
 * published while no worker delivers, then one `herald worker` process drains
 * it. Throughput is what the receiver sees, first to last arrival; the run
 * also waits until every delivery is recorded as succeeded in PostgreSQL.
 *
 * The worker is warm when the drain starts, as the raw baseline's client is
 * (it measures after its own warm-up): started first, it delivers a warm-up
 * of WARM_UP_EVENTS events to a tenant of its own, and is frozen (SIGSTOP)
 * while the backlog is published and thawed (SIGCONT) to drain it. A cold
 * worker spends its first second or so compiling its hot paths and opening
 * its connections (measured: 2,000-3,000 deliveries/s in that second against
 * 8,000-10,000 after), which in a drain of three seconds was a quarter of
 * the measured time. That cold start is reported on its own (`coldStart`).
 */
import { mkdirSync } from 'node:fs';
import { ActivitySampler, type ActivitySummary } from './activity.js';
import { CpuSampler, processRssBytes, type CpuReport } from './cpu.js';
import { BenchDbProbe } from './db.js';
import type { Receiver } from './receiver.js';
import { openStack } from './stack.js';
import { nowMs, payloadOfSize, progress, sleep, fmtInt } from './util.js';

export interface SustainedOptions {
  run: number;
  receiver: Receiver;
  events: number;
  endpoints: number;
  publishers: number;
  /** Give up on the delivery phase after this long. */
  timeoutMs: number;
  /** Run the worker under --cpu-prof, writing the profile here. */
  cpuProfDir?: string;
  /**
   * 'noisy': endpoint 0 never answers (timeout 2 s), the others are healthy;
   * 'big': every receiver answers 200 with a 16 MB body. Default: all healthy, empty answers.
   */
  shape?: 'noisy' | 'big';
}

/** Events (× the endpoints) a worker delivers before the measured drain: about what the raw baseline warms up with. */
const WARM_UP_EVENTS = 30;

/** The worker's first deliveries, before the measured drain. */
export interface ColdStart {
  deliveries: number;
  /** Worker process spawned → its first delivery arrived. */
  firstArrivalMs: number;
  /** Worker process spawned → every warm-up delivery arrived. */
  allArrivedMs: number;
  /** The warm-up's arrivals/s, first to last arrival. */
  deliveriesPerSec: number;
}

export interface SustainedResult {
  shape: 'plain' | 'noisy' | 'big';
  events: number;
  endpoints: number;
  expected: number;
  publishSeconds: number;
  publishEventsPerSec: number;
  received: number;
  duplicates: number;
  /** First to last arrival at the receiver. */
  deliverySeconds: number;
  deliveriesPerSec: number;
  /** The worker thawed to every delivery recorded as succeeded. */
  recordedSeconds: number;
  recordedPerSec: number;
  succeeded: number;
  attempts: number;
  cpu: CpuReport;
  workerRssMb: number | null;
  /** Highest worker RSS seen during the drain (sampled every 100 ms). */
  workerPeakRssMb: number | null;
  /** Database work per delivery over the drain. */
  dbXactPerSec: number;
  deliveriesPerXact: number;
  walBytesPerDelivery: number;
  hotUpdatePct: number;
  profileFile: string | null;
  /** What PostgreSQL was running while the backlog was published, and during the drain. */
  publishActivity: ActivitySummary;
  drainActivity: ActivitySummary;
  coldStart: ColdStart;
}

/** Arrivals per second in each 250 ms after `from` (the last quarter is usually partial). */
function ratePerQuarterSecond(times: number[], from: number): number[] {
  const counts: number[] = [];
  for (const t of times) {
    const k = Math.max(0, Math.floor((t - from) / 250));
    while (counts.length <= k) counts.push(0);
    counts[k]!++;
  }
  return counts.map((n) => n * 4);
}

export async function runSustained(o: SustainedOptions): Promise<SustainedResult> {
  const stack = await openStack();
  let probe: BenchDbProbe | null = null;
  let actProbe: BenchDbProbe | null = null;
  /** The worker while it is frozen (SIGSTOP), so that a failure still lets it stop. */
  let frozen: number | null = null;
  try {
    const api = await stack.start('api');
    probe = await BenchDbProbe.open(stack.db.url);
    actProbe = await BenchDbProbe.open(stack.db.url);
    const client = stack.client(api, o.publishers);
    const tenant = `bench_s${o.run}`;
    await client.createTenant(tenant, 'bench sustained');
    for (let i = 0; i < o.endpoints; i++) {
      if (o.shape === 'noisy' && i === 0) await client.createEndpoint(tenant, `${o.receiver.url}/hang/${i}`, { timeoutMs: 2000 });
      else await client.createEndpoint(tenant, `${o.receiver.url}/${o.shape === 'big' ? 'big' : 'ep'}/${i}`);
    }

    // --- a warm worker (see the top of this file) ---------------------------
    const warmTenant = `bench_w${o.run}`;
    await client.createTenant(warmTenant, 'bench sustained warm-up');
    for (let i = 0; i < o.endpoints; i++) await client.createEndpoint(warmTenant, `${o.receiver.url}/ep/${i}`);
    await o.receiver.reset(true);
    let profileFile: string | null = null;
    const nodeArgs: string[] = [];
    if (o.cpuProfDir) {
      mkdirSync(o.cpuProfDir, { recursive: true });
      const name = `herald-worker-run${o.run}-${Date.now()}.cpuprofile`;
      nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=${name}`);
      profileFile = `${o.cpuProfDir}/${name}`;
    }
    const spawned = nowMs();
    const worker = await stack.start('worker', nodeArgs);
    let warmCreated = 0;
    for (let i = 0; i < WARM_UP_EVENTS; i++) {
      warmCreated += await client.publishRaw(warmTenant, JSON.stringify({ id: `evt_w${o.run}_${i}`, type: 'bench.sustained', payload: payloadOfSize(1024, { seq: i }) }));
    }
    const warmDeadline = nowMs() + o.timeoutMs;
    let warm = await o.receiver.stats();
    while (warm.distinct < warmCreated || (await probe.deliveryCounts()).succeeded < warmCreated) {
      if (worker.child.exitCode !== null) throw new Error(`worker exited during its warm-up\n${worker.tail()}`);
      if (nowMs() > warmDeadline) throw new Error(`warm-up: only ${warm.distinct}/${warmCreated} deliveries arrived\n${worker.tail()}`);
      await sleep(20);
      warm = await o.receiver.stats();
    }
    /** What the warm-up left in the tables, taken off the drain's counts below. */
    const warmCounts = await probe.deliveryCounts();
    const coldStart: ColdStart = {
      deliveries: warmCreated,
      firstArrivalMs: warm.firstAt - spawned,
      allArrivedMs: warm.lastAt - spawned,
      deliveriesPerSec: (warm.count - 1) / Math.max(0.001, (warm.lastAt - warm.firstAt) / 1000),
    };
    progress(
      `  run ${o.run} sustained: cold start: the worker's first ${fmtInt(warmCreated)} deliveries (warm-up) arrived ${fmtInt(coldStart.firstArrivalMs)}–` +
        `${fmtInt(coldStart.allArrivedMs)} ms after it was spawned (${fmtInt(coldStart.deliveriesPerSec)}/s); frozen while the backlog is published`,
    );
    process.kill(worker.pid, 'SIGSTOP');
    frozen = worker.pid;
    await o.receiver.reset(true); // arrival times kept: the drain's timeline below

    // --- publish the backlog (the worker frozen) ----------------------------
    const written = o.events * o.endpoints;
    /** Deliveries that can succeed (the noisy neighbour's never do). */
    const expected = o.shape === 'noisy' ? o.events * (o.endpoints - 1) : written;
    let next = 0;
    let created = 0;
    const t0 = nowMs();
    let lastLog = t0;
    const publishSampler = new ActivitySampler(actProbe);
    publishSampler.start();
    const lane = async () => {
      while (next < o.events) {
        const i = next++;
        const body = JSON.stringify({
          id: `evt_s${o.run}_${i}`,
          type: 'bench.sustained',
          payload: payloadOfSize(1024, { seq: i, sentAt: Date.now() }),
        });
        const n = await client.publishRaw(tenant, body); // not `created += await`: that reads `created` before awaiting
        created += n;
        if (nowMs() - lastLog > 2000) {
          lastLog = nowMs();
          progress(`  run ${o.run} sustained: published ${fmtInt(i + 1)}/${fmtInt(o.events)} events`);
        }
      }
    };
    await Promise.all(Array.from({ length: o.publishers }, lane));
    const publishSeconds = (nowMs() - t0) / 1000;
    const publishActivity = await publishSampler.stop();
    if (created !== written) throw new Error(`publishing created ${created} deliveries, expected ${written}`);
    progress(
      `  run ${o.run} sustained: backlog of ${fmtInt(written)} deliveries published in ${publishSeconds.toFixed(1)} s ` +
        `(${fmtInt(o.events / publishSeconds)} events/s, ${fmtInt(written / publishSeconds)} deliveries/s written)`,
    );

    await sleep(1100); // let the statistics collector catch up before the baseline snapshot
    await probe.clearSnapshot();
    const before = await probe.counters();

    // --- drain it with the worker thawed ------------------------------------
    const workerStart = nowMs();
    process.kill(worker.pid, 'SIGCONT');
    frozen = null;
    const drainSampler = new ActivitySampler(actProbe);
    drainSampler.start();
    const sampler = new CpuSampler({ worker: worker.pid, receiver: o.receiver.pid, api: api.pid, bench: process.pid }, stack.db.name);
    const deadline = workerStart + o.timeoutMs;
    let sampling = false;
    let lastProgress = nowMs();
    let stats = await o.receiver.stats();
    let workerRss: number | null = null;
    let peakRss = 0;
    for (;;) {
      stats = await o.receiver.stats();
      peakRss = Math.max(peakRss, processRssBytes(worker.pid) ?? 0);
      if (!sampling && stats.count > 0) {
        sampler.begin();
        sampling = true;
      }
      if (stats.distinct >= expected) break;
      if (worker.child.exitCode !== null) throw new Error(`worker exited during the run\n${worker.tail()}`);
      if (nowMs() > deadline) {
        throw new Error(`sustained run ${o.run}: only ${stats.distinct}/${expected} deliveries arrived within ${o.timeoutMs / 1000} s\n${worker.tail()}`);
      }
      if (nowMs() - lastProgress > 2000) {
        lastProgress = nowMs();
        workerRss = processRssBytes(worker.pid) ?? workerRss;
        const secs = stats.firstAt ? (stats.lastAt - stats.firstAt) / 1000 : 0;
        progress(
          `  run ${o.run} sustained: ${fmtInt(stats.distinct)}/${fmtInt(expected)} delivered` +
            (secs > 0 ? ` (${fmtInt((stats.count - 1) / secs)}/s so far)` : '') +
            (workerRss !== null ? `, worker RSS ${fmtInt(workerRss / 1024 / 1024)} MB` : ''),
        );
      }
      await sleep(100);
    }
    if (!sampling) sampler.begin();
    const cpu = sampler.end();
    const drainActivity = await drainSampler.stop();
    workerRss = processRssBytes(worker.pid) ?? workerRss;
    const deliverySeconds = (stats.lastAt - stats.firstAt) / 1000;

    // --- wait until PostgreSQL has every outcome ----------------------------
    let counts = await probe.deliveryCounts();
    const recordDeadline = nowMs() + 60_000;
    while (counts.succeeded - warmCounts.succeeded < expected) {
      if (nowMs() > recordDeadline) {
        throw new Error(`only ${counts.succeeded + counts.failed - warmCounts.succeeded - warmCounts.failed}/${expected} outcomes recorded 60 s after the last arrival`);
      }
      await sleep(50);
      counts = await probe.deliveryCounts();
    }
    const recordedSeconds = (nowMs() - workerStart) / 1000;
    // the drain over time (a dip at its start would be the backlog's first claims); read once the
    // outcomes are recorded, so the transfer does not delay that clock
    const quarters = ratePerQuarterSecond((await o.receiver.arrivals()).times, stats.firstAt);
    progress(
      `  run ${o.run} sustained: arrivals per second in each 250 ms from the first: ${quarters.map(fmtInt).join(' ')}` +
        ` (thawed → first arrival ${fmtInt(stats.firstAt - workerStart)} ms)`,
    );
    await sleep(1100);
    await probe.clearSnapshot();
    const after = await probe.counters();
    const wal = await probe.walBytesBetween(before.wal, after.wal);
    // Stats end with the data; let the receiver settle before reading duplicates.
    const final = await o.receiver.stats();

    await worker.stop(); // graceful: writes the CPU profile when enabled
    const xact = after.xact - before.xact;
    const upd = after.updates - before.updates;
    return {
      shape: o.shape ?? 'plain',
      events: o.events,
      endpoints: o.endpoints,
      expected,
      publishSeconds,
      publishEventsPerSec: o.events / publishSeconds,
      received: final.count,
      duplicates: final.duplicates,
      deliverySeconds,
      deliveriesPerSec: (stats.count - 1) / deliverySeconds,
      recordedSeconds,
      recordedPerSec: expected / recordedSeconds,
      succeeded: counts.succeeded - warmCounts.succeeded,
      attempts: counts.attempts - warmCounts.attempts,
      cpu,
      workerRssMb: workerRss === null ? null : workerRss / 1024 / 1024,
      workerPeakRssMb: peakRss > 0 ? peakRss / 1024 / 1024 : null,
      dbXactPerSec: xact / recordedSeconds,
      deliveriesPerXact: expected / Math.max(1, xact),
      walBytesPerDelivery: wal / written,
      hotUpdatePct: upd > 0 ? ((after.hotUpdates - before.hotUpdates) / upd) * 100 : 0,
      profileFile,
      publishActivity,
      drainActivity,
      coldStart,
    };
  } catch (err) {
    throw stack.explain(err);
  } finally {
    if (frozen !== null) process.kill(frozen, 'SIGCONT'); // so that it can stop
    await probe?.close();
    await actProbe?.close();
    await stack.close();
  }
}
