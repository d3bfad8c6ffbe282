/**
 * Steady state, as a user runs Herald: a fresh database (nothing analyzed or
 * vacuumed by hand), 32 clients publishing single 1 KB events while the
 * worker delivers them, each event fanned out to 10 of 100 endpoints, for
 * BENCH_STEADY_SECONDS; then publishing stops and the rest drains. Three
 * shapes: one `herald serve` on PostgreSQL, `herald api` + `herald worker`
 * on PostgreSQL, and one `herald serve` on the embedded database (no
 * DATABASE_URL, as `npm start`).
 *
 * Rate = deliveries that arrived ÷ (last arrival − start of publishing):
 * publishing and delivering at the same time, then the drain, so a worker
 * that falls behind while publishing pays for it in the drain.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActivitySampler, type ActivitySummary } from './activity.js';
import { CpuSampler, cpuWaitText, processRssBytes, type CpuReport } from './cpu.js';
import { BenchDbProbe } from './db.js';
import type { Receiver } from './receiver.js';
import { stopChild, type HeraldProcess } from './children.js';
import { startFloor } from './floor.js';
import { HeraldClient } from './herald-client.js';
import { rawPostRate } from './raw-post.js';
import { openStack } from './stack.js';
import { fmtInt, nowMs, payloadOfSize, progress, sleep } from './util.js';

/**
 * `floor` is not Herald: floor-steady-server.ts, the least work the scenario
 * takes (durable publish, fan-out, signed POST, an attempt row per
 * delivery), on the same database, receiver and publishers.
 */
export type SteadyShape = 'serve' | 'split' | 'embedded' | 'floor' | 'floor-rows';

/** The delivery rate issue 10 asks of each shape, as a share of the raw POST rate (the floors are held to `serve`'s). */
export const STEADY_GOAL: Record<SteadyShape, number> = { serve: 0.35, split: 0.35, embedded: 0.08, floor: 0.35, 'floor-rows': 0.35 };

export interface SteadyOptions {
  run: number;
  receiver: Receiver;
  shape: SteadyShape;
  /** How long the clients publish. */
  seconds: number;
  publishers: number;
  endpoints: number;
  /** Endpoints each event reaches. */
  fanout: number;
  /** Length of the windows of the rate-over-time series, in seconds. */
  windowSeconds: number;
  /** Give up on the drain after this long past the end of publishing. */
  drainTimeoutMs: number;
  /** Run the Herald processes under --cpu-prof, writing profiles here. */
  cpuProfDir?: string;
}

export interface SteadyResult {
  shape: SteadyShape;
  seconds: number;
  /** Events accepted (202) and the deliveries they created. */
  events: number;
  deliveries: number;
  publishEventsPerSec: number;
  /** Deliveries that arrived while publishing, per second of publishing. */
  deliveredWhilePublishingPerSec: number;
  /** Arrivals ÷ (last arrival − start of publishing). */
  deliveriesPerSec: number;
  /** From the end of publishing to the last arrival. */
  drainSeconds: number;
  arrived: number;
  duplicates: number;
  /** Arrivals per second in each window of `windowSeconds` while publishing. */
  windows: number[];
  /** How long each window lasted, in seconds (the last one ends with the publishing, so it may be short). */
  windowLengths: number[];
  /** The window length asked for, in seconds. */
  windowSeconds: number;
  /**
   * What a delivery that arrived in each window cost each process and PostgreSQL in that window, in µs of CPU
   * (null where unknown). The receiver does the same work for every delivery, so its figure moves only with the
   * host's speed: beside Herald's, it tells a host that slowed from work per delivery that grew.
   */
  windowCpuUs: WindowCpu[];
  cpu: CpuReport;
  peakRssMb: Record<string, number>;
  /** What PostgreSQL was running (not measured on the embedded database). */
  activity: ActivitySummary | null;
}

/** CPU per delivery in one window of a run, µs. */
export interface WindowCpu {
  procs: Record<string, number | null>;
  postgres: number | null;
}

/** A window's CPU report as µs per delivery that arrived in it. */
function perDelivery(c: CpuReport, arrived: number): WindowCpu {
  const us = (pct: number | null): number | null => (pct === null || arrived <= 0 ? null : ((pct / 100) * c.seconds * 1e6) / arrived);
  return { procs: Object.fromEntries(Object.entries(c.procs).map(([k, v]) => [k, us(v)])), postgres: us(c.postgres) };
}

export async function runSteady(o: SteadyOptions): Promise<SteadyResult> {
  const dataDir = o.shape === 'embedded' ? await mkdtemp(join(tmpdir(), 'herald-bench-')) : null;
  let floor: Awaited<ReturnType<typeof startFloor>> | null = null;
  const stack = await openStack({ env: dataDir ? { DATABASE_URL: '', HERALD_DATA_DIR: join(dataDir, 'data') } : {} });
  try {
    // BENCH_SHOW_LOG=1: Herald's warnings and errors on the bench's output
    const onLine = process.env.BENCH_SHOW_LOG ? (l: string) => /"level":(40|50|60)/.test(l) && progress(`  herald: ${l.slice(0, 300)}`) : undefined;
    const prof = (role: string) => (o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=steady-${o.shape}-${role}-${o.run}.cpuprofile`] : []);
    if (o.shape === 'floor' || o.shape === 'floor-rows') {
      // floor-rows: the same minimal program writing Herald's own rows (see floor-steady-server.ts)
      const env = { ENDPOINTS: String(o.endpoints), FANOUT: String(o.fanout), FLOOR_RECORD: o.shape === 'floor-rows' ? 'herald' : 'floor' };
      floor = await startFloor({ databaseUrl: stack.db.url, receiverUrl: o.receiver.url, program: 'floor-steady-server', env, execArgv: prof('floor') });
    }
    const procs = floor
      ? [{ role: 'floor', pid: floor.child.pid ?? -1, child: floor.child }]
      : o.shape === 'split'
        ? [await stack.start('api', prof('api'), onLine), await stack.start('worker', prof('worker'), onLine)]
        : [await stack.start('serve', prof('serve'), onLine)];
    const client = floor ? new HeraldClient(floor.url, stack.token, o.publishers) : stack.client(procs[0] as HeraldProcess, o.publishers);
    const tenant = `steady${o.run}`;
    const types = Math.max(1, Math.round(o.endpoints / o.fanout));
    if (!floor) {
      await client.createTenant(tenant, 'bench steady state');
      for (let i = 0; i < o.endpoints; i++) {
        await client.createEndpoint(tenant, `${o.receiver.url}/ep/${i}`, { eventTypes: [`steady.t${i % types}`] });
      }
    }
    await o.receiver.reset(false);

    const cpuPids: Record<string, number> = { receiver: o.receiver.pid, bench: process.pid };
    for (const p of procs) cpuPids[p.role] = p.pid;
    const sampler = new CpuSampler(cpuPids, o.shape === 'embedded' ? false : stack.db.name);
    const peak: Record<string, number> = {};
    const samplePeak = () => {
      for (const p of procs) peak[p.role] = Math.max(peak[p.role] ?? 0, (processRssBytes(p.pid) ?? 0) / 1024 / 1024);
    };

    let events = 0;
    let deliveries = 0;
    let seq = 0;
    const t0 = nowMs();
    const end = t0 + o.seconds * 1000;
    sampler.begin();
    const probe = o.shape === 'embedded' ? null : await BenchDbProbe.open(stack.db.url);
    const activity = probe ? new ActivitySampler(probe) : null;
    activity?.start();
    const payload = (i: number) =>
      JSON.stringify({ type: `steady.t${i % types}`, payload: payloadOfSize(1024, { seq: i, run: o.run }) });
    const lane = async () => {
      // bounded by time, and by failures (one bad answer ends the run)
      while (nowMs() < end) {
        const n = await client.publishRaw(tenant, payload(seq++)); // not `deliveries += await`: that reads it before awaiting
        deliveries += n;
        events++;
      }
    };
    const windows: number[] = [];
    const windowLengths: number[] = [];
    const windowCpuUs: WindowCpu[] = [];
    let lastCount = 0;
    let windowStart = t0;
    const watcher = (async () => {
      while (nowMs() < end) {
        await sleep(Math.min(1000, Math.max(10, end - nowMs())));
        samplePeak();
        if (nowMs() - windowStart >= o.windowSeconds * 1000 || nowMs() >= end) {
          const s = await o.receiver.stats();
          windowCpuUs.push(perDelivery(sampler.lap(), s.count - lastCount));
          windows.push((s.count - lastCount) / ((nowMs() - windowStart) / 1000));
          windowLengths.push((nowMs() - windowStart) / 1000);
          lastCount = s.count;
          windowStart = nowMs();
          progress(`  run ${o.run} steady/${o.shape}: ${fmtInt(events)} events in, ${fmtInt(s.distinct)} deliveries arrived`);
        }
      }
    })();
    await Promise.all([...Array.from({ length: o.publishers }, lane), watcher]);
    const publishedAt = nowMs();
    const whilePublishing = (await o.receiver.stats()).count;

    const deadline = publishedAt + o.drainTimeoutMs;
    let stats = await o.receiver.stats();
    while (stats.distinct < deliveries) {
      if (nowMs() > deadline) {
        throw new Error(`steady/${o.shape} run ${o.run}: only ${stats.distinct}/${deliveries} deliveries arrived ${o.drainTimeoutMs / 1000} s after publishing stopped`);
      }
      for (const p of procs) if (p.child.exitCode !== null) throw new Error(`herald ${p.role} exited during the run`);
      samplePeak();
      await sleep(100);
      stats = await o.receiver.stats();
      if (process.env.BENCH_SHOW_QUEUE && probe && Math.floor(nowMs() / 2000) !== Math.floor((nowMs() - 100) / 2000)) {
        const q = await probe.rows<{ n: string; leased: string; live: string; due: string }>(
          `select count(*)::text as n, count(lease_token)::text as leased, count(*) filter (where lease_until > now())::text as live,
                  count(*) filter (where due_at <= now())::text as due from queue`,
        );
        progress(`  queue: ${JSON.stringify(q[0])}, arrived ${stats.distinct}`);
      }
    }
    const cpu = sampler.end();
    if (process.env.BENCH_SHOW_LOG && (o.shape === 'serve' || o.shape === 'embedded')) {
      // how the worker of `herald serve` got its deliveries: hand-off or claim
      const m = await client.metricsText();
      progress(`  herald: ${m.split('\n').filter((l) => /^herald_deliveries_(taken|given_back)_total/.test(l)).join(', ')}`);
    }
    const act = (await activity?.stop()) ?? null;
    if (process.env.BENCH_SHOW_OTHER) for (const [q, n] of [...(activity?.others ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 8)) progress(`    other: ${n}× ${q}`);
    await probe?.close();
    await sleep(500); // a duplicate would arrive late
    const final = await o.receiver.stats();
    const publishSeconds = (publishedAt - t0) / 1000;
    return {
      shape: o.shape,
      seconds: publishSeconds,
      events,
      deliveries,
      publishEventsPerSec: events / publishSeconds,
      deliveredWhilePublishingPerSec: whilePublishing / publishSeconds,
      deliveriesPerSec: stats.distinct / ((stats.lastAt - t0) / 1000),
      drainSeconds: Math.max(0, (stats.lastAt - publishedAt) / 1000),
      arrived: final.distinct,
      duplicates: final.duplicates,
      windows,
      windowLengths,
      windowSeconds: o.windowSeconds,
      windowCpuUs,
      cpu,
      peakRssMb: peak,
      activity: act,
    };
  } catch (err) {
    throw stack.explain(err);
  } finally {
    if (floor) await stopChild(floor.child);
    await stack.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

/** A steady run with the raw POST rate measured just before and just after it (5 s each). */
export interface SteadyRun {
  rawBefore: number;
  rawAfter: number;
  result: SteadyResult;
}

/**
 * Runs `run` between two readings of the raw POST rate to the same receiver:
 * one reading swung by 2.5 × from one run to the next on a noisy day, and
 * decided the run's ratio as much as Herald did.
 */
export async function betweenRawReadings(receiver: Receiver, run: (receiver: Receiver) => Promise<SteadyResult>): Promise<SteadyRun> {
  const rawBefore = (await rawPostRate(receiver.url, 5)).rps;
  const result = await run(receiver);
  return { rawBefore, rawAfter: (await rawPostRate(receiver.url, 5)).rps, result };
}

/** A run's delivery rate over the mean of its two raw readings. */
export const ratioToRaw = (s: SteadyRun): number => (2 * s.result.deliveriesPerSec) / (s.rawBefore + s.rawAfter);

/**
 * What a delivery cost in CPU over the whole run (publishing and drain):
 * each process's CPU time, and PostgreSQL's, over the deliveries that
 * arrived, in µs; and their sum (other load on the machine left out).
 */
export interface DeliveryCpu {
  procs: Record<string, number | null>;
  /** Null on the embedded database (it runs inside `herald serve`, whose figure holds it). */
  postgres: number | null;
  /** Everything above together; null when a part is unknown. */
  total: number | null;
}

export function cpuPerDelivery(r: SteadyResult): DeliveryCpu {
  const { procs, postgres } = perDelivery(r.cpu, r.arrived);
  // the embedded database's CPU is `serve`'s own (the sampler measures no PostgreSQL there: null)
  const parts = [...Object.values(procs), ...(r.shape === 'embedded' ? [] : [postgres])];
  const total = parts.some((v) => v === null) ? null : parts.reduce<number>((a, v) => a + v!, 0);
  return { procs, postgres, total };
}

/**
 * The most CPU a delivery may cost, every process of the run together, for
 * the shape's goal (STEADY_GOAL × the raw POST rate of the run) to fit on
 * the machine's cores at all: cores × 1 s ÷ (goal × raw). A run that spends
 * more per delivery cannot reach the goal at that raw rate however its work
 * is spread over the cores; one that spends less can, if the scheduler lets
 * the run use every core (the idle share says how far it did).
 */
export const cpuBudgetUs = (s: SteadyRun, cores = availableParallelism()): number =>
  (cores * 1e6) / (STEADY_GOAL[s.result.shape] * ((s.rawBefore + s.rawAfter) / 2));

/** `receiver 24, bench 8, serve 70, pg 55 = 157 µs a delivery; 0.35 × raw allows 143 on 2 cores` */
export function cpuPerDeliveryText(s: SteadyRun, cores = availableParallelism()): string {
  const c = cpuPerDelivery(s.result);
  const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(0));
  const parts = Object.entries(c.procs).map(([k, v]) => `${k} ${f(v)}`);
  if (c.postgres !== null) parts.push(`pg ${f(c.postgres)}`);
  return `${parts.join(', ')} = ${f(c.total)} µs a delivery; ${STEADY_GOAL[s.result.shape]} × raw allows ${f(cpuBudgetUs(s, cores))} on ${cores} cores`;
}

/** One progress line for a steady-state run and the raw POST rates measured around it. */
export function steadyLine(s: SteadyRun): string {
  const r = s.result;
  return (
    `steady/${r.shape}: ${fmtInt(r.publishEventsPerSec)} events/s published (${fmtInt(r.deliveries)} deliveries), ` +
    `${fmtInt(r.deliveredWhilePublishingPerSec)}/s delivered while publishing, ${fmtInt(r.deliveriesPerSec)}/s overall = ` +
    `${ratioToRaw(s).toFixed(3)} of raw (${fmtInt(s.rawBefore)}/s before, ${fmtInt(s.rawAfter)}/s after); drain ${r.drainSeconds.toFixed(1)} s; ${fmtInt(r.arrived)}/${fmtInt(r.deliveries)} arrived, ` +
    `${r.duplicates} duplicates; windows ${r.windows.map(fmtInt).join(' ')}; CPU ${Object.entries(r.cpu.procs)
      .map(([k, v]) => `${k} ${v === null ? 'n/a' : v.toFixed(0)}%`)
      .join(', ')}, postgres ${r.cpu.postgres === null ? 'n/a' : r.cpu.postgres.toFixed(0)}%, other ${r.cpu.other === null ? 'n/a' : r.cpu.other.toFixed(0)}%; ` +
    `waiting for a CPU: ${cpuWaitText(r.cpu)}; CPU per delivery: ${cpuPerDeliveryText(s)}; ` +
    `peak RSS ${Object.entries(r.peakRssMb).map(([k, v]) => `${k} ${fmtInt(v)} MB`).join(', ')}`
  );
}
