/**
 * `npm run bench`: raw POST baseline, Herald sustained delivery and
 * publish→receive latency, alternated BENCH_RUNS times, against a real
 * PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres).
 *
 * Knobs (environment):
 *   BENCH_RUNS       runs of each scenario (default 3)
 *   BENCH_EVENTS     events in the sustained backlog (default 1000; × BENCH_ENDPOINTS deliveries). The drain
 *                    lasts ~10 s: with 300 (a 3 s drain) the noisy neighbour's ratio of two drains read 81-140 %
 *                    from one run to the next on an unchanged Herald, the machine's moment more than Herald's
 *   BENCH_MEMORY_EVENTS  events of the 16 MB-response drain (default 50; × BENCH_ENDPOINTS deliveries)
 *   BENCH_ENDPOINTS  endpoints of the sustained tenant (default 100)
 *   BENCH_SECONDS    latency scenario length in seconds (default 10); the raw baseline runs half as long
 *   BENCH_LATENCY_WARMUP seconds of the same paced load before each latency window, not measured (default 3)
 *   BENCH_RATE       latency scenario publish rates, events/s, comma-separated (default 500,100)
 *   BENCH_TIMEOUT    longest wait for a sustained drain, seconds (default 300)
 *   BENCH_CPU_PROF   directory: run the sustained worker under `node --cpu-prof` and summarise the profile
 *   BENCH_REPORT     markdown output (default docs/benchmarks.md; "-" writes none)
 *   BENCH_INTAKE_SECONDS  length of each intake measurement (default 10)
 *   BENCH_FANOUT     endpoints of the fan-out tenant (default 1000)
 *   BENCH_STORM      queued retries of the retry storm (default 100000)
 *   BENCH_BACKLOG    due deliveries of the backlog drain (default 1000000)
 *   BENCH_IDLE_SECONDS  idle measurement window (default 30)
 *   BENCH_STEADY_SECONDS  publishing time of each steady-state run (default 60)
 *   BENCH_STEADY_SHAPES   steady-state shapes, comma-separated: serve,split,embedded,floor,floor-rows (default all five;
 *                         floor is floor-steady-server.ts, the least work the scenario takes, and floor-rows the same
 *                         program writing Herald's own rows, for comparison)
 *   BENCH_STEADY_LONG_SECONDS  the long steady-state run (default 600)
 *   BENCH_ONLY       comma list of steady,steadylong,raw,sustained,latency,intake,fanout,filters,transformations,noisy,storm,memory,idle,backlog (default all)
 *                    (filters and transformations print their numbers and are not in the report; node dist-bench/bench/filters-main.js
 *                    and node dist-bench/bench/transformations-main.js run them alone with medians)
 *   BENCH_HERALD_NODE_ARGS  node flags for every Herald process, space-separated (experiments with V8's settings)
 *   BENCH_KEEP_DB    1: keep each scenario's database afterwards, to look at its tables and plans (drop them by hand)
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { describeActivity } from './activity.js';
import { cleanUpOnExit } from './children.js';
import { CpuSampler, backgroundLoad, type CpuReport } from './cpu.js';
import { ADMIN_URL, serverSettings, serverVersion } from './db.js';
import { runLatency, type LatencyResult } from './latency.js';
import { formatProfile, summarizeProfile } from './profile-summary.js';
import { rawPostRate } from './raw-post.js';
import { Receiver } from './receiver.js';
import { consoleSummary, writeReport, type BenchResults, type RawRun } from './report.js';
import { runSustained, type SustainedResult } from './sustained.js';
import { runBacklog } from './backlog.js';
import { runFanout } from './fanout.js';
import { runFilters } from './filters.js';
import { runTransformations } from './transformations.js';
import { runIdle } from './idle.js';
import { runIntake } from './intake.js';
import { runStorm } from './storm.js';
import { betweenRawReadings, runSteady, steadyLine, type SteadyShape } from './steady.js';
import { decayCpuText, emptyMore, steadyDecay } from './targets.js';
import { envInt, envNum, fmt1, fmtInt, progress } from './util.js';

/** The Herald revision under test: commit, and whether src/ or migrations/ had uncommitted changes. */
function revision(): string {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'migrations'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean).length;
    return dirty ? `${head} + ${dirty} uncommitted file(s) in src/ and migrations/` : head;
  } catch {
    return 'unknown (no git)';
  }
}

function effectiveConfig(): string {
  try {
    const c = loadConfig({}, { ...process.env, DATABASE_URL: ADMIN_URL });
    return (
      `worker: ${c.workerConcurrency} deliveries in flight, ${c.endpointConcurrency} per endpoint, claims of ${c.claimBatchSize}, ` +
      `poll ${c.pollIntervalMs} ms, lease ${c.leaseSeconds} s`
    );
  } catch (err) {
    return `config not readable: ${(err as Error).message.split('\n')[0]}`;
  }
}

const DEFAULT_REPORT = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

let receiver: Receiver | null = null;
const exit = cleanUpOnExit(async () => {
  await receiver?.stop();
});

async function main(): Promise<void> {
  const runs = envInt('BENCH_RUNS', 3);
  const events = envInt('BENCH_EVENTS', 1000);
  const memoryEvents = envInt('BENCH_MEMORY_EVENTS', 50);
  const endpoints = envInt('BENCH_ENDPOINTS', 100);
  const seconds = envNum('BENCH_SECONDS', 10);
  const warmupSeconds = envNum('BENCH_LATENCY_WARMUP', 3);
  const rates = (process.env.BENCH_RATE || '1000,500,100').split(',').map((x) => {
    const n = Number(x.trim());
    if (!Number.isInteger(n) || n < 1 || n > 20_000) throw new Error(`BENCH_RATE: bad rate ${JSON.stringify(x)}`);
    return n;
  });
  const timeoutS = envInt('BENCH_TIMEOUT', 300);
  const cpuProfDir = process.env.BENCH_CPU_PROF || undefined;
  const reportPath = process.env.BENCH_REPORT === '-' ? null : (process.env.BENCH_REPORT || DEFAULT_REPORT);
  const intakeSeconds = envNum('BENCH_INTAKE_SECONDS', 10);
  const fanoutEndpoints = envInt('BENCH_FANOUT', 1000);
  const stormRetries = envInt('BENCH_STORM', 100_000);
  const backlogDeliveries = envInt('BENCH_BACKLOG', 1_000_000);
  const idleSeconds = envNum('BENCH_IDLE_SECONDS', 30);
  const steadySeconds = envInt('BENCH_STEADY_SECONDS', 60);
  const steadyLongSeconds = envInt('BENCH_STEADY_LONG_SECONDS', 600);
  const steadyShapes = (process.env.BENCH_STEADY_SHAPES || 'serve,split,embedded,floor,floor-rows').split(',').map((s) => s.trim()) as SteadyShape[];
  const only = new Set(
    (process.env.BENCH_ONLY || 'steady,steadylong,raw,sustained,latency,intake,fanout,filters,transformations,noisy,storm,memory,idle,backlog').split(',').map((s) => s.trim()),
  );
  const rawSeconds = Math.max(1, seconds / 2);

  const cpus = os.cpus();
  const pg = await serverVersion();
  const results: BenchResults = {
    date: new Date(),
    machine: {
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      cores: cpus.length,
      memGiB: os.totalmem() / 1024 ** 3,
      os: `${os.type()} ${os.release()} (${os.arch()})`,
      node: process.version,
      pg,
      pgSettings: await serverSettings(),
    },
    revision: revision(),
    knobs: {
      BENCH_RUNS: String(runs),
      BENCH_EVENTS: String(events),
      BENCH_MEMORY_EVENTS: String(memoryEvents),
      BENCH_ENDPOINTS: String(endpoints),
      BENCH_SECONDS: String(seconds),
      BENCH_LATENCY_WARMUP: String(warmupSeconds),
      BENCH_RATE: rates.join(','),
      BENCH_INTAKE_SECONDS: String(intakeSeconds),
      BENCH_FANOUT: String(fanoutEndpoints),
      BENCH_STORM: String(stormRetries),
      BENCH_BACKLOG: String(backlogDeliveries),
      BENCH_IDLE_SECONDS: String(idleSeconds),
      BENCH_STEADY_SECONDS: String(steadySeconds),
      BENCH_STEADY_SHAPES: steadyShapes.join(','),
      BENCH_STEADY_LONG_SECONDS: String(steadyLongSeconds),
    },
    heraldConfig: Object.fromEntries(
      Object.entries(process.env).filter(([k, v]) => k.startsWith('HERALD_') && !/TOKEN|SECRET|KEY|PASSWORD/.test(k) && v !== undefined) as [string, string][],
    ),
    heraldEffective: effectiveConfig(),
    backgroundLoadPct: null,
    raw: [],
    sustained: [],
    latency: [],
    more: emptyMore(),
  };
  const more = results.more;
  progress(`machine: ${results.machine.cpuModel} × ${results.machine.cores}, ${results.machine.memGiB.toFixed(1)} GiB, node ${process.version}`);
  progress(`postgres: ${pg.split(' on ')[0]} at ${new URL(ADMIN_URL).host}`);
  progress(`plan: ${runs} runs × (raw ${rawSeconds} s, sustained ${fmtInt(events)} events × ${endpoints} endpoints, latency ${seconds} s at ${rates.join(' and ')}/s)`);

  const idle = await backgroundLoad(3000);
  results.backgroundLoadPct = idle;
  progress(
    `background load before starting: ${fmt1(idle ?? Number.NaN)}% of ${cpus.length * 100}%` +
      (idle !== null && idle > cpus.length * 20 ? ' (WARNING: the machine is busy with other work; figures will be noisy)' : ''),
  );

  receiver = await Receiver.start();
  progress(`receiver: pid ${receiver.pid} on ${receiver.url}`);

  for (let run = 1; run <= runs; run++) {
    for (const shape of only.has('steady') ? steadyShapes : []) {
      progress(`run ${run}/${runs}: steady state, ${shape} (${steadySeconds} s of publishing, between two raw POST readings)`);
      const s = await betweenRawReadings(receiver, (receiver) =>
        runSteady({ run, receiver, shape, seconds: steadySeconds, publishers: 32, endpoints: 100, fanout: 10, windowSeconds: 10, drainTimeoutMs: 600_000 }),
      );
      more.steady.push(s);
      progress(`run ${run}/${runs}: ${steadyLine(s)}`);
    }
    if (only.has('steadylong') && run === 1) {
      progress(`steady state for ${steadyLongSeconds} s, serve (between two raw POST readings)`);
      const s = await betweenRawReadings(receiver, (receiver) =>
        runSteady({ run, receiver, shape: 'serve', seconds: steadyLongSeconds, publishers: 32, endpoints: 100, fanout: 10, windowSeconds: 60, drainTimeoutMs: 1_200_000 }),
      );
      more.steadyLong.push(s);
      progress(`${steadyLine(s)}; last/second minute ${steadyDecay(s.result).toFixed(2)}${decayCpuText(s.result)}`);
      // each minute's rate and CPU a delivery per process, for reading a decay in the log
      s.result.windows.forEach((rate, i) => {
        const c = s.result.windowCpuUs[i];
        const us = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(0));
        progress(`  minute ${i + 1}: ${fmtInt(rate)}/s; µs a delivery: ${c ? [...Object.entries(c.procs).map(([k, v]) => `${k} ${us(v)}`), `pg ${us(c.postgres)}`].join(', ') : 'n/a'}`);
      });
    }
    if (only.has('raw')) {
      progress(`run ${run}/${runs}: raw undici POST baseline (${rawSeconds} s)`);
      await receiver.reset(false);
      const sampler = new CpuSampler({ bench: process.pid, receiver: receiver.pid }, false);
      const window: { cpu: CpuReport | null } = { cpu: null };
      const result = await rawPostRate(receiver.url, rawSeconds, {
        onWindowStart: () => sampler.begin(),
        onWindowEnd: () => (window.cpu = sampler.end()),
      });
      const cpu = window.cpu;
      if (!cpu) throw new Error('raw baseline: the measured window never closed');
      const raw: RawRun = { result, cpu };
      results.raw.push(raw);
      const rs = await receiver.stats();
      progress(
        `run ${run}/${runs}: raw ${fmtInt(result.rps)} requests/s (${fmtInt(result.requests)} in window, ${result.errors} errors, receiver saw ${fmtInt(rs.count)}); ` +
          `client CPU ${fmt1(cpu.procs.bench ?? Number.NaN)}%, receiver ${fmt1(cpu.procs.receiver ?? Number.NaN)}%, other load ${fmt1(cpu.other ?? Number.NaN)}%`,
      );
    }
    if (only.has('sustained')) {
      progress(`run ${run}/${runs}: Herald sustained delivery (${fmtInt(events * endpoints)} deliveries)`);
      const s: SustainedResult = await runSustained({
        run,
        receiver,
        events,
        endpoints,
        publishers: 16,
        timeoutMs: timeoutS * 1000,
        cpuProfDir,
      });
      results.sustained.push(s);
      const raw = results.raw[run - 1]?.result.rps;
      progress(
        `run ${run}/${runs}: Herald ${fmtInt(s.deliveriesPerSec)} deliveries/s over ${s.deliverySeconds.toFixed(1)} s` +
          (raw ? ` = ${((s.deliveriesPerSec / raw) * 100).toFixed(1)}% of raw` : '') +
          `; all recorded after ${s.recordedSeconds.toFixed(1)} s; ${s.duplicates} duplicates; worker RSS ${s.workerRssMb === null ? 'n/a' : fmtInt(s.workerRssMb) + ' MB'}; worker CPU ${fmt1(s.cpu.procs.worker ?? Number.NaN)}%, postgres ${fmt1(s.cpu.postgres ?? Number.NaN)}%, receiver ${fmt1(s.cpu.procs.receiver ?? Number.NaN)}%`,
      );
      progress(
        `run ${run}/${runs}: database during the drain: ${fmtInt(s.dbXactPerSec)} transactions/s, ${fmt1(s.deliveriesPerXact)} deliveries per transaction, ` +
          `${fmtInt(s.walBytesPerDelivery)} WAL bytes per delivery, ${fmt1(s.hotUpdatePct)}% HOT updates; machine ${fmt1(s.cpu.machine ?? Number.NaN)}% of ${os.cpus().length * 100}% (other load ${fmt1(s.cpu.other ?? Number.NaN)}%)`,
      );
      progress(`run ${run}/${runs}: PostgreSQL while publishing: ${describeActivity(s.publishActivity, ['publish'])}`);
      progress(`run ${run}/${runs}: PostgreSQL during the drain: ${describeActivity(s.drainActivity, ['record', 'claim', 'release', 'other'])}`);
    }
    // The noisy drain right after the all-healthy one it is divided by: minutes apart (with the
    // latency, intake and fan-out scenarios between them) the two drains met different moments of a
    // shared host, and the row read 70-160 % in one report.
    if (only.has('noisy')) {
      progress(`run ${run}/${runs}: noisy neighbour (one endpoint of ${endpoints} never answers)`);
      const s = await runSustained({ run, receiver, events, endpoints, publishers: 16, timeoutMs: timeoutS * 1000, shape: 'noisy' });
      more.noisy.push(s);
      progress(`run ${run}/${runs}: noisy: healthy ${fmtInt(s.deliveriesPerSec)} deliveries/s, worker peak RSS ${fmt1(s.workerPeakRssMb ?? Number.NaN)} MB`);
    }
    for (const rate of only.has('latency') ? rates : []) {
      progress(`run ${run}/${runs}: Herald publish→receive latency (${rate}/s for ${seconds} s)`);
      const l: LatencyResult = await runLatency({ run, receiver, rate, seconds, warmupSeconds, maxInFlight: 256 });
      results.latency.push(l);
      progress(
        `run ${run}/${runs}: latency @${rate}/s: p50 ${fmt1(l.p50)} ms, p95 ${fmt1(l.p95)} ms, p99 ${fmt1(l.p99)} ms, max ${fmt1(l.max)} ms; ` +
          `achieved ${fmt1(l.achievedRate)} events/s (${l.skipped} skipped at the in-flight cap, ${l.publishErrors} errors, ${l.matched}/${l.published} arrived); ` +
          `publish call p50 ${fmt1(l.publishP50)} ms; warm-up p99 ${fmt1(l.warmupP99)} ms; serve CPU ${fmt1(l.cpu.procs.serve ?? Number.NaN)}%, postgres ${fmt1(l.cpu.postgres ?? Number.NaN)}%, other load ${fmt1(l.cpu.other ?? Number.NaN)}%`,
      );
      progress(`run ${run}/${runs}: PostgreSQL: ${describeActivity(l.activity, ['publish', 'claim', 'record'])}`);
    }
    if (only.has('latency') && rates.length) {
      const rate = Math.max(...rates);
      progress(`run ${run}/${runs}: the latency floor (a minimal publish → commit → POST program, ${rate}/s for ${seconds} s)`);
      const l = await runLatency({ run, receiver, rate, seconds, warmupSeconds, maxInFlight: 256, floor: true });
      more.latencyFloor.push(l);
      progress(`run ${run}/${runs}: latency floor @${rate}/s: p50 ${fmt1(l.p50)} ms, p99 ${fmt1(l.p99)} ms, warm-up p99 ${fmt1(l.warmupP99)} ms (${l.matched}/${l.published} arrived)`);
    }
    if (only.has('intake')) {
      progress(`run ${run}/${runs}: intake (single events, then batches of 1,000, then the same batches against the floor and against it writing Herald's rows, then single events against the floor; ${intakeSeconds} s each)`);
      const list = await runIntake({ run, receiver, seconds: intakeSeconds, cpuProfDir });
      more.intake.push(list);
      for (const x of list) progress(`run ${run}/${runs}: intake ${x.mode}: ${fmtInt(x.eventsPerSec)} events/s (${x.clients} clients, request p50 ${fmt1(x.requestP50)} ms, p99 ${fmt1(x.requestP99)} ms)`);
    }
    if (only.has('fanout')) {
      progress(`run ${run}/${runs}: fan-out to ${fmtInt(fanoutEndpoints)} endpoints`);
      const f = await runFanout({ run, receiver, endpoints: fanoutEndpoints, events: 5 });
      more.fanout.push(f);
      progress(`run ${run}/${runs}: fan-out: all ${fmtInt(f.endpoints)} arrived after ${f.allArrivedMs.map(fmtInt).join(', ')} ms`);
    }
    if (only.has('filters')) {
      progress(`run ${run}/${runs}: publish to ${fmtInt(fanoutEndpoints)} endpoints with and without payload filters`);
      await runFilters({
        runs: 1,
        seconds: intakeSeconds,
        endpoints: fanoutEndpoints,
        modes: ['none', 'all-match', 'selective'],
        onResult: (r) => progress(`run ${run}/${runs}: filters ${r.mode}: ${fmt1(r.eventsPerSec)} events/s (${r.deliveriesPerEvent} deliveries per event)`),
      });
    }
    if (only.has('transformations')) {
      progress(`run ${run}/${runs}: delivery with a trivial transformation on every endpoint, and with none`);
      await runTransformations({
        runs: 1,
        deliveries: 10_000,
        receiver,
        onResult: (r) => progress(`run ${run}/${runs}: transformations ${r.mode}: ${fmtInt(r.deliveriesPerSec)} deliveries/s (${fmtInt(r.deliveries)} in ${r.seconds.toFixed(1)} s)`),
      });
    }
    if (only.has('noisy')) {
      const rate = Math.min(...rates);
      const l = await runLatency({ run, receiver, rate, seconds, warmupSeconds, maxInFlight: 256, neighbour: 'hang' });
      more.noisyLatency.push(l);
      progress(`run ${run}/${runs}: noisy latency @${rate}/s: p50 ${fmt1(l.p50)} ms, p99 ${fmt1(l.p99)} ms (${l.matched}/${l.published} arrived)`);
    }
    if (only.has('storm')) {
      progress(`run ${run}/${runs}: retry storm (${fmtInt(stormRetries)} queued retries, fresh events at 200/s)`);
      const st = await runStorm({ run, receiver, retries: stormRetries, rate: 200, seconds });
      more.storm.push(st);
      progress(
        `run ${run}/${runs}: storm: fresh p50/p99 ${fmt1(st.baseline.p50)}/${fmt1(st.baseline.p99)} ms before, ${fmt1(st.storm.p50)}/${fmt1(st.storm.p99)} ms during ` +
          `(publish call p99 ${fmt1(st.baseline.publishP99)} → ${fmt1(st.storm.publishP99)} ms; ${fmtInt(st.storm.stormPerSec)} storm deliveries/s)`,
      );
    }
    if (only.has('memory')) {
      progress(`run ${run}/${runs}: memory (every response is 16 MB)`);
      const s = await runSustained({ run, receiver, events: memoryEvents, endpoints, publishers: 16, timeoutMs: timeoutS * 1000, shape: 'big' });
      more.big.push(s);
      progress(`run ${run}/${runs}: memory: ${fmtInt(s.deliveriesPerSec)} deliveries/s, worker peak RSS ${fmt1(s.workerPeakRssMb ?? Number.NaN)} MB`);
    }
    if (only.has('idle')) {
      progress(`run ${run}/${runs}: idle worker (${idleSeconds} s)`);
      const x = await runIdle({ run, receiver, seconds: idleSeconds });
      more.idle.push(x);
      progress(`run ${run}/${runs}: idle: worker CPU ${fmt1(x.workerCpuPct ?? Number.NaN)}%, ${x.queriesPerSec.toFixed(2)} queries/s`);
    }
    if (only.has('backlog')) {
      progress(`run ${run}/${runs}: backlog drain (${fmtInt(backlogDeliveries)} due deliveries)`);
      const b = await runBacklog({ run, receiver, deliveries: backlogDeliveries, endpoints, timeoutMs: Math.max(600, backlogDeliveries / 500) * 1000 });
      more.backlog.push(b);
      progress(
        `run ${run}/${runs}: backlog: ${fmtInt(b.deliveriesPerSec)} deliveries/s over ${fmt1(b.drainSeconds)} s; claim pick ${fmt1(b.pickMsFull)} ms full → ${fmt1(b.pickMsEnd)} ms empty; peak RSS ${fmt1(b.peakRssMb ?? Number.NaN)} MB`,
      );
    }
  }

  let profileMd: string | null = null;
  if (cpuProfDir) {
    const files = results.sustained.map((s) => s.profileFile).filter((f): f is string => f !== null);
    const last = files[files.length - 1];
    if (last) {
      try {
        const summary = summarizeProfile(last, 20);
        process.stdout.write('\n' + formatProfile(summary, false) + '\n');
        profileMd =
          'Run with `BENCH_CPU_PROF=<dir>`: the sustained worker ran under `node --cpu-prof` (which slows it down somewhat). Self time, top functions:\n\n' +
          formatProfile(summary, true);
      } catch (err) {
        progress(`could not read the CPU profile ${last}: ${(err as Error).message}`);
      }
    }
  }

  if (results.raw.length && results.sustained.length && results.latency.length) process.stdout.write(consoleSummary(results) + '\n');
  if (reportPath && results.raw.length && results.sustained.length && results.latency.length) {
    writeReport(reportPath, results, profileMd);
    progress(`report written to ${reportPath}`);
  } else if (reportPath) {
    progress('report not written: it needs all three scenarios (BENCH_ONLY)');
  }
}

main()
  .then(() => exit.cleanup())
  .then(() => process.exit(0))
  .catch(async (err: unknown) => {
    // After a signal the scenario under way fails as its children go; that is not news.
    if (!exit.interrupted) process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    await exit.cleanup();
    process.exit(exit.interrupted ? 130 : 1);
  });
