/**
 * Samples pg_stat_activity of a bench database every few milliseconds and
 * tells, per Herald statement, how often it was running and what it was
 * waiting on: a statement running in ~100% of samples is a serial
 * bottleneck; `Lock:object` on publishes is the commit-time NOTIFY lock.
 */
import { RECORD_FINAL_SQL, RECORD_SQL } from '../src/delivery/queue/record.js';
import type { BenchDbProbe } from './db.js';
import { nowMs, sleep } from './util.js';

export type StatementKind = 'publish' | 'claim' | 'record' | 'release' | 'next_due' | 'other';

const oneLine = (sql: string): string => sql.replace(/\s+/g, ' ').trim();

/**
 * How the outcome write begins, taken from the statement itself: matched by
 * a copy of its text, the bench lost it when the statement changed (its
 * time showed as "other" from 3e01957 to the fix).
 */
const RECORD_STARTS = [RECORD_SQL, RECORD_FINAL_SQL].map((sql) => oneLine(sql).slice(0, 160));

/**
 * Which Herald statement a pg_stat_activity query is. The text is cut at
 * track_activity_query_size (1 KB by default), so long statements are
 * recognised by how they begin.
 */
export function classify(sql: string): StatementKind {
  const q = oneLine(sql);
  if (q.includes('update queue q set lease_token = null, lease_until = null')) return 'release';
  if (RECORD_STARTS.some((start) => q.startsWith(start))) return 'record';
  if (q.startsWith('with recursive eps(eid, due_at, n, wrapped)')) return 'claim';
  if (q.startsWith('with input as') || q.includes('insert into events (tenant_id, id, type, payload')) return 'publish';
  if (q.startsWith('with recursive eps as ( (select endpoint_id as eid, 1 as n')) return 'next_due';
  return 'other';
}

export interface StatementActivity {
  kind: StatementKind;
  /** Share of samples in which at least one such statement was running. */
  busyPct: number;
  /** Average number running at once. */
  avgRunning: number;
  /** Share of its running samples per wait event ("CPU" = not waiting). */
  waits: Record<string, number>;
}

export interface ActivitySummary {
  samples: number;
  seconds: number;
  statements: StatementActivity[];
}

export class ActivitySampler {
  private running = false;
  private loop: Promise<void> | null = null;
  private samples = 0;
  private startedAt = 0;
  private readonly busy = new Map<StatementKind, number>();
  private readonly total = new Map<StatementKind, number>();
  private readonly waits = new Map<StatementKind, Map<string, number>>();
  /** How often each statement classified as `other` was seen (its first 80 characters), to name it. */
  readonly others = new Map<string, number>();

  constructor(
    private readonly probe: BenchDbProbe,
    // every 100 ms: at 20 ms its own query on pg_stat_activity took 6 % of a core of the
    // PostgreSQL CPU the run measures (1.9 ms each, 50 a second)
    private readonly intervalMs = 100,
    /** Bound on the sampling, whatever happens to the caller. */
    private readonly maxSeconds = 900,
  ) {}

  start(): void {
    this.running = true;
    this.startedAt = nowMs();
    this.loop = (async () => {
      while (this.running && nowMs() - this.startedAt < this.maxSeconds * 1000) {
        let rows: { query: string; wait: string | null }[];
        try {
          rows = await this.probe.activity();
        } catch {
          break;
        }
        this.samples++;
        const seen = new Set<StatementKind>();
        for (const r of rows) {
          const k = classify(r.query);
          if (k === 'other') {
            const head = r.query.replace(/\s+/g, ' ').trim().slice(0, 80);
            if (this.others.size < 50 || this.others.has(head)) this.others.set(head, (this.others.get(head) ?? 0) + 1);
          }
          seen.add(k);
          this.total.set(k, (this.total.get(k) ?? 0) + 1);
          const w = this.waits.get(k) ?? new Map<string, number>();
          const name = r.wait ?? 'CPU';
          w.set(name, (w.get(name) ?? 0) + 1);
          this.waits.set(k, w);
        }
        for (const k of seen) this.busy.set(k, (this.busy.get(k) ?? 0) + 1);
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<ActivitySummary> {
    this.running = false;
    await this.loop;
    const n = Math.max(1, this.samples);
    const statements: StatementActivity[] = [...this.total.keys()].map((kind) => {
      const total = this.total.get(kind) ?? 0;
      const waits: Record<string, number> = {};
      for (const [w, c] of [...(this.waits.get(kind) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1])) waits[w] = (c / total) * 100;
      return { kind, busyPct: ((this.busy.get(kind) ?? 0) / n) * 100, avgRunning: total / n, waits };
    });
    statements.sort((a, b) => b.busyPct - a.busyPct);
    return { samples: this.samples, seconds: (nowMs() - this.startedAt) / 1000, statements };
  }
}

/** `record 97% busy (CPU 85%, IO:WALSync 10%)`, for progress lines and the report. */
export function describeActivity(a: ActivitySummary, kinds?: StatementKind[]): string {
  return a.statements
    .filter((s) => !kinds || kinds.includes(s.kind))
    .map((s) => {
      const waits = Object.entries(s.waits)
        .slice(0, 3)
        .map(([w, p]) => `${w} ${p.toFixed(0)}%`)
        .join(', ');
      return `${s.kind} ${s.busyPct.toFixed(0)}% of the time, ${s.avgRunning.toFixed(2)} at once (${waits})`;
    })
    .join('; ');
}
