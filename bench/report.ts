/**
 * Console table and docs/benchmarks.md. The markdown is regenerated on
 * every run; the block between the `notes` markers is kept from the
 * previous file, so hand-written analysis survives a re-run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ActivitySummary, StatementKind } from './activity.js';
import type { CpuReport } from './cpu.js';
import type { LatencyResult } from './latency.js';
import type { RawResult } from './raw-post.js';
import type { SustainedResult } from './sustained.js';
import { moreDetails, targetsTable, type MoreResults, type TargetInputs } from './targets.js';
import { fmt1, fmtInt, fmtPct, median } from './util.js';

export interface RawRun {
  result: RawResult;
  cpu: CpuReport;
}

export interface BenchResults {
  date: Date;
  machine: { cpuModel: string; cores: number; memGiB: number; os: string; node: string; pg: string; pgSettings: Record<string, string> };
  /** Herald revision measured (git). */
  revision: string;
  knobs: Record<string, string>;
  heraldConfig: Record<string, string>;
  /** The worker settings in effect, as Herald's config loader resolves them. */
  heraldEffective: string;
  /** Machine CPU in use by other work just before the bench started, percent of one core. */
  backgroundLoadPct: number | null;
  raw: RawRun[];
  sustained: SustainedResult[];
  latency: LatencyResult[];
  more: MoreResults;
}

const targetInputs = (r: BenchResults): TargetInputs => ({ rawRps: r.raw.map((x) => x.result.rps), sustained: r.sustained, latency: r.latency, more: r.more });

const NOTES_START = '<!-- notes:start -->';
const NOTES_END = '<!-- notes:end -->';

const med = (xs: number[]) => median(xs.filter((x) => Number.isFinite(x)));
const ratios = (r: BenchResults) => r.sustained.map((s, i) => s.deliveriesPerSec / (r.raw[i]?.result.rps ?? Number.NaN));

/** CPU microseconds per delivery/request of one process over a window. */
const usPer = (pct: number | null | undefined, seconds: number, n: number) =>
  pct === null || pct === undefined || n <= 0 ? Number.NaN : ((pct / 100) * seconds * 1e6) / n;

function table(head: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const sep = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function throughputTable(r: BenchResults): string {
  const runs = r.raw.map((_, i) => `run ${i + 1}`);
  const row = (name: string, xs: number[], f: (n: number) => string) => [name, ...xs.map(f), f(med(xs))];
  const rt = ratios(r);
  return table(
    ['scenario', ...runs, 'median'],
    [
      row('0. raw undici POST, 64 connections (requests/s)', r.raw.map((x) => x.result.rps), fmtInt),
      row('1. Herald sustained delivery, first→last arrival (deliveries/s)', r.sustained.map((x) => x.deliveriesPerSec), fmtInt),
      row('1. Herald ÷ raw (same run)', rt, (n) => (Number.isFinite(n) ? `${(n * 100).toFixed(1)}%` : 'n/a')),
      row('1. worker thawed → all outcomes recorded in PostgreSQL (deliveries/s)', r.sustained.map((x) => x.recordedPerSec), fmtInt),
      row('1. cold start: worker spawned → its first delivery arrived (ms)', r.sustained.map((x) => x.coldStart.firstArrivalMs), fmtInt),
      row('1. cold start: its first deliveries (the warm-up), first→last arrival (deliveries/s)', r.sustained.map((x) => x.coldStart.deliveriesPerSec), fmtInt),
      row('1. backlog publish, 16 clients (events/s, ×endpoints deliveries)', r.sustained.map((x) => x.publishEventsPerSec), fmtInt),
      row('other load on the machine during 0. raw (% of one core)', r.raw.map((x) => x.cpu.other ?? Number.NaN), fmtPct),
      row('other load on the machine during 1. drain (% of one core)', r.sustained.map((x) => x.cpu.other ?? Number.NaN), fmtPct),
    ],
    ['l', ...runs.map(() => 'r' as const), 'r'],
  );
}

const ratesOf = (r: BenchResults) => [...new Set(r.latency.map((l) => l.targetRate))];

function latencyTable(r: BenchResults): string {
  const rows: string[][] = [];
  for (const rate of ratesOf(r)) {
    const ls = r.latency.filter((l) => l.targetRate === rate);
    ls.forEach((l, i) =>
      rows.push([
        `${fmtInt(rate)}/s, run ${i + 1}`,
        fmt1(l.achievedRate),
        fmtInt(l.published),
        fmt1(l.p50),
        fmt1(l.p95),
        fmt1(l.p99),
        fmt1(l.max),
        `${fmt1(l.publishP50)} / ${fmt1(l.publishP99)}`,
        fmt1(l.warmupP99),
        `${l.matched}/${l.published}`,
        fmtPct(l.cpu.procs.serve),
        fmtPct(l.cpu.postgres),
      ]),
    );
    const m = (f: (l: LatencyResult) => number | null) => med(ls.map((l) => f(l) ?? Number.NaN));
    rows.push([
      `**${fmtInt(rate)}/s, median**`,
      `**${fmt1(m((l) => l.achievedRate))}**`,
      fmtInt(m((l) => l.published)),
      `**${fmt1(m((l) => l.p50))}**`,
      `**${fmt1(m((l) => l.p95))}**`,
      `**${fmt1(m((l) => l.p99))}**`,
      fmt1(m((l) => l.max)),
      `${fmt1(m((l) => l.publishP50))} / ${fmt1(m((l) => l.publishP99))}`,
      fmt1(m((l) => l.warmupP99)),
      '',
      fmtPct(m((l) => l.cpu.procs.serve ?? null)),
      fmtPct(m((l) => l.cpu.postgres)),
    ]);
  }
  return table(
    ['target rate, run', 'achieved events/s', 'events', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'publish call p50 / p99 ms', 'warm-up p99 ms', 'arrived', '`herald serve` CPU', 'PostgreSQL CPU'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

interface CpuFacts {
  cores: number;
  machinePct: number;
  workerPct: number;
  pgPct: number;
  receiverPct: number;
  apiPct: number;
  workerUs: number;
  pgUs: number;
  receiverUs: number;
  rawClientUs: number;
  rawReceiverUs: number;
  rawMachinePct: number;
}

function cpuFacts(r: BenchResults): CpuFacts {
  const s = r.sustained;
  const perDelivery = (f: (x: SustainedResult) => number | null | undefined) => med(s.map((x) => usPer(f(x), x.cpu.seconds, x.received)));
  const pct = (f: (x: SustainedResult) => number | null | undefined) => med(s.map((x) => f(x) ?? Number.NaN));
  return {
    cores: r.machine.cores,
    machinePct: pct((x) => x.cpu.machine),
    workerPct: pct((x) => x.cpu.procs.worker),
    pgPct: pct((x) => x.cpu.postgres),
    receiverPct: pct((x) => x.cpu.procs.receiver),
    apiPct: pct((x) => x.cpu.procs.api),
    workerUs: perDelivery((x) => x.cpu.procs.worker),
    pgUs: perDelivery((x) => x.cpu.postgres),
    receiverUs: perDelivery((x) => x.cpu.procs.receiver),
    rawClientUs: med(r.raw.map((x) => usPer(x.cpu.procs.bench, x.cpu.seconds, x.result.requests))),
    rawReceiverUs: med(r.raw.map((x) => usPer(x.cpu.procs.receiver, x.cpu.seconds, x.result.requests))),
    rawMachinePct: med(r.raw.map((x) => x.cpu.machine ?? Number.NaN)),
  };
}

function cpuTable(r: BenchResults): string {
  const f = cpuFacts(r);
  const us = (n: number) => (Number.isFinite(n) ? fmtInt(n) : 'n/a');
  return table(
    ['process', 'raw baseline: CPU (% of one core)', 'raw: CPU µs per request', 'Herald drain: CPU (% of one core)', 'Herald: CPU µs per delivery'],
    [
      ['HTTP client (bench process / `herald worker`)', fmtPct(med(r.raw.map((x) => x.cpu.procs.bench ?? Number.NaN))), us(f.rawClientUs), fmtPct(f.workerPct), us(f.workerUs)],
      ['receiver (separate process)', fmtPct(med(r.raw.map((x) => x.cpu.procs.receiver ?? Number.NaN))), us(f.rawReceiverUs), fmtPct(f.receiverPct), us(f.receiverUs)],
      ['PostgreSQL (backends of the bench database + WAL writer, checkpointer)', '', '', fmtPct(f.pgPct), us(f.pgUs)],
      ['`herald api` (idle during the drain)', '', '', fmtPct(f.apiPct), ''],
      ['other load on the machine (not the bench)', fmtPct(med(r.raw.map((x) => x.cpu.other ?? Number.NaN))), '', fmtPct(med(r.sustained.map((x) => x.cpu.other ?? Number.NaN))), ''],
      [`whole machine (${f.cores} cores = ${f.cores * 100}%)`, fmtPct(f.rawMachinePct), '', fmtPct(f.machinePct), ''],
    ],
    ['l', 'r', 'r', 'r', 'r'],
  );
}

function dbTable(r: BenchResults): string {
  const s = r.sustained;
  return table(
    ['run', 'deliveries', 'arrived', 'duplicates', 'attempts rows', 'DB transactions/s', 'deliveries per transaction', 'WAL bytes per delivery', 'HOT updates of deliveries', 'worker RSS at end'],
    s.map((x, i) => [
      `run ${i + 1}`,
      fmtInt(x.expected),
      fmtInt(x.received),
      fmtInt(x.duplicates),
      fmtInt(x.attempts),
      fmtInt(x.dbXactPerSec),
      fmt1(x.deliveriesPerXact),
      fmtInt(x.walBytesPerDelivery),
      fmtPct(x.hotUpdatePct),
      x.workerRssMb === null ? 'n/a' : `${fmtInt(x.workerRssMb)} MB`,
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

const act = (a: ActivitySummary, kind: StatementKind) => a.statements.find((x) => x.kind === kind);
const busyOf = (a: ActivitySummary, kind: StatementKind) => act(a, kind)?.busyPct ?? 0;
const waitOf = (a: ActivitySummary, kind: StatementKind, wait: string) => act(a, kind)?.waits[wait] ?? 0;
const avgOf = (a: ActivitySummary, kind: StatementKind) => act(a, kind)?.avgRunning ?? 0;

function activityTable(r: BenchResults): string {
  const rows: string[][] = [];
  const add = (phase: string, list: ActivitySummary[], kinds: StatementKind[]) => {
    for (const k of kinds) {
      const present = list.filter((a) => act(a, k));
      if (present.length === 0) continue;
      // Unrecognised statements are listed only when they take a visible share.
      if (k === 'other' && med(list.map((a) => busyOf(a, k))) < 1) continue;
      const waits = new Map<string, number[]>();
      for (const a of present) for (const [w, p] of Object.entries(act(a, k)?.waits ?? {})) waits.set(w, [...(waits.get(w) ?? []), p]);
      const top = [...waits.entries()]
        .map(([w, ps]) => [w, med(ps)] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([w, p]) => `${w} ${p.toFixed(0)}%`)
        .join(', ');
      rows.push([phase, `\`${k}\``, fmtPct(med(list.map((a) => busyOf(a, k)))), med(list.map((a) => avgOf(a, k))).toFixed(2), top]);
    }
  };
  add('1. backlog publish (16 clients)', r.sustained.map((x) => x.publishActivity), ['publish']);
  add('1. drain (one worker)', r.sustained.map((x) => x.drainActivity), ['record', 'claim', 'release', 'next_due', 'other']);
  for (const rate of ratesOf(r)) add(`2. latency @${rate}/s`, r.latency.filter((l) => l.targetRate === rate).map((l) => l.activity), ['publish', 'claim', 'record']);
  return table(
    ['phase', 'statement', 'running (share of samples)', 'running at once (avg)', 'what it was doing (CPU = not waiting)'],
    rows,
    ['l', 'l', 'r', 'r', 'l'],
  );
}

/** Median share of the main wait events of one statement kind over runs: `LWLock:WALWrite 70%, IO:WALSync 20%`. */
function topWaits(list: ActivitySummary[], kind: StatementKind): string {
  const waits = new Map<string, number[]>();
  for (const a of list) for (const [w, p] of Object.entries(act(a, kind)?.waits ?? {})) waits.set(w, [...(waits.get(w) ?? []), p]);
  const top = [...waits.entries()].map(([w, ps]) => [w, med(ps)] as const).sort((a, b) => b[1] - a[1]).slice(0, 3);
  return top.length ? top.map(([w, p]) => `${w} ${p.toFixed(0)}%`).join(', ') : 'n/a';
}

/** "What limits it", derived from the measured figures. */
export function limitsNote(r: BenchResults): string {
  const f = cpuFacts(r);
  const out: string[] = [];
  const capacity = f.cores * 100;
  const rawTotal = f.rawClientUs + f.rawReceiverUs;
  const heraldTotal = f.workerUs + f.pgUs + f.receiverUs;
  const other = med(r.sustained.map((x) => x.cpu.other ?? Number.NaN));
  out.push(
    `- CPU per delivered webhook: worker ${fmtInt(f.workerUs)} µs + PostgreSQL ${fmtInt(f.pgUs)} µs + receiver ${fmtInt(f.receiverUs)} µs ` +
      `= ${fmtInt(heraldTotal)} µs, against ${fmtInt(rawTotal)} µs per raw POST (client ${fmtInt(f.rawClientUs)} + receiver ${fmtInt(f.rawReceiverUs)}): ` +
      `a delivery costs ${fmt1(heraldTotal / rawTotal)}× the CPU of a bare signed POST, ${fmtPct((f.pgUs / heraldTotal) * 100)} of it in PostgreSQL.`,
  );
  if (other > capacity * 0.15) {
    out.push(
      `- The machine was shared: other processes used a median ${fmtPct(other)} of its ${capacity}% during the drains, so absolute rates are lower ` +
        'than on an idle machine; the CPU cost per delivery above is the steadier figure.',
    );
  }
  const recordBusy = med(r.sustained.map((x) => busyOf(x.drainActivity, 'record')));
  const recordCpu = med(r.sustained.map((x) => waitOf(x.drainActivity, 'record', 'CPU')));
  const claimBusy = med(r.sustained.map((x) => busyOf(x.drainActivity, 'claim')));
  if (f.workerPct >= 90) {
    out.push(
      `- The worker's single JavaScript thread is saturated (${fmtPct(f.workerPct)} of one core during the drain): one \`herald worker\` process is the bottleneck.`,
    );
  } else if (recordBusy >= 75) {
    out.push(
      `- The drain is bound by the outcome writer, not by HTTP: the worker writes outcomes one batch at a time, and PostgreSQL was running ` +
        `that record statement in ${fmtPct(recordBusy)} of the samples (on CPU ${fmtPct(recordCpu)} of that time; claims ran ${fmtPct(claimBusy)} of the time), ` +
        `while the worker's thread used only ${fmtPct(f.workerPct)} of a core. Deliveries/s ≈ 1 ÷ the record statement's cost per delivery; ` +
        'a worker slot is freed only once its outcome is written, so the HTTP side waits for it.',
    );
  } else if (f.machinePct >= capacity * 0.9) {
    out.push(
      other > capacity * 0.15
        ? `- The machine's cores were full (${fmtPct(f.machinePct)} of ${capacity}%), ${fmtPct(other)} of it other work: the worker (${fmtPct(f.workerPct)}), ` +
            `PostgreSQL (${fmtPct(f.pgPct)}) and the receiver (${fmtPct(f.receiverPct)}) were competing for CPU, and no single Herald stage was saturated ` +
            `(outcome writer busy ${fmtPct(recordBusy)} of the time, claims ${fmtPct(claimBusy)}). On this machine the rate follows the CPU left over ÷ CPU per delivery.`
        : `- The bench itself saturates the cores (${fmtPct(f.machinePct)} of ${capacity}%): throughput ≈ cores ÷ CPU per delivery.`,
    );
  } else {
    out.push(
      `- Neither the worker thread (${fmtPct(f.workerPct)}), nor the outcome writer (${fmtPct(recordBusy)} busy), nor the machine (${fmtPct(f.machinePct)} of ${capacity}%) is saturated: ` +
        'the drain is bound by round trips (claim → send → record) with at most HERALD_WORKER_CONCURRENCY deliveries in flight.',
    );
  }
  const pubLock = med(r.sustained.map((x) => waitOf(x.publishActivity, 'publish', 'Lock:object')));
  const pubAvg = med(r.sustained.map((x) => avgOf(x.publishActivity, 'publish')));
  const pubRate = med(r.sustained.map((x) => x.publishEventsPerSec));
  if (pubLock >= 25) {
    out.push(
      `- Publishing tops out at ${fmtInt(pubRate)} events/s with 16 clients: of the ${fmt1(pubAvg)} publish statements running at once, ${fmtPct(pubLock)} of the time was spent ` +
        'waiting on `Lock:object`, the lock PostgreSQL takes at commit for a transaction that called NOTIFY (the publish statement calls pg_notify). ' +
        'It is held through the WAL flush, so publishing commits happen one at a time: the rate is about 1 ÷ commit latency, whatever the number of clients.',
    );
  }
  for (const rate of ratesOf(r)) {
    const ls = r.latency.filter((l) => l.targetRate === rate);
    const achieved = med(ls.map((l) => l.achievedRate));
    const skipped = med(ls.map((l) => l.skipped));
    if (achieved < rate * 0.9 || skipped > 0) {
      out.push(
        `- At ${fmtInt(rate)} events/s the API accepted only ${fmtInt(achieved)} events/s (publish call p50 ${fmt1(med(ls.map((l) => l.publishP50)))} ms, ` +
          `${fmtInt(skipped)} events skipped at the 256-call in-flight cap): calls queue at the client, so the latency at this rate is mostly that queue, not delivery. ` +
          `The publish statements were waiting on: ${topWaits(ls.map((l) => l.activity), 'publish')}.`,
      );
    } else {
      out.push(
        `- At ${fmtInt(rate)} events/s, below the publish ceiling, p50 ${fmt1(med(ls.map((l) => l.p50)))} ms / p99 ${fmt1(med(ls.map((l) => l.p99)))} ms is the path itself: ` +
          `publish commit (call p50 ${fmt1(med(ls.map((l) => l.publishP50)))} ms) → NOTIFY → claim → signed POST.`,
      );
    }
  }
  return out.join('\n');
}

export function markdown(r: BenchResults, notes: string | null, profile: string | null): string {
  const knobs = Object.entries(r.knobs).map(([k, v]) => `${k}=${v}`).join(' ');
  const cfg = Object.entries(r.heraldConfig).map(([k, v]) => `${k}=${v}`).join(', ');
  const s0 = r.sustained[0];
  const lines = [
    '# Benchmarks',
    '',
    `Generated by \`npm run bench\` (bench/run.ts) on ${r.date.toISOString().slice(0, 16).replace('T', ' ')} UTC. ` +
      'Everything outside the notes block is rewritten on every run.',
    '',
    '## Machine',
    '',
    `- CPU: ${r.machine.cpuModel}, ${r.machine.cores} logical cores`,
    `- Memory: ${r.machine.memGiB.toFixed(1)} GiB`,
    `- OS: ${r.machine.os}`,
    `- Node: ${r.machine.node}`,
    `- PostgreSQL: ${r.machine.pg}`,
    `- PostgreSQL settings: ${Object.entries(r.machine.pgSettings).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    `- Background load (other work on the machine, 3 s before the bench started): ${fmtPct(r.backgroundLoadPct)} of ${r.machine.cores * 100}%; ` +
      'during each scenario it is measured again ("other load" below).',
    '',
    '## Command',
    '',
    '```sh',
    'npm run bench',
    '```',
    '',
    `Herald revision: ${r.revision}. Knobs of this run: \`${knobs}\`. Herald configuration: ${cfg || 'defaults'} (${r.heraldEffective}).`,
    '',
    'Every process runs on this one machine over loopback: the receiver (a bare `node:http` server in its own process, answering 200 at once), ' +
      'PostgreSQL, the Herald processes and the bench itself. Each scenario run gets a fresh database, dropped afterwards. ' +
      `Runs alternate raw baseline → Herald sustained → Herald latency, ${r.raw.length} times.`,
    '',
    '- **0. raw**: undici `Pool` with 64 keep-alive connections from the bench process to the same receiver, signed 1 KB JSON bodies ' +
      "(HMAC-SHA256 per request, Herald's headers), one request in flight per connection; a warm-up of at least 0.5 s and 2,000 requests " +
      `(at most 5 s), then a measured window of ${Math.max(1, Number(r.knobs.BENCH_SECONDS) / 2)} s; CPU is sampled over that window only.`,
    `- **1. sustained**: \`herald api\` + one \`herald worker\` process; a tenant with ${s0?.endpoints ?? '?'} endpoints (distinct paths on the receiver); ` +
      `${fmtInt(s0?.events ?? 0)} events × ${s0?.endpoints ?? '?'} endpoints = ${fmtInt(s0?.expected ?? 0)} deliveries published by 16 keep-alive clients while the worker is frozen (SIGSTOP), then it is thawed. ` +
      `The worker is warm, as the raw baseline's client is: before the backlog it delivered a warm-up of ${fmtInt(s0?.coldStart.deliveries ?? 0)} deliveries (another tenant, the same receiver), whose rate is reported as its cold start. ` +
      'Rate = arrivals first→last at the receiver; the run then waits until PostgreSQL holds every outcome (succeeded + attempt row).',
    '- **2. latency**: `herald serve` (API and worker in one process), 1 endpoint, single-event POSTs (1 KB payload) paced by a 1 ms timer ' +
      `at ${ratesOf(r).map((x) => `${x}/s`).join(' and ')} for ${r.knobs.BENCH_SECONDS} s each, after ${r.knobs.BENCH_LATENCY_WARMUP ?? '?'} s of the same load that is not counted (a process just started catches up on its connections, prepared statements and JIT; its p99 is reported apart as "warm-up p99"), open loop over 32 keep-alive connections (at most 256 calls in flight; beyond that events are skipped, which shows as a lower achieved rate); ` +
      'latency = receiver arrival − start of the publish call (so it includes any wait for the API), matched by `webhook-id`, the two processes\' clocks aligned over IPC. ' +
      'Then the top rate once more against the **floor** (bench/floor-server.ts): a bare `node:http` server that group-commits each event and a queue row (synchronous commit) and then POSTs it, signed, to the same receiver path: what publish → receive takes at the least on this machine.',
    '- **steady** (bench/steady.ts): 32 clients publish single 1 KB events for BENCH_STEADY_SECONDS while Herald delivers, on a fresh database nobody analyzed or vacuumed, each event fanned out to 10 of 100 endpoints; then the rest drains. ' +
      'Rate = arrivals ÷ (last arrival − start of publishing); the raw POST rate is measured for 5 s just before and just after each run, and the run is compared with their mean. Shapes: one `herald serve`, `herald api` + `herald worker`, one `herald serve` on the embedded database, ' +
      'and the **floor** (bench/floor-steady-server.ts): one bare `node:http` process doing the least durable work the scenario takes (group-committed event and queue rows, a signed POST per delivery straight from memory, ' +
      'an attempt row per answer written without waiting for the WAL flush), with no authentication, checks, retries, pacing or per-endpoint queues: what this machine allows at all; ' +
      'and **floor-rows**: the same program writing Herald\'s own rows into Herald\'s own tables (the event, a delivery record and a queue row per delivery, then per answer the queue row deleted, the record updated and an attempt row with both sides\' headers): what Herald\'s record of a delivery costs at the least, apart from Herald\'s code. ' +
      'Besides each process\'s CPU, the table gives how long its main thread waited for a CPU while it could have run (`/proc/<pid>/schedstat`, percent of the window; PostgreSQL\'s processes summed) and how much of the machine was left idle meanwhile: a thread short of a CPU and a thread short of work use the same CPU. ' +
      'Its last column is the CPU a delivery cost: each process\'s CPU time over the run (publishing and drain) and PostgreSQL\'s, divided by the deliveries that arrived, and their sum; beside it, the most that sum may be for the goal to fit on the machine\'s cores at all at the run\'s raw POST rate (cores × 1 s ÷ (goal × raw)). A run above that budget cannot reach the goal however its work is spread over the cores; one below it can, as far as the scheduler lets it use every core (the idle share).',
    '- **intake** (bench/intake.ts): `herald api` alone, a tenant with 1 endpoint; 64 clients posting single events in a closed loop, then 4 clients posting batches of 1,000, for BENCH_INTAKE_SECONDS each (the request bodies are copied from parts encoded once, so that the load generator takes as little as it can of the two cores: bench/event-bodies.ts); then the same batches, and the same single events, against the **floor** (bench/floor-server.ts): a bare `node:http` server that parses each batch and inserts, in one synchronous commit, its events (payload as text, primary key only) and one row listing the deliveries they make, as Herald\'s batch route does (single events: the event and one queue row each, events arriving together sharing one statement and commit), with no authentication, checks or idempotency, on the same database: what durable intake costs at the least on this machine; and the same batches against that program writing Herald\'s own rows into Herald\'s tables (**floor-rows**: the event with its payload as json, a delivery record and a queue row, every index Herald has on them): what Herald\'s record of an accepted event costs at the least, apart from Herald\'s code. The batch route leaves its deliveries to the workers (migration 0033): after the batches, the deliveries they listed are written out by the worker\'s own statement on one connection, timed (what accepting left for later).',
    '- **fan-out** (bench/fanout.ts): `herald serve`, one tenant with BENCH_FANOUT endpoints; 5 events one after the other, each timed from the publish call to the last arrival.',
    '- **noisy neighbour**: scenario 1 again with endpoint 0 pointing at a receiver path that never answers (timeout 2 s): healthy throughput against scenario 1 of the same run, drained just before it; and the lowest latency rate again with a hanging second endpoint in the tenant.',
    '- **retry storm** (bench/storm.ts): `herald api` + `herald worker`; fresh events at 200/s to one endpoint, before and while BENCH_STORM queued retries (set up as after an outage: attempts = 1, due now, queued while the worker is frozen with SIGSTOP and thawed for the measurement, so they come back to a warm worker) drain to another endpoint of the same tenant.',
    `- **memory**: scenario 1 with ${r.knobs.BENCH_MEMORY_EVENTS ?? '?'} events and every receiver answering 200 and a 16 MB body (Herald keeps the first 64 KiB); worker RSS is sampled every 100 ms in every drain.`,
    '- **idle** (bench/idle.ts): one `herald worker` with nothing to do; its CPU and the transactions its database sees, over BENCH_IDLE_SECONDS.',
    '- **backlog** (bench/backlog.ts): BENCH_BACKLOG deliveries over 100 endpoints published by the batch route with no worker, marked as failed once and due now, VACUUM ANALYZE; then one worker drains them. Claim pick time = EXPLAIN ANALYZE of the worker\'s own pick (100 rows, SKIP LOCKED) every 3 s.',
    '',
    '## Targets (issues 4 and 10)',
    '',
    targetsTable(targetInputs(r)),
    '',
    '## Throughput',
    '',
    throughputTable(r),
    '',
    '## Publish → receive latency',
    '',
    latencyTable(r),
    '',
    '## Where the CPU goes (medians over runs)',
    '',
    cpuTable(r),
    '',
    '### Database work during the drain',
    '',
    dbTable(r),
    '',
    '### What PostgreSQL was running (pg_stat_activity sampled every 20 ms, medians over runs)',
    '',
    activityTable(r),
    '',
    '## What limits it (derived from the figures above)',
    '',
    limitsNote(r),
    '',
    '## Other scenarios',
    '',
    moreDetails(targetInputs(r)),
    '',
  ];
  if (profile) lines.push('## Worker CPU profile (this run)', '', profile, '');
  lines.push('## Notes', '', NOTES_START, notes ?? '_(hand-written analysis goes here; kept across runs)_', NOTES_END, '');
  return lines.join('\n');
}

export function readNotes(path: string): string | null {
  if (!existsSync(path)) return null;
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(NOTES_START);
  const b = text.indexOf(NOTES_END);
  return a >= 0 && b > a ? text.slice(a + NOTES_START.length, b).trim() : null;
}

export function writeReport(path: string, r: BenchResults, profile: string | null): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, markdown(r, readNotes(path), profile));
}

/** Plain-text summary for the terminal. */
export function consoleSummary(r: BenchResults): string {
  const rt = ratios(r);
  const lines = ['', 'scenario                                    ' + r.raw.map((_, i) => `run ${i + 1}`.padStart(10)).join('') + '    median'];
  const row = (name: string, xs: number[], f: (n: number) => string) =>
    lines.push(name.padEnd(44) + xs.map((x) => f(x).padStart(10)).join('') + f(med(xs)).padStart(10));
  row('0. raw POST requests/s', r.raw.map((x) => x.result.rps), fmtInt);
  row('1. Herald deliveries/s (receiver)', r.sustained.map((x) => x.deliveriesPerSec), fmtInt);
  row('1. Herald ÷ raw', rt, (n) => `${(n * 100).toFixed(1)}%`);
  row('1. deliveries/s until recorded in PG', r.sustained.map((x) => x.recordedPerSec), fmtInt);
  for (const rate of ratesOf(r)) {
    const ls = r.latency.filter((l) => l.targetRate === rate);
    row(`2. @${rate}/s: achieved events/s`, ls.map((x) => x.achievedRate), fmt1);
    row(`2. @${rate}/s: latency p50 ms`, ls.map((x) => x.p50), fmt1);
    row(`2. @${rate}/s: latency p95 ms`, ls.map((x) => x.p95), fmt1);
    row(`2. @${rate}/s: latency p99 ms`, ls.map((x) => x.p99), fmt1);
  }
  lines.push('', 'Targets:', targetsTable(targetInputs(r)), '', 'What limits it:', limitsNote(r), '');
  return lines.join('\n');
}
