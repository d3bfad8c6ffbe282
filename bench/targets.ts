/**
 * The scenarios beyond the sustained drain and the latency runs, and the
 * table that sets every measured figure against its target (issue 4).
 */
import type { BacklogResult } from './backlog.js';
import { cpuWaitText } from './cpu.js';
import type { FanoutResult } from './fanout.js';
import type { IdleResult } from './idle.js';
import type { IntakeResult } from './intake.js';
import type { LatencyResult } from './latency.js';
import { cpuBudgetUs, cpuPerDelivery, cpuPerDeliveryText, ratioToRaw, STEADY_GOAL, type SteadyResult, type SteadyRun, type SteadyShape, type WindowCpu } from './steady.js';
import type { StormResult } from './storm.js';
import type { SustainedResult } from './sustained.js';
import { fmt1, fmtInt, median } from './util.js';

export interface MoreResults {
  /** One list (single, batch) per run. */
  intake: IntakeResult[][];
  fanout: FanoutResult[];
  /** Sustained drain with one endpoint that never answers. */
  noisy: SustainedResult[];
  /** Latency at the lowest BENCH_RATE with a hanging neighbour endpoint. */
  noisyLatency: LatencyResult[];
  /** The latency scenario's top rate against floor-server.ts, each run. */
  latencyFloor: LatencyResult[];
  storm: StormResult[];
  /** Sustained drain where every receiver answers with a 16 MB body. */
  big: SustainedResult[];
  idle: IdleResult[];
  backlog: BacklogResult[];
  /** Steady state (publishing and delivering at once, fresh database), each with the raw POST rate measured just before and just after it. */
  steady: SteadyRun[];
  /** The same for BENCH_STEADY_LONG_SECONDS (one `herald serve` on PostgreSQL), rate per minute. */
  steadyLong: SteadyRun[];
}

export const emptyMore = (): MoreResults => ({
  intake: [],
  fanout: [],
  noisy: [],
  noisyLatency: [],
  latencyFloor: [],
  storm: [],
  big: [],
  idle: [],
  backlog: [],
  steady: [],
  steadyLong: [],
});

const STEADY: { shape: SteadyShape; what: string }[] = [
  { shape: 'serve', what: 'one `herald serve` on PostgreSQL' },
  { shape: 'split', what: '`herald api` + `herald worker` on PostgreSQL' },
  { shape: 'embedded', what: 'one `herald serve` on the embedded database (no DATABASE_URL)' },
];

/**
 * Rate of the last window over the rate of the second (the first includes
 * the start). The last window ends when publishing ends; when that cut it
 * short (under 90 % of a window) the one before it counts as the last.
 */
export function steadyDecay(r: SteadyResult): number {
  const last = lastFullWindow(r);
  return last === null ? Number.NaN : (r.windows[last] ?? Number.NaN) / (r.windows[1] ?? Number.NaN);
}

/** The index of the last window as long as asked for (the decay's "last minute"), null when there are too few. */
function lastFullWindow(r: SteadyResult): number | null {
  const n = r.windows.length;
  const last = (r.windowLengths[n - 1] ?? 0) >= 0.9 * r.windowSeconds ? n - 1 : n - 2;
  return last >= 2 ? last : null;
}

/**
 * The CPU a delivery took in the two windows steadyDecay compares: Herald's
 * processes with PostgreSQL, and the receiver, whose work per delivery is
 * the same whatever Herald's tables hold. Herald's growing alone means work
 * per delivery grew (dead rows, say); both growing alike, a host that slowed.
 */
export function decayCpuText(r: SteadyResult): string {
  const last = lastFullWindow(r);
  const [a, b] = last === null ? [] : [r.windowCpuUs[1], r.windowCpuUs[last]];
  if (!a || !b) return '';
  const herald = (w: WindowCpu) => {
    const parts = [...Object.entries(w.procs).filter(([k]) => k !== 'receiver' && k !== 'bench').map(([, v]) => v), w.postgres];
    return parts.some((v) => v === null) ? null : parts.reduce<number>((x, v) => x + v!, 0);
  };
  const f = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : fmtInt(x));
  return `; CPU a delivery in those two minutes: Herald and PostgreSQL ${f(herald(a))} and ${f(herald(b))} µs, the receiver (the same work for every delivery) ${f(a.procs.receiver)} and ${f(b.procs.receiver)} µs`;
}

/** What the targets table needs from the rest of the results. */
export interface TargetInputs {
  rawRps: number[];
  sustained: SustainedResult[];
  latency: LatencyResult[];
  more: MoreResults;
}

const med = (xs: number[]) => median(xs.filter((x) => Number.isFinite(x)));
const pct = (n: number) => (Number.isFinite(n) ? `${(n * 100).toFixed(0)}%` : 'n/a');
const verdict = (ok: boolean | null) => (ok === null ? 'not run' : ok ? '**met**' : '**not met**');
const runs = (xs: number[], f: (n: number) => string) => (xs.length > 1 ? ` (runs: ${xs.map(f).join(', ')})` : '');

function table(head: string[], rows: string[][]): string {
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** One row per target of issue 4: target, measured median (and the runs), met or not. */
export function targetsTable(t: TargetInputs): string {
  const rows: string[][] = [];
  const m = t.more;

  // the least work the scenario takes (floor-steady-server.ts), in the same runs: what the machine allows at all
  const floors = m.steady.filter((x) => x.result.shape === 'floor');
  const floorRatio = floors.map(ratioToRaw);
  // the same program writing Herald's own rows (floor-rows): what Herald's record of a delivery costs at the least
  const rowFloors = m.steady.filter((x) => x.result.shape === 'floor-rows');
  const rowFloorRatio = rowFloors.map(ratioToRaw);
  // CPU per delivery, every process of the run together (cpuPerDelivery), median of runs
  const cpuUs = (xs: SteadyRun[]) => med(xs.map((x) => cpuPerDelivery(x.result).total ?? Number.NaN));
  const floorNote =
    (floors.length
      ? `; the floor (a minimal program doing the same durable work, same runs): ${fmtInt(med(floors.map((x) => x.result.deliveriesPerSec)))}/s = ${med(floorRatio).toFixed(3)} × raw${runs(floorRatio, (n) => n.toFixed(3))}, ${fmtInt(cpuUs(floors))} µs of CPU a delivery`
      : '') +
    (rowFloors.length
      ? `; the same program writing Herald's rows (delivery record, queue row, attempt with headers): ${fmtInt(med(rowFloors.map((x) => x.result.deliveriesPerSec)))}/s = ${med(rowFloorRatio).toFixed(3)} × raw${runs(rowFloorRatio, (n) => n.toFixed(3))}, ${fmtInt(cpuUs(rowFloors))} µs of CPU a delivery`
      : '');
  for (const s of STEADY) {
    const xs = m.steady.filter((x) => x.result.shape === s.shape);
    const ratio = xs.map(ratioToRaw);
    const all = xs.every((x) => x.result.arrived >= x.result.deliveries);
    const goal = STEADY_GOAL[s.shape];
    rows.push([
      `steady state, ${s.what}: fresh database, 32 publishers of single events, fan-out 10 of 100 endpoints, ${fmtInt(xs[0]?.result.seconds ?? 60)} s, then drain`,
      `every accepted delivery arrives; ≥ ${goal} × raw POST`,
      xs.length
        ? `${fmtInt(med(xs.map((x) => x.result.deliveriesPerSec)))} deliveries/s = ${med(ratio).toFixed(3)} × raw${runs(ratio, (n) => n.toFixed(3))}; ` +
          `${fmtInt(med(xs.map((x) => x.result.publishEventsPerSec)))} events/s published; ${all ? 'every delivery arrived' : 'NOT every delivery arrived'}; ` +
          `${fmtInt(cpuUs(xs))} µs of CPU a delivery (every process of the run), where ${goal} × these runs' raw rate leaves at most ${fmtInt(med(xs.map((x) => cpuBudgetUs(x))))} µs on this machine's cores` +
          (s.shape === 'embedded' ? '' : floorNote)
        : 'n/a',
      verdict(xs.length ? all && med(ratio) >= goal : null),
    ]);
  }
  const long = m.steadyLong;
  const decay = long.map((x) => steadyDecay(x.result));
  rows.push([
    `steady state for ${fmtInt((long[0]?.result.seconds ?? 600) / 60)} minutes, one \`herald serve\` on PostgreSQL`,
    'rate of the last minute ≥ 0.9 × the rate of the second minute',
    long.length
      ? `last/second minute ${med(decay).toFixed(2)}${runs(decay, (n) => n.toFixed(2))}; per minute: ${long[0]!.result.windows.map(fmtInt).join(', ')} deliveries/s${decayCpuText(long[0]!.result)}`
      : 'n/a',
    verdict(long.length ? med(decay) >= 0.9 && long.every((x) => x.result.arrived >= x.result.deliveries) : null),
  ]);

  const rate = t.sustained.map((s) => s.deliveriesPerSec);
  const ratio = t.sustained.map((s, i) => s.deliveriesPerSec / (t.rawRps[i] ?? Number.NaN));
  rows.push([
    'sustained delivery, 1 KB, 100 endpoints, every attempt recorded',
    '≥ 10,000 deliveries/s and ≥ 0.35 of raw POST',
    rate.length ? `${fmtInt(med(rate))}/s = ${pct(med(ratio))} of raw${runs(ratio, pct)}` : 'n/a',
    verdict(rate.length ? med(rate) >= 10_000 && med(ratio) >= 0.35 : null),
  ]);

  const top = Math.max(0, ...t.latency.map((l) => l.targetRate));
  const lt = t.latency.filter((l) => l.targetRate === top);
  const lf = m.latencyFloor;
  rows.push([
    `publish→receive latency at ${fmtInt(top)} events/s`,
    'p50 ≤ 5 ms, p99 ≤ 25 ms (at 1,000/s)',
    lt.length
      ? `p50 ${fmt1(med(lt.map((l) => l.p50)))} ms, p99 ${fmt1(med(lt.map((l) => l.p99)))} ms, achieved ${fmtInt(med(lt.map((l) => l.achievedRate)))}/s${runs(lt.map((l) => l.p99), fmt1)}` +
        `; in the warm-up before it (the same load on a process just started, not counted): p99 ${fmt1(med(lt.map((l) => l.warmupP99)))} ms` +
        (lf.length ? `; the floor (a minimal publish → commit → POST program, same runs): p50 ${fmt1(med(lf.map((l) => l.p50)))} ms, p99 ${fmt1(med(lf.map((l) => l.p99)))} ms${runs(lf.map((l) => l.p99), fmt1)}` : '')
      : 'n/a',
    verdict(lt.length ? top >= 1000 && med(lt.map((l) => l.p50)) <= 5 && med(lt.map((l) => l.p99)) <= 25 : null) +
      (lf.length && (med(lf.map((l) => l.p50)) > 5 || med(lf.map((l) => l.p99)) > 25) ? ' (the floor itself misses the target on this machine)' : ''),
  ]);

  for (const [mode, target, goal] of [
    ['single', '≥ 5,000 events/s', 5_000],
    ['batch', '≥ 50,000 events/s', 50_000],
  ] as const) {
    const xs = m.intake.map((list) => list.find((x) => x.mode === mode)?.eventsPerSec ?? Number.NaN);
    const one = m.intake[0]?.find((x) => x.mode === mode);
    // the same load against a minimal durable intake (bench/floor-server.ts), same runs
    const floorMode = mode === 'batch' ? 'floor' : 'floor-single';
    const floor = m.intake.flatMap((list) => list.filter((x) => x.mode === floorMode).map((x) => x.eventsPerSec));
    // batches only: the same program writing Herald's own rows (bench/floor-server.ts, FLOOR_RECORD=herald)
    const rowsFloor = mode === 'batch' ? m.intake.flatMap((list) => list.filter((x) => x.mode === 'floor-rows').map((x) => x.eventsPerSec)) : [];
    const floorNote =
      (floor.length
        ? `; a minimal program doing the least durable intake work reached ${fmtInt(med(floor))} events/s on the same load${runs(floor, fmtInt)}, so Herald is at ${pct(med(xs) / med(floor))} of that floor`
        : '') +
      (rowsFloor.length
        ? `; the same program writing Herald's rows (event, delivery record, queue row, Herald's indexes) reached ${fmtInt(med(rowsFloor))} events/s${runs(rowsFloor, fmtInt)} (Herald at ${pct(med(xs) / med(rowsFloor))} of it)`
        : '');
    // batches only: the deliveries the route left to the workers, written out afterwards (bench/intake.ts)
    const out = mode === 'batch' ? m.intake.flatMap((list) => list.filter((x) => x.mode === 'batch' && x.writtenOut).map((x) => x.writtenOut!.deliveries / x.writtenOut!.seconds)) : [];
    const outNote = out.length ? `; the deliveries it left to the workers were then written out at ${fmtInt(med(out))}/s by the worker's statement on one connection${runs(out, fmtInt)}` : '';
    rows.push([
      mode === 'single' ? 'intake: single-event `POST …/events`, durable before 202' : 'intake: `POST …/events/batch`, 1,000 events per call',
      target,
      xs.length ? `${fmtInt(med(xs))} events/s with ${one?.clients} clients${runs(xs, fmtInt)}${floorNote}${outNote}` : 'n/a',
      verdict(xs.length ? med(xs) >= goal : null) + (floor.length && med(floor) < goal ? ' (the floor itself is below the target on this machine)' : ''),
    ]);
  }

  const fan = m.fanout.map((f) => Math.max(...f.allArrivedMs));
  rows.push([
    `fan-out: one event to ${fmtInt(m.fanout[0]?.endpoints ?? 1000)} endpoints`,
    'all received within 1 s',
    fan.length ? `slowest event of each run: all arrived after ${fmtInt(med(fan))} ms (median of runs; each run ${m.fanout[0]?.allArrivedMs.length} events)${runs(fan, fmtInt)}` : 'n/a',
    verdict(fan.length ? med(fan) <= 1000 : null),
  ]);

  const bl = m.backlog;
  const blRatio = bl.map((b, i) => b.deliveriesPerSec / (t.sustained[i]?.deliveriesPerSec ?? Number.NaN));
  const b0 = bl[0];
  rows.push([
    `backlog: ${fmtInt(b0?.deliveries ?? 1_000_000)} due deliveries after an outage`,
    'drains at ≥ 0.8 of the steady rate; claim time flat from full to empty',
    bl.length
      ? `${fmtInt(med(bl.map((b) => b.deliveriesPerSec)))}/s = ${pct(med(blRatio))} of the sustained rate${runs(blRatio, pct)}; ` +
        `claim pick ${fmt1(med(bl.map((b) => b.pickMsFull)))} ms full, ${fmt1(med(bl.map((b) => b.pickMsHalf)))} ms half, ${fmt1(med(bl.map((b) => b.pickMsEnd)))} ms near empty`
      : 'n/a',
    // "flat": near empty at most a quarter (and 1 ms) slower than full
    verdict(bl.length ? med(blRatio) >= 0.8 && med(bl.map((b) => b.pickMsEnd)) <= 1.25 * med(bl.map((b) => b.pickMsFull)) + 1 : null),
  ]);

  const nz = m.noisy.map((s, i) => s.deliveriesPerSec / (t.sustained[i]?.deliveriesPerSec ?? Number.NaN));
  const nl = m.noisyLatency;
  const base = t.latency.filter((l) => l.targetRate === nl[0]?.targetRate);
  rows.push([
    'noisy neighbour: 1 endpoint that times out + 99 healthy',
    'healthy throughput ≥ 0.9 of the run without it; healthy p99 unchanged',
    m.noisy.length
      ? `healthy throughput ${pct(med(nz))} of the all-healthy drain${runs(nz, pct)}` +
        (nl.length ? `; p99 at ${nl[0]?.targetRate}/s ${fmt1(med(nl.map((l) => l.p99)))} ms beside a hanging endpoint vs ${fmt1(med(base.map((l) => l.p99)))} ms alone` : '')
      : 'n/a',
    verdict(m.noisy.length ? med(nz) >= 0.9 && (!nl.length || med(nl.map((l) => l.p99)) <= 1.25 * med(base.map((l) => l.p99)) + 5) : null),
  ]);

  const st = m.storm;
  rows.push([
    `retry storm: ${fmtInt(st[0]?.retries ?? 100_000)} queued retries come back`,
    'fresh first attempts to other endpoints keep p99 ≤ 50 ms',
    st.length
      ? `fresh p99 ${fmt1(med(st.map((s) => s.storm.p99)))} ms during the storm vs ${fmt1(med(st.map((s) => s.baseline.p99)))} ms before it, at ${st[0]?.rate}/s; ` +
        `storm drained at ${fmtInt(med(st.map((s) => s.storm.stormPerSec)))}/s meanwhile${runs(st.map((s) => s.storm.p99), fmt1)}`
      : 'n/a',
    verdict(st.length ? med(st.map((s) => s.storm.p99)) <= 50 : null),
  ]);

  const rss = [...t.sustained, ...m.noisy, ...m.big].map((s) => s.workerPeakRssMb ?? Number.NaN).concat(bl.map((b) => b.peakRssMb ?? Number.NaN));
  const peak = Math.max(...rss.filter((x) => Number.isFinite(x)));
  const bigPeak = Math.max(...m.big.map((s) => s.workerPeakRssMb ?? Number.NaN).filter((x) => Number.isFinite(x)));
  rows.push([
    'memory: worker RSS at any backlog and response size',
    '≤ 200 MB',
    Number.isFinite(peak)
      ? `peak ${fmtInt(peak)} MB over every drain (incl. ${fmtInt(b0?.deliveries ?? 0)} backlog)` + (Number.isFinite(bigPeak) ? `; ${fmtInt(bigPeak)} MB with 16 MB responses` : '')
      : 'n/a',
    verdict(Number.isFinite(peak) ? peak <= 200 : null),
  ]);

  const id = m.idle;
  rows.push([
    'idle worker',
    '≤ 1 % CPU and ≤ 1 query/s',
    id.length ? `${fmt1(med(id.map((x) => x.workerCpuPct ?? Number.NaN)))} % CPU, ${med(id.map((x) => x.queriesPerSec)).toFixed(2)} queries/s over ${fmtInt(id[0]?.seconds ?? 0)} s` : 'n/a',
    verdict(id.length ? med(id.map((x) => x.workerCpuPct ?? Number.NaN)) <= 1 && med(id.map((x) => x.queriesPerSec)) <= 1 : null),
  ]);
  return table(['scenario', 'target', 'measured (median of runs)', 'verdict'], rows);
}

/** Per-run figures of the extra scenarios. */
export function moreDetails(t: TargetInputs): string {
  const m = t.more;
  const out: string[] = [];
  const steady = [...m.steady, ...m.steadyLong];
  if (steady.length) {
    out.push('### Steady state', '', table(
      ['shape', 'publishing s', 'raw POST/s (before / after)', 'events/s in', 'delivered/s while publishing', 'deliveries/s overall', '÷ raw', 'drain s', 'arrived', 'duplicates', 'rate per window', 'CPU: herald, postgres, receiver, other', 'waiting for a CPU (main threads; postgres summed), idle', 'CPU per delivery (µs), and what the goal allows'],
      steady.map((run) => {
        const r = run.result;
        return [
          r.shape,
          fmtInt(r.seconds),
          `${fmtInt(run.rawBefore)} / ${fmtInt(run.rawAfter)}`,
          fmtInt(r.publishEventsPerSec),
          fmtInt(r.deliveredWhilePublishingPerSec),
          fmtInt(r.deliveriesPerSec),
          ratioToRaw(run).toFixed(3),
          fmt1(r.drainSeconds),
          `${fmtInt(r.arrived)}/${fmtInt(r.deliveries)}`,
          String(r.duplicates),
          r.windows.map(fmtInt).join(', '),
          [
            Object.entries(r.cpu.procs).filter(([k]) => k !== 'bench' && k !== 'receiver').map(([k, v]) => `${k} ${v === null ? 'n/a' : v.toFixed(0)}%`).join(' + '),
            `pg ${r.cpu.postgres === null ? 'n/a' : r.cpu.postgres.toFixed(0) + '%'}`,
            `receiver ${fmt1(r.cpu.procs.receiver ?? Number.NaN)}%`,
            `other ${r.cpu.other === null ? 'n/a' : r.cpu.other.toFixed(0) + '%'}`,
          ].join(', '),
          cpuWaitText(r.cpu),
          cpuPerDeliveryText(run),
        ];
      }),
    ), '');
  }
  if (m.intake.length) {
    out.push('### Intake', '', table(
      ['run', 'mode', 'clients', 'events/request', 'events/s', '÷ raw POST (same run)', 'request p50 / p99 ms', '`herald api` CPU', 'PostgreSQL CPU'],
      m.intake.flatMap((list, i) =>
        list.map((x) => [String(i + 1), x.mode, String(x.clients), fmtInt(x.eventsPerRequest), fmtInt(x.eventsPerSec), pct(x.eventsPerSec / (t.rawRps[i] ?? Number.NaN)), `${fmt1(x.requestP50)} / ${fmt1(x.requestP99)}`, `${fmt1(x.cpu.procs.api ?? Number.NaN)}%`, `${fmt1(x.cpu.postgres ?? Number.NaN)}%`]),
      ),
    ), '');
  }
  if (m.fanout.length) {
    out.push('### Fan-out', '', table(
      ['run', 'endpoints', 'publish → first arrival, ms (each event)', 'publish → all arrived, ms (each event)', 'duplicates', '`herald serve` RSS'],
      m.fanout.map((f, i) => [String(i + 1), fmtInt(f.endpoints), f.firstArrivedMs.map(fmtInt).join(', '), f.allArrivedMs.map(fmtInt).join(', '), String(f.duplicates), f.rssMb === null ? 'n/a' : `${fmtInt(f.rssMb)} MB`]),
    ), '');
  }
  if (m.backlog.length) {
    out.push('### Backlog drain', '', table(
      ['run', 'deliveries', 'set-up s', 'drain s', 'deliveries/s', '÷ raw POST (same run)', '÷ sustained (same run)', 'rate per tenth of the backlog, first → last', 'claim pick ms: full / half / empty', 'duplicates', 'worker peak RSS'],
      m.backlog.map((b, i) => [
        String(i + 1), fmtInt(b.deliveries), fmt1(b.setupSeconds), fmt1(b.drainSeconds), fmtInt(b.deliveriesPerSec),
        pct(b.deliveriesPerSec / (t.rawRps[i] ?? Number.NaN)),
        pct(b.deliveriesPerSec / (t.sustained[i]?.deliveriesPerSec ?? Number.NaN)),
        b.decileRates.map(fmtInt).join(', '), `${fmt1(b.pickMsFull)} / ${fmt1(b.pickMsHalf)} / ${fmt1(b.pickMsEnd)}`, String(b.duplicates),
        b.peakRssMb === null ? 'n/a' : `${fmtInt(b.peakRssMb)} MB`,
      ]),
    ), '');
  }
  if (m.noisy.length || m.noisyLatency.length) {
    out.push('### Noisy neighbour', '', table(
      ['run', 'healthy deliveries/s beside a hanging endpoint', '÷ raw POST (same run)', 'all-healthy drain (same run)', 'ratio', `latency p50 / p99 ms at ${m.noisyLatency[0]?.targetRate ?? '?'}/s beside it`, 'same rate, alone (same run)'],
      m.noisy.map((s, i) => {
        const nl = m.noisyLatency[i];
        const alone = t.latency.filter((l) => l.targetRate === nl?.targetRate)[i];
        return [
          String(i + 1), fmtInt(s.deliveriesPerSec), pct(s.deliveriesPerSec / (t.rawRps[i] ?? Number.NaN)), fmtInt(t.sustained[i]?.deliveriesPerSec ?? Number.NaN),
          pct(s.deliveriesPerSec / (t.sustained[i]?.deliveriesPerSec ?? Number.NaN)),
          nl ? `${fmt1(nl.p50)} / ${fmt1(nl.p99)}` : 'n/a', alone ? `${fmt1(alone.p50)} / ${fmt1(alone.p99)}` : 'n/a',
        ];
      }),
    ), '');
  }
  if (m.storm.length) {
    out.push('### Retry storm', '', table(
      ['run', 'queued retries', 'fresh events/s', 'before: fresh p50 / p99 / max ms', 'during the storm: fresh p50 / p99 / max ms', 'fresh arrived', 'storm deliveries/s meanwhile', '÷ raw POST (same run)'],
      m.storm.map((s, i) => [
        String(i + 1), fmtInt(s.retries), String(s.rate),
        `${fmt1(s.baseline.p50)} / ${fmt1(s.baseline.p99)} / ${fmt1(s.baseline.max)}`,
        `${fmt1(s.storm.p50)} / ${fmt1(s.storm.p99)} / ${fmt1(s.storm.max)}`,
        `${fmtInt(s.storm.arrived)}/${fmtInt(s.storm.fresh)}`, fmtInt(s.storm.stormPerSec), pct(s.storm.stormPerSec / (t.rawRps[i] ?? Number.NaN)),
      ]),
    ), '');
  }
  if (m.big.length) {
    out.push('### Memory with 16 MB responses', '', table(
      ['run', 'deliveries', 'deliveries/s', '÷ raw POST (same run)', 'worker peak RSS', 'worker RSS at end'],
      m.big.map((s, i) => [String(i + 1), fmtInt(s.expected), fmtInt(s.deliveriesPerSec), pct(s.deliveriesPerSec / (t.rawRps[i] ?? Number.NaN)), s.workerPeakRssMb === null ? 'n/a' : `${fmtInt(s.workerPeakRssMb)} MB`, s.workerRssMb === null ? 'n/a' : `${fmtInt(s.workerRssMb)} MB`]),
    ), '');
  }
  if (m.idle.length) {
    out.push('### Idle worker', '', table(
      ['run', 'window s', 'worker CPU', 'queries/s'],
      m.idle.map((x, i) => [String(i + 1), fmt1(x.seconds), `${fmt1(x.workerCpuPct ?? Number.NaN)}%`, x.queriesPerSec.toFixed(2)]),
    ), '');
  }
  return out.join('\n');
}
