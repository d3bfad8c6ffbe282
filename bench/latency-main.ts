/**
 * The latency scenario alone, for quick before/after runs:
 *   npm run build:bench && node dist-bench/bench/latency-main.js [herald|floor ...]
 * BENCH_RATE (default 1000), BENCH_SECONDS (default 10), BENCH_LATENCY_WARMUP
 * (default 3) and BENCH_RUNS (default 1): the same runs as `npm run bench`'s
 * latency rows, one line each.
 */
import { runLatency } from './latency.js';
import { withReceiver } from './receiver.js';
import { envInt, fmtInt, progress } from './util.js';

const targets = process.argv.slice(2).length ? process.argv.slice(2) : ['herald'];
const rate = envInt('BENCH_RATE', 1000);
const seconds = envInt('BENCH_SECONDS', 10);
const warmupSeconds = envInt('BENCH_LATENCY_WARMUP', 3);
const runs = envInt('BENCH_RUNS', 1);
await withReceiver(async (receiver) => {
  for (let run = 1; run <= runs; run++) {
    for (const target of targets) {
      const l = await runLatency({ run, receiver, rate, seconds, warmupSeconds, maxInFlight: 256, floor: target === 'floor' });
      const cpu = Object.entries(l.cpu.procs).map(([k, v]) => `${k} ${v?.toFixed(0)}%`).join(', ');
      progress(
        `${target} run ${run}: ${fmtInt(l.achievedRate)}/s, ${fmtInt(l.matched)}/${fmtInt(l.published)} matched | p50 ${l.p50.toFixed(1)} p95 ${l.p95.toFixed(1)} ` +
          `p99 ${l.p99.toFixed(1)} max ${l.max.toFixed(1)} ms | publish call p50 ${l.publishP50.toFixed(1)} p99 ${l.publishP99.toFixed(1)} ms | warm-up p99 ${l.warmupP99.toFixed(1)} | ` +
          `cpu: ${cpu}, pg ${l.cpu.postgres?.toFixed(0)}%`,
      );
    }
  }
});
