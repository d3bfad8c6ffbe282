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
import { promValue } from './herald-client.js';
import type { Receiver } from './receiver.js';
import { openStack } from './stack.js';
import { nowMs, payloadOfSize, percentile, progress, sleep, fmtInt } from './util.js';

export interface LatencyOptions {
  run: number;
  receiver: Receiver;
  /** Events per second to publish. */
  rate: number;
  seconds: number;
  /** Most publish calls in flight; beyond it a tick's events are skipped (and reported). */
  maxInFlight: number;
}

export interface LatencyResult {
  targetRate: number;
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
  clockOffsetMs: number;
  finishedMetric: number | null;
  cpu: CpuReport;
  activity: ActivitySummary;
}

export async function runLatency(o: LatencyOptions): Promise<LatencyResult> {
  const stack = await openStack();
  let probe: BenchDbProbe | null = null;
  try {
    const serve = await stack.start('serve');
    probe = await BenchDbProbe.open(stack.db.url);
    const client = stack.client(serve, 32);
    const tenant = `bench_l${o.run}`;
    await client.createTenant(tenant, 'bench latency');
    await client.createEndpoint(tenant, `${o.receiver.url}/latency`);
    const body = (id: string, seq: number, sentAt: number) =>
      JSON.stringify({ id, type: 'bench.latency', payload: payloadOfSize(1024, { seq, sentAt }) });

    // Warm-up: connections, prepared statements, JIT; not measured.
    await o.receiver.reset(false);
    const warm = 100;
    for (let i = 0; i < warm; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, k) => client.publishRaw(tenant, body(`evt_w${o.run}_${i + k}`, i + k, nowMs()))));
    }
    const warmDeadline = nowMs() + 30_000;
    while ((await o.receiver.stats()).distinct < warm) {
      if (nowMs() > warmDeadline) throw new Error('latency warm-up deliveries did not arrive within 30 s');
      await sleep(20);
    }
    await sleep(200);

    const clock = await o.receiver.clockOffset();
    await o.receiver.reset(true);
    const sampler = new CpuSampler({ serve: serve.pid, receiver: o.receiver.pid, bench: process.pid }, stack.db.name);
    sampler.begin();
    const activity = new ActivitySampler(probe);
    activity.start();

    // --- paced publishing ---------------------------------------------------
    const total = Math.round(o.rate * o.seconds);
    const startedAt = new Map<string, number>();
    const publishMs: number[] = [];
    let sent = 0;
    let ok = 0;
    let errors = 0;
    let skipped = 0;
    let inFlight = 0;
    let firstError: unknown = null;
    let lastAcceptedAt = 0;
    const fire = (seq: number) => {
      const id = `evt_l${o.run}_${seq}`;
      const t0 = nowMs();
      startedAt.set(id, t0);
      inFlight++;
      client.publishRaw(tenant, body(id, seq, t0)).then(
        () => {
          ok++;
          lastAcceptedAt = nowMs();
          publishMs.push(lastAcceptedAt - t0);
        },
        (err: unknown) => {
          errors++;
          firstError ??= err;
          startedAt.delete(id);
        },
      ).finally(() => inFlight--);
    };
    const start = nowMs();
    let lastLog = start;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const t = nowMs();
        const due = Math.min(total, Math.floor(((t - start) / 1000) * o.rate));
        while (sent < due) {
          if (inFlight >= o.maxInFlight) {
            skipped += due - sent;
            sent = due;
            break;
          }
          fire(sent++);
        }
        if (t - lastLog > 2000) {
          lastLog = t;
          progress(`  run ${o.run} latency: published ${fmtInt(ok)}/${fmtInt(total)} (${inFlight} in flight)`);
        }
        if (sent >= total || t - start > o.seconds * 1000 + 5_000) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    const settleDeadline = nowMs() + 30_000;
    while (inFlight > 0 && nowMs() < settleDeadline) await sleep(5);
    // Accepted rate: from the first call to the last 202 (calls still queued when pacing ended count, and so does their wait).
    const publishSeconds = (Math.max(lastAcceptedAt, start + 1) - start) / 1000;
    if (ok === 0) throw new Error(`latency run ${o.run}: no publish succeeded (${String(firstError)})`);

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
    const lat: number[] = [];
    const seen = new Set<string>();
    arrivals.ids.forEach((id, i) => {
      const t0 = startedAt.get(id);
      if (t0 === undefined || seen.has(id)) return;
      seen.add(id);
      lat.push((arrivals.times[i] as number) - clock.offsetMs - t0);
    });
    lat.sort((a, b) => a - b);
    publishMs.sort((a, b) => a - b);
    let finishedMetric: number | null = null;
    try {
      // Minus the warm-up events, which the counter includes.
      finishedMetric = promValue(await client.metricsText(), 'herald_deliveries_finished_total', 'status="succeeded"') - warm;
    } catch {
      finishedMetric = null;
    }
    if (lat.length < ok) progress(`  run ${o.run} latency: WARNING ${ok - lat.length} published events did not arrive within 30 s`);
    return {
      targetRate: o.rate,
      seconds: publishSeconds,
      published: ok,
      publishErrors: errors,
      skipped,
      achievedRate: ok / publishSeconds,
      received: stats.count,
      matched: lat.length,
      duplicates: stats.duplicates,
      p50: percentile(lat, 50),
      p95: percentile(lat, 95),
      p99: percentile(lat, 99),
      max: lat[lat.length - 1] ?? Number.NaN,
      publishP50: percentile(publishMs, 50),
      publishP99: percentile(publishMs, 99),
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
