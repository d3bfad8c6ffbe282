/**
 * Scenario 2, publish → receive latency: `herald serve` (API and worker in
 * one process), one endpoint, single-event POSTs paced by a timer at a
 * steady rate. Latency is the receiver's arrival time minus the moment the
 * publish call started (matched by webhook-id, with the two processes'
 * clocks aligned over IPC).
 */
import { ActivitySampler, type ActivitySummary } from './activity.js';
import { CpuSampler, type CpuReport } from './cpu.js';
import { BenchDbProbe } from './db.js';
import { stopChild, type HeraldProcess } from './children.js';
import { startFloor } from './floor.js';
import { HeraldClient, promValue } from './herald-client.js';
import type { Receiver } from './receiver.js';
import { openStack } from './stack.js';
import { latencies, pacedPublish } from './paced.js';
import { nowMs, payloadOfSize, percentile, progress, sleep } from './util.js';

export interface LatencyOptions {
  run: number;
  receiver: Receiver;
  /** Events per second to publish. */
  rate: number;
  seconds: number;
  /** Seconds of the same paced load before the measured window (reported apart: `warmupP99`). */
  warmupSeconds: number;
  /** Most publish calls in flight; beyond it a tick's events are skipped (and reported). */
  maxInFlight: number;
  /**
   * 'hang': the tenant has a second endpoint whose receiver never answers
   * (timeout 2 s): the noisy neighbour. Latency is measured on the healthy one.
   */
  neighbour?: 'hang';
  /** Publish to the floor (floor-server.ts: the least work publish → commit → POST takes) instead of Herald. */
  floor?: boolean;
}

export interface LatencyResult {
  targetRate: number;
  neighbour: 'hang' | null;
  floor: boolean;
  seconds: number;
  published: number;
  publishErrors: number;
  skipped: number;
  achievedRate: number;
  received: number;
  matched: number;
  duplicates: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  publishP50: number;
  publishP99: number;
  /** Publish → receive p99 of the warm-up (a process just started), ms. */
  warmupP99: number;
  clockOffsetMs: number;
  finishedMetric: number | null;
  cpu: CpuReport;
  activity: ActivitySummary;
}

export async function runLatency(o: LatencyOptions): Promise<LatencyResult> {
  const stack = await openStack();
  let probe: BenchDbProbe | null = null;
  try {
    const floor = o.floor ? await startFloor({ databaseUrl: stack.db.url, receiverUrl: `${o.receiver.url}/latency` }) : null;
    const serve = floor ? { pid: floor.child.pid ?? -1 } : await stack.start('serve');
    probe = await BenchDbProbe.open(stack.db.url);
    const client = floor ? new HeraldClient(floor.url, stack.token, 32) : stack.client(serve as HeraldProcess, 32);
    const tenant = `bench_l${o.run}`;
    if (!floor) await client.createTenant(tenant, 'bench latency');
    if (!floor) await client.createEndpoint(tenant, `${o.receiver.url}/latency`);
    if (o.neighbour === 'hang') await client.createEndpoint(tenant, `${o.receiver.url}/hang/latency`, { timeoutMs: 2000 });
    const body = (id: string, seq: number, sentAt: number) =>
      JSON.stringify({ id, type: 'bench.latency', payload: payloadOfSize(1024, { seq, sentAt }) });

    // Warm-up, not measured: the same paced load for `warmupSeconds`, so the
    // measured window sees a process in its steady state (connections open
    // and their statements prepared, code optimised by the JIT), as the raw
    // baseline's warm-up does for its client. A cold `herald serve` took the
    // first 1-2 s of a 1,000/s run to catch up (publish calls of 150-440 ms),
    // and that alone made the run's p95 and p99.
    const paceFor = (seconds: number, ids: string, label: string) =>
      pacedPublish({
        client,
        tenant,
        rate: o.rate,
        seconds,
        maxInFlight: o.maxInFlight,
        body: (seq, sentAt) => {
          const id = `${ids}${o.run}_${seq}`;
          return { id, json: body(id, seq, sentAt) };
        },
        label: `run ${o.run} ${label}`,
      });
    await o.receiver.reset(true);
    const warmup = await paceFor(o.warmupSeconds, 'evt_w', 'latency warm-up');
    const warm = warmup.ok;
    const warmDeadline = nowMs() + 30_000;
    while ((await o.receiver.stats()).distinct < warm) {
      if (nowMs() > warmDeadline) throw new Error('latency warm-up deliveries did not arrive within 30 s');
      await sleep(20);
    }
    await sleep(200);
    const clock = await o.receiver.clockOffset();
    const warmLat = latencies(warmup.startedAt, await o.receiver.arrivals(), clock.offsetMs);
    await o.receiver.reset(true);
    const sampler = new CpuSampler({ serve: serve.pid, receiver: o.receiver.pid, bench: process.pid }, stack.db.name);
    sampler.begin();
    const activity = new ActivitySampler(probe);
    activity.start();

    // --- paced publishing ---------------------------------------------------
    const paced = await paceFor(o.seconds, 'evt_l', 'latency');
    const { ok, startedAt, publishMs } = paced;
    if (ok === 0) throw new Error(`latency run ${o.run}: no publish succeeded (${String(paced.firstError)})`);

    // --- wait for every published event to arrive ---------------------------
    const arriveDeadline = nowMs() + 30_000;
    let stats = await o.receiver.stats();
    while (stats.distinct < ok && nowMs() < arriveDeadline) {
      await sleep(20);
      stats = await o.receiver.stats();
    }
    const cpu = sampler.end();
    const act = await activity.stop();
    const arrivals = await o.receiver.arrivals();
    const lat = latencies(startedAt, arrivals, clock.offsetMs);
    let finishedMetric: number | null = null;
    if (floor) {
      await client.close();
      await stopChild(floor.child);
    } else try {
      // Minus the warm-up events, which the counter includes.
      finishedMetric = promValue(await client.metricsText(), 'herald_deliveries_finished_total', 'status="succeeded"') - warm;
    } catch {
      finishedMetric = null;
    }
    if (lat.length < ok) progress(`  run ${o.run} latency: WARNING ${ok - lat.length} published events did not arrive within 30 s`);
    return {
      targetRate: o.rate,
      neighbour: o.neighbour ?? null,
      floor: o.floor === true,
      seconds: paced.seconds,
      published: ok,
      publishErrors: paced.errors,
      skipped: paced.skipped,
      achievedRate: ok / paced.seconds,
      received: stats.count,
      matched: lat.length,
      duplicates: stats.duplicates,
      p50: percentile(lat, 50),
      p95: percentile(lat, 95),
      p99: percentile(lat, 99),
      max: lat[lat.length - 1] ?? Number.NaN,
      publishP50: percentile(publishMs, 50),
      publishP99: percentile(publishMs, 99),
      warmupP99: percentile(warmLat, 99),
      clockOffsetMs: clock.offsetMs,
      finishedMetric,
      cpu,
      activity: act,
    };
  } catch (err) {
    throw stack.explain(err);
  } finally {
    await probe?.close();
    await stack.close();
  }
}
