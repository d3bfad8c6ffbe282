/**
 * The payload-filter scenario alone (bench/filters.ts):
 *   npm run build:bench && node dist-bench/bench/filters-main.js
 * BENCH_RUNS (default 3), BENCH_FILTER_SECONDS per measurement (default 10),
 * BENCH_FANOUT endpoints (default 1000), BENCH_FILTER_MODES (default
 * none,all-match,selective). Prints each measurement, then the medians and
 * their ratio to `none`.
 */
import { cleanUpOnExit } from './children.js';
import { runFilters, type FilterMode } from './filters.js';
import { envInt, fmtInt, median, progress } from './util.js';

const runs = envInt('BENCH_RUNS', 3);
const seconds = envInt('BENCH_FILTER_SECONDS', 10);
const endpoints = envInt('BENCH_FANOUT', 1000);
const modes = (process.env.BENCH_FILTER_MODES || 'none,all-match,selective').split(',').map((s) => s.trim()) as FilterMode[];
const exit = cleanUpOnExit(async () => undefined);
try {
  const results = await runFilters({
    runs,
    seconds,
    endpoints,
    modes,
    onResult: (r) =>
      progress(
        `filters ${r.mode}: ${r.eventsPerSec.toFixed(1)} events/s (${fmtInt(r.eventsPerSec * r.deliveriesPerEvent)} deliveries/s, ${r.deliveriesPerEvent} per event); ` +
          `CPU per event: api ${r.apiCpuMsPerEvent?.toFixed(2)} ms, PostgreSQL ${r.postgresCpuMsPerEvent?.toFixed(2)} ms`,
      ),
  });
  const base = median(results.filter((r) => r.mode === 'none').map((r) => r.eventsPerSec));
  for (const mode of modes) {
    const of = results.filter((r) => r.mode === mode);
    const m = median(of.map((r) => r.eventsPerSec));
    const cpu = median(of.map((r) => (r.apiCpuMsPerEvent ?? Number.NaN) + (r.postgresCpuMsPerEvent ?? Number.NaN)));
    progress(
      `median ${mode}: ${m.toFixed(1)} events/s over ${runs} runs` +
        (mode !== 'none' && base ? ` = ${(m / base).toFixed(3)} of none` : '') +
        `; CPU (api + PostgreSQL) ${cpu.toFixed(2)} ms per event`,
    );
  }
} finally {
  await exit.cleanup();
}
