/**
 * The transformation scenario alone (bench/transformations.ts):
 *   npm run build:bench && node dist-bench/bench/transformations-main.js
 * BENCH_RUNS (default 5) measurements per mode, BENCH_TRANSFORM_DELIVERIES
 * per measurement (default 20000). Prints each measurement, then the
 * medians and the median of the per-run ratios trivial / none (runs
 * alternate which mode goes first).
 */
import { withReceiver } from './receiver.js';
import { runTransformations } from './transformations.js';
import { envInt, fmtInt, median, progress } from './util.js';

const runs = envInt('BENCH_RUNS', 5);
const deliveries = envInt('BENCH_TRANSFORM_DELIVERIES', 20_000);
await withReceiver(async (receiver) => {
  const results = await runTransformations({
    runs,
    deliveries,
    receiver,
    onResult: (r) => progress(`transformations ${r.mode}: ${fmtInt(r.deliveriesPerSec)} deliveries/s (${fmtInt(r.deliveries)} in ${r.seconds.toFixed(1)} s)`),
  });
  const none = results.filter((r) => r.mode === 'none').map((r) => r.deliveriesPerSec);
  const trivial = results.filter((r) => r.mode === 'trivial').map((r) => r.deliveriesPerSec);
  const ratios = trivial.map((t, i) => t / none[i]!);
  progress(
    `median none ${fmtInt(median(none))}/s, trivial ${fmtInt(median(trivial))}/s over ${runs} runs; ` +
      `ratio trivial/none: median ${median(ratios).toFixed(3)} (runs: ${ratios.map((x) => x.toFixed(3)).join(' ')})`,
  );
});
