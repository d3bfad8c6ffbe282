/**
 * The steady-state scenario alone, for quick before/after runs:
 *   npm run build:bench && node dist-bench/bench/steady-main.js [serve|split|embedded|floor ...]
 * BENCH_STEADY_SECONDS (default 20) and BENCH_RUNS (default 1); each run
 * measures the raw POST rate just before and just after, so every rate comes
 * with its ratio to their mean.
 */
import { withReceiver } from './receiver.js';
import { betweenRawReadings, runSteady, steadyLine, type SteadyShape } from './steady.js';
import { envInt, progress } from './util.js';

const shapes = (process.argv.slice(2).length ? process.argv.slice(2) : ['serve']) as SteadyShape[];
const seconds = envInt('BENCH_STEADY_SECONDS', 20);
const runs = envInt('BENCH_RUNS', 1);
await withReceiver(async (receiver) => {
  for (let run = 1; run <= runs; run++) {
    for (const shape of shapes) {
      const raw = await betweenRawReadings(receiver, (receiver) =>
        runSteady({ run, receiver, shape, seconds, publishers: 32, endpoints: 100, fanout: 10, windowSeconds: 10, drainTimeoutMs: 300_000, cpuProfDir: process.env.BENCH_CPU_PROF }),
      );
      const r = raw.result;
      progress(`run ${run}/${runs}: ${steadyLine(raw)}`);
      for (const s of r.activity?.statements ?? []) {
        const waits = Object.entries(s.waits).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(0)}%`).join(', ');
        progress(`    ${s.kind}: running ${s.busyPct.toFixed(0)}% of samples, ${s.avgRunning.toFixed(2)} at once; ${waits}`);
      }
    }
  }
});
