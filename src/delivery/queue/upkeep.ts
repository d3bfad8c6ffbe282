import type { Db } from '../../db/db.js';
import type { Logger } from '../../logger.js';
import { autovacuumRuns } from '../../store/retention.js';

/*
 * Queue rows of endpoints that no longer exist: a publish that raced an
 * endpoint's deletion (there is no foreign key to stop it, migration 0010).
 * One probe per endpoint with queued rows (a loose index scan), not per row.
 */
const SWEEP_ORPHANS = `
with recursive eps as (
  (select endpoint_id as eid from queue order by endpoint_id limit 1)
  union all
  select nx.eid from eps cross join lateral (
    select endpoint_id as eid from queue where endpoint_id > eps.eid order by endpoint_id limit 1) nx
)
delete from queue q where q.endpoint_id in (select eid from eps where not exists (select 1 from endpoints e where e.id = eps.eid))`;

/** Tables whose statistics the API's listings and the publish statement plan with. */
const RECORD_TABLES = ['deliveries', 'attempts', 'events'] as const;

export interface UpkeepOptions {
  /** Queue rows deleted or rescheduled before the queue is vacuumed. (Default: 1000) */
  queueChanges?: number;
  /** And at least this fraction of the rows the queue held at the last vacuum. (Default: 0.1) */
  queueScale?: number;
  /** Least time between two vacuums of the queue, in ms. (Default: 100) */
  queueIntervalMs?: number;
  /** Outcomes written between two ANALYZEs of the record tables, where autovacuum does not run. (Default: 100000) */
  analyzeEvery?: number;
  /** And at least this fraction of the deliveries the table held at the last ANALYZE. (Default: 0.1) */
  analyzeScale?: number;
}

/**
 * Keeps the hot queue healthy whatever the server does about vacuum.
 *
 * Every final outcome deletes a queue row, and its index entries stay at
 * the head of the endpoint's range until a VACUUM removes them; a claim
 * would then step over more of them each time (the slowdown a fresh
 * database showed with autovacuum off: PGlite never runs it, and many small
 * servers turn it off). Autovacuum, where it runs, looks at a table once a
 * minute at best; at 10,000 deliveries/s that is 600,000 dead rows. So the
 * worker vacuums the queue itself after every thousand changes, or a
 * tenth of what the queue held at the last pass when that is more: a pass
 * reads the queue's indexes whole, so it takes milliseconds for a short
 * queue (3-8 ms for 5,000 rows with 2,000 dead; a claim of 100 rows took
 * 2.0 ms with no dead rows at the head of the endpoints' ranges and 4.6-5.2
 * ms with 5,000) but 50-590 ms for a queue of 100,000, which passes every
 * thousand changes repeated several times a second. The queue's
 * statistics are refreshed every 10 s.
 * `SKIP_LOCKED` makes a pass that another worker is already running a no-op,
 * and the queue never truncates (migration 0012): truncation takes an
 * exclusive lock that stalls publishing.
 *
 * Where autovacuum does not run, nothing else refreshes the planner's
 * statistics of the record tables either: they are analyzed after the
 * first thousand outcomes (a fresh database), then every `analyzeEvery`
 * outcomes or a tenth of the deliveries table, whichever is more. An
 * ANALYZE reads a sample of up to 30,000 rows of each (3,000 now), so its cost grows
 * with the tables up to a few seconds of a core: every 100,000 outcomes it
 * took 0.2 s at first and 3-4 s per pass after 4 minutes of a steady state,
 * one pass every 30 s. Both thresholds scale with their table, as
 * autovacuum's do.
 */
export class QueueUpkeep {
  private changes = 0;
  private outcomes = 0;
  private lastVacuumAt = 0;
  private queueAnalyzedAt = 0;
  private sweptAt = Date.now();
  private statsCheckedAt = 0;
  private analyzedAt = 0;
  private running: Promise<void> | null = null;
  private autovacuum: boolean | null = null;
  private readonly queueChanges: number;
  private readonly queueScale: number;
  /** Rows in the queue after the last vacuum (pg_class.reltuples, which the vacuum sets). */
  private queueRows = 0;
  private readonly queueIntervalMs: number;
  private readonly analyzeEvery: number;
  private readonly analyzeScale: number;
  /** Rows of the deliveries table at the last ANALYZE of the record tables. */
  private recordRows = 0;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    o: UpkeepOptions = {},
  ) {
    this.queueChanges = o.queueChanges ?? 1_000;
    this.queueScale = o.queueScale ?? 0.1;
    this.queueIntervalMs = o.queueIntervalMs ?? 100;
    this.analyzeEvery = o.analyzeEvery ?? 100_000;
    this.analyzeScale = o.analyzeScale ?? 0.1;
  }

  /** Counts `n` outcomes written (each changed one queue row) and starts a pass when one is due. */
  note(n: number): void {
    this.changes += n;
    this.outcomes += n;
    if (this.running) return;
    const now = Date.now();
    const vacuum = this.changes >= Math.max(this.queueChanges, this.queueScale * this.queueRows) && now - this.lastVacuumAt >= this.queueIntervalMs;
    const analyze = this.outcomes - this.analyzedAt >= (this.analyzedAt === 0 ? 1_000 : Math.max(this.analyzeEvery, this.analyzeScale * this.recordRows));
    const sweep = now - this.sweptAt >= 60_000;
    if (!vacuum && !analyze && !sweep) return;
    this.running = this.pass(vacuum, analyze, sweep)
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'queue upkeep failed'))
      .finally(() => {
        this.running = null;
      });
  }

  /**
   * At most once a second (the worker calls it after each claim): when the
   * queue has grown well past the size its statistics were taken at, ANALYZE
   * it. The planner scales a table's row estimate by its density at the last
   * ANALYZE or VACUUM: analyzed nearly empty, a queue of 100,000 rows was
   * estimated at one, and the claim and the outcome write were planned as a
   * walk of its whole primary key with the batch rescanned at every entry
   * (auto_explain in a retry storm: 2.4-11 s per statement where 5 ms is
   * usual). A burst of publishing grows the queue without one outcome, so
   * the outcome-driven passes above come too late.
   */
  tick(): void {
    const now = Date.now();
    if (this.running || now - this.statsCheckedAt < 1_000) return;
    this.statsCheckedAt = now;
    this.running = this.refreshStatsIfGrown()
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'queue statistics check failed'))
      .finally(() => {
        this.running = null;
      });
  }

  private async refreshStatsIfGrown(): Promise<void> {
    const { rows } = await this.db.query<{ relpages: number; pages: number; rows: number }>(
      `select relpages, (pg_relation_size('queue') / current_setting('block_size')::int)::int as pages, greatest(reltuples, 0)::float8 as rows
         from pg_class where oid = 'queue'::regclass`,
    );
    const r = rows[0];
    // a worker that starts on a queue somebody else filled (a restart during an
    // outage) scales its first vacuum to that queue, not to an empty one: a pass
    // over 100,000 rows for its first thousand changes took 347 ms of a core
    // while the backlog's first claims waited (retry storm, debug log)
    if (r && this.queueRows === 0) this.queueRows = Number(r.rows);
    if (!r || Number(r.pages) <= 2 * Number(r.relpages) + 8) return;
    const started = Date.now();
    await this.analyzeSampled('queue');
    this.queueAnalyzedAt = started;
    this.queueRows = await this.rowsOf('queue');
    this.logger.debug({ durationMs: Date.now() - started, pages: r.pages, statsPages: r.relpages }, 'queue analyzed: it outgrew its statistics');
  }

  /** Waits for a pass under way (shutdown, tests). */
  async settled(): Promise<void> {
    await this.running;
  }

  /**
   * ANALYZE with a sample of 3,000 rows a table instead of 30,000. The record
   * tables' statistics serve the API's listings (row counts, the few values
   * of status): a full sample cost 0.4-0.9 s of PostgreSQL time every 100,000
   * outcomes, 4 % of its time in the steady state. The queue's serve the
   * worker's statements, whose plans are held to index probes anyway
   * (db/hot-path.ts): its ANALYZE every 10 s, with the vacuum, took 139 ms
   * against the vacuum's 22 (pg_stat_statements, `serve` steady state).
   */
  private analyzeSampled(tables: string): Promise<void> {
    return this.db.transaction((tx) => tx.exec(`set local default_statistics_target = 10; analyze (skip_locked) ${tables}`));
  }

  /** A table's row count as its last VACUUM or ANALYZE estimated it. */
  private async rowsOf(table: 'queue' | 'deliveries'): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(`select greatest(reltuples, 0)::float8 as n from pg_class where oid = $1::regclass`, [table]);
    return Number(rows[0]?.n ?? 0);
  }

  private async pass(vacuum: boolean, analyze: boolean, sweep: boolean): Promise<void> {
    if (sweep) {
      this.sweptAt = Date.now();
      const n = (await this.db.query(SWEEP_ORPHANS)).rowCount;
      if (n > 0) this.logger.info({ rows: n }, 'removed queue rows of deleted endpoints');
    }
    if (vacuum) {
      const started = Date.now();
      this.changes = 0;
      this.lastVacuumAt = started;
      await this.db.exec('vacuum (skip_locked, parallel 0) queue');
      if (started - this.queueAnalyzedAt >= 10_000) {
        this.queueAnalyzedAt = started;
        await this.analyzeSampled('queue');
      }
      this.queueRows = await this.rowsOf('queue');
      this.logger.debug({ durationMs: Date.now() - started, queueRows: this.queueRows }, 'queue vacuumed');
    }
    if (analyze) {
      const first = this.analyzedAt === 0;
      this.analyzedAt = this.outcomes;
      this.autovacuum ??= await autovacuumRuns(this.db);
      if (this.autovacuum) return;
      if (first) {
        // the first pass is for a fresh database, whose tables were never
        // analyzed; a worker started on one that was (a restart) goes by its
        // statistics until the tables grew by a tenth: an ANALYZE of 100,000
        // deliveries took 242 ms of a core in the first second of a backlog
        const known = await this.rowsOf('deliveries');
        if (known >= 1_000) {
          this.recordRows = known;
          return;
        }
      }
      const started = Date.now();
      await this.analyzeSampled(RECORD_TABLES.join(', '));
      this.recordRows = await this.rowsOf('deliveries');
      this.logger.debug({ durationMs: Date.now() - started, deliveries: this.recordRows }, 'record tables analyzed');
    }
  }
}
