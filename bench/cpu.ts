/**
 * CPU accounting of the processes in a scenario, from /proc (Linux): the
 * cumulative user+system time of given pids, of all PostgreSQL server
 * processes together, and of the whole machine. Where /proc is missing the
 * figures are reported as unknown rather than guessed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { nowMs } from './util.js';

let tickMs: number | null = null;
function clockTickMs(): number {
  if (tickMs === null) {
    try {
      tickMs = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      if (!Number.isFinite(tickMs) || tickMs <= 0) tickMs = 10;
    } catch {
      tickMs = 10;
    }
  }
  return tickMs;
}

/**
 * Two consecutive CPU-time fields of /proc/<pid>/stat, summed, in milliseconds; null if unknown.
 * `first` counts from field 3 (state) as 0: utime + stime are at 11, cutime + cstime at 13.
 */
function statCpuMs(pid: number, first: 11 | 13): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[first]) + Number(fields[first + 1])) * clockTickMs();
  } catch {
    return null;
  }
}

/** user+system CPU milliseconds of one process, null if unknown. */
export const processCpuMs = (pid: number): number | null => statCpuMs(pid, 11);

/** CPU milliseconds of a process's children that exited and were waited for (cutime + cstime), null if unknown. */
const reapedChildrenCpuMs = (pid: number): number | null => statCpuMs(pid, 13);

/** Resident set size of one process in bytes, null if unknown. */
export function processRssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * How long a process's main thread has waited for a CPU while it could run
 * (runnable, not running), in milliseconds: the second field of
 * /proc/<pid>/schedstat (the kernel's run_delay, in ns); null if unknown.
 * CPU time alone hides it: on a busy 2-core machine a thread can be short of
 * work or short of a CPU, and the two read the same there.
 */
export function runQueueWaitMs(pid: number): number | null {
  try {
    const delayNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]);
    return Number.isFinite(delayNs) ? delayNs / 1e6 : null;
  } catch {
    return null;
  }
}

const PG_AUX = /(checkpointer|background writer|walwriter|wal writer)/;
const PG_PARALLEL = /parallel worker for PID (\d+)/;

/**
 * CPU of the PostgreSQL processes working for the bench: backends connected
 * to `database` plus the shared WAL writer, checkpointer and background
 * writer, and the parallel workers of those backends. A parallel worker's
 * title names its leader, not the database, and most live between two
 * snapshots (a VACUUM of a table with several indexes starts some): they
 * are counted by what the postmaster reaped from its children, which also
 * takes in a backend of another database that exits in the window. Left out,
 * they put a quarter of a core of the steady floor's vacuums in "other".
 * Backends of other databases are otherwise left out. Per pid, so backends
 * that connect during a window are counted from zero; one that exits is
 * counted as postgresUsedMs says.
 */
function postgresCpuMs(database: string): Map<number, number> | null {
  try {
    const out = new Map<number, number>();
    // live parallel workers, counted once their leader is known to be ours
    const helpers: [pid: number, leader: number][] = [];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'postgres') continue;
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ');
        if (!cmd.startsWith('postgres:')) {
          // the postmaster: what its children used until they exited (short-lived parallel workers above
          // all), under its negated pid so that it is one more entry whose growth over the window counts
          const reaped = reapedChildrenCpuMs(Number(d));
          if (reaped !== null) out.set(-Number(d), reaped);
          continue;
        }
        const leader = PG_PARALLEL.exec(cmd)?.[1];
        if (leader) {
          helpers.push([Number(d), Number(leader)]);
          continue;
        }
        if (!cmd.includes(` ${database} `) && !PG_AUX.test(cmd)) continue;
      } catch {
        continue;
      }
      const ms = processCpuMs(Number(d));
      if (ms !== null) out.set(Number(d), ms);
    }
    for (const [pid, leader] of helpers) {
      const ms = out.has(leader) ? processCpuMs(pid) : null;
      if (ms !== null) out.set(pid, ms);
    }
    return out;
  } catch {
    return null;
  }
}

/**
 * PostgreSQL's CPU milliseconds between two readings of postgresCpuMs: what
 * each process present at the end used since the start (from zero if it
 * connected meanwhile), less, for each process of ours that exited in the
 * window, what it had used by the start. The postmaster's reaped entry grew
 * by the whole life of such a process, and its part before the window was
 * counted before (an earlier lap, or outside the window). Counted in full,
 * a pool connection closed after minutes of work put its whole life into
 * one minute of the 10-minute run (210 µs a delivery, more than two cores).
 */
export function postgresUsedMs(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): number {
  let used = growth(a, b);
  for (const [pid, start] of a) if (pid > 0 && !b.has(pid)) used -= start;
  return used;
}

/** What each pid's counter grew by from `a` to `b` (from zero for a pid new in `b`), summed. */
function growth(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): number {
  let sum = 0;
  for (const [pid, end] of b) sum += end - (a.get(pid) ?? 0);
  return sum;
}

/** Busy and total CPU milliseconds of the whole machine (all cores). */
function machineCpuMs(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: (total - idle) * clockTickMs(), total: total * clockTickMs() };
  } catch {
    return null;
  }
}

interface Snapshot {
  at: number;
  procs: Map<string, number | null>;
  /** runQueueWaitMs of each named process. */
  waits: Map<string, number | null>;
  postgres: Map<number, number> | null;
  /** runQueueWaitMs of each PostgreSQL process counted in `postgres`. */
  postgresWaits: Map<number, number>;
  machine: { busy: number; total: number } | null;
}

/** CPU use over a window, in percent of one core (so 200% = two cores busy). */
export interface CpuReport {
  seconds: number;
  /** Per named process. */
  procs: Record<string, number | null>;
  /** PostgreSQL processes working for the bench database (see postgresCpuMs). */
  postgres: number | null;
  /**
   * Per named process, the share of the window its main thread spent
   * waiting for a CPU while it could run (percent of the window).
   */
  waiting: Record<string, number | null>;
  /** PostgreSQL's processes (as `postgres`), their waits for a CPU summed (percent of one core). */
  postgresWaiting: number | null;
  /** The whole machine, percent of one core (at most cores × 100). */
  machine: number | null;
  /** The machine's cores left idle, percent of one core (cores × 100 − machine). */
  idle: number | null;
  /** Machine minus the processes above: other load on the machine during the window. */
  other: number | null;
}

export class CpuSampler {
  private start: Snapshot | null = null;
  private lapStart: Snapshot | null = null;

  constructor(
    private readonly pids: Record<string, number>,
    /** Database whose backends count as PostgreSQL CPU; false: do not measure PostgreSQL. */
    private readonly pgDatabase: string | false,
  ) {}

  private snap(): Snapshot {
    const procs = new Map<string, number | null>();
    const waits = new Map<string, number | null>();
    for (const [name, pid] of Object.entries(this.pids)) {
      procs.set(name, name === 'bench' ? selfCpuMs() : processCpuMs(pid));
      waits.set(name, runQueueWaitMs(pid));
    }
    const postgres = this.pgDatabase === false ? null : postgresCpuMs(this.pgDatabase);
    const postgresWaits = new Map<number, number>();
    for (const pid of postgres?.keys() ?? []) {
      const ms = pid > 0 ? runQueueWaitMs(pid) : null;
      if (ms !== null) postgresWaits.set(pid, ms);
    }
    return { at: nowMs(), procs, waits, postgres, postgresWaits, machine: machineCpuMs() };
  }

  begin(): void {
    this.start = this.snap();
    this.lapStart = this.start;
  }

  end(): CpuReport {
    if (!this.start) throw new Error('CpuSampler.end before begin');
    return this.between(this.start, this.snap());
  }

  /** CPU use since the last lap (or begin), without ending the window end() reports: one slice of a long run. */
  lap(): CpuReport {
    if (!this.lapStart) throw new Error('CpuSampler.lap before begin');
    const b = this.snap();
    const report = this.between(this.lapStart, b);
    this.lapStart = b;
    return report;
  }

  private between(a: Snapshot, b: Snapshot): CpuReport {
    const ms = b.at - a.at;
    const pct = (x: number | null | undefined, y: number | null | undefined) =>
      x === null || x === undefined || y === null || y === undefined || ms <= 0 ? null : ((y - x) / ms) * 100;
    const procs: Record<string, number | null> = {};
    const waiting: Record<string, number | null> = {};
    for (const name of Object.keys(this.pids)) {
      procs[name] = pct(a.procs.get(name), b.procs.get(name));
      waiting[name] = pct(a.waits.get(name), b.waits.get(name));
    }
    let machine: number | null = null;
    let idle: number | null = null;
    if (a.machine && b.machine && b.machine.total > a.machine.total) {
      // Busy share of all cores, expressed per core.
      const cores = (b.machine.total - a.machine.total) / ms;
      const busyShare = (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total);
      machine = busyShare * cores * 100;
      idle = (1 - busyShare) * cores * 100;
    }
    let postgres: number | null = null;
    let postgresWaiting: number | null = null;
    if (a.postgres && b.postgres && ms > 0) {
      postgres = (postgresUsedMs(a.postgres, b.postgres) / ms) * 100;
      postgresWaiting = (growth(a.postgresWaits, b.postgresWaits) / ms) * 100;
    }
    let other: number | null = null;
    if (machine !== null) {
      const ours = Object.values(procs).reduce<number>((x, y) => x + (y ?? 0), 0) + (postgres ?? 0);
      other = Math.max(0, machine - ours);
    }
    return { seconds: ms / 1000, procs, waiting, postgres, postgresWaiting, machine, idle, other };
  }
}

/**
 * Who waited for a CPU over the window, and what the machine left idle: "serve 32%, receiver 27%, pg 45%; idle 24%"
 * (each process's main thread, PostgreSQL's processes summed; percent of one core).
 */
export function cpuWaitText(cpu: CpuReport): string {
  const f = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(0)}%`);
  const parts = Object.entries(cpu.waiting).map(([k, v]) => `${k} ${f(v)}`);
  if (cpu.postgresWaiting !== null) parts.push(`pg ${f(cpu.postgresWaiting)}`);
  return `${parts.join(', ')}; idle ${f(cpu.idle)}`;
}

function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Machine CPU busy over `ms` while the bench does nothing: the background load, percent of one core. */
export async function backgroundLoad(ms = 2000): Promise<number | null> {
  const s = new CpuSampler({}, false);
  s.begin();
  await new Promise((r) => setTimeout(r, ms));
  return s.end().machine;
}
