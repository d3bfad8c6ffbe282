/**
 * What each row and each index costs the batch route's write: floor-rows'
 * batch statement (an event row, a delivery record and a queue row per
 * event, the cheapest statement that leaves Herald's rows) on a fresh
 * database with Herald's schema, 1,000 events of 1 KB to one endpoint per
 * statement, one connection, synchronous commit (as a publish's 202 needs).
 * Then the same with one of Herald's indexes on those rows dropped, and
 * without the delivery record (events and queue rows only), to show where
 * 50,000 events/s could come from; and Herald's own batch statement
 * (store/events.ts, publishMatched) as the route sends it, its deliveries
 * left to the workers (migration 0033), with ids Herald made and with ids
 * the client named (as the intake scenario sends them), and as a `herald
 * serve` with room sends it, writing them at publish.
 *
 *   npm run build:bench && node dist-bench/bench/intake-rows.js
 *
 * BENCH_RUNS rounds (default 3), each running every variant in turn on
 * emptied tables: BENCH_STATEMENTS statements (default 20) after 5 unmeasured.
 * Reported per variant: the median over rounds of the statement's median
 * time, and the backend's CPU per event (/proc).
 */
import pg from 'pg';
import { cleanUpOnExit } from './children.js';
import { processCpuMs } from './cpu.js';
import { createBenchDb, queryableOf } from './db.js';
import { migrateHeraldSchema } from './floor-http.js';
import { FLOOR_ROWS_INTAKE_SQL, floorRowsEvents } from './floor-rows-sql.js';
import { envInt, fmtInt, median, payloadOfSize, progress } from './util.js';
import { newId } from '../src/ids.js';
import { eventBatch, publishMatched } from '../src/store/events.js';

const ROUNDS = envInt('BENCH_RUNS', 3);
const STATEMENTS = envInt('BENCH_STATEMENTS', 20);
const WARM_UP = 5;
const EVENTS = 1000;

/** The same without the delivery record: the queue row numbered from a sequence of its own. */
const NO_RECORD = `
${floorRowsEvents}
insert into queue (delivery_id, tenant_id, event_id, endpoint_id, due_at, seq)
select 'dlv_' || id, $1, id, 'ep_floor', created_at, nextval('intake_rows_seq') from e`;

interface Variant {
  label: string;
  /** One statement of EVENTS events. */
  run: () => Promise<unknown>;
  /** Indexes dropped for it (recreated after). */
  drop: string[];
}

const db = await createBenchDb();
let client: pg.Client | null = null;
const { cleanup } = cleanUpOnExit(async () => {
  await client?.end();
});
try {
  process.env.DATABASE_URL = db.url;
  migrateHeraldSchema();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await measure(client);
} finally {
  await cleanup();
}

async function measure(c: pg.Client): Promise<void> {
  const backend = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  if (processCpuMs(backend) === null) throw new Error('the database server is not on this machine: its CPU cannot be read');
  await c.query('create sequence intake_rows_seq');
  const indexes = new Map(
    (
      await c.query<{ name: string; def: string }>(
        `select indexname as name, indexdef as def from pg_indexes
          where tablename in ('events', 'deliveries', 'queue') and indexname not like '%_pkey' order by tablename, indexname`,
      )
    ).rows.map((r) => [r.name, r.def]),
  );
  const payload = JSON.stringify(payloadOfSize(1024, { seq: 0 }));
  let seq = 0;
  /** A client-named id, ascending like Herald's own (the floor's statement and the named-id variant share the count). */
  const namedId = (prefix: string) => `${prefix}_${String(seq++).padStart(12, '0')}`;
  const batch = (): unknown[] => {
    const ids: string[] = [];
    for (let i = 0; i < EVENTS; i++) ids.push(namedId('evt_rows'));
    return ['rows', ids, ids.map(() => 'bench.rows'), ids.map(() => payload)];
  };
  // Herald's statement: the tenant it locks, the endpoint generation it checks, events as the batch route makes them
  await c.query(`insert into tenants (id, name) values ('rows', 'intake-rows')`);
  const q = queryableOf(c);
  const matcher = { generation: '0', endpointsFor: () => [{ id: 'ep_floor', ordered: false }], wantsDelivered: false, wantsFailed: false };
  // ids Herald makes, or ids the client names (which may exist already: the statement must not insert those twice)
  const heraldBatch = (named = false) => {
    const createdAt = new Date();
    return eventBatch(
      Array.from({ length: EVENTS }, () => ({ id: named ? namedId('evt_named') : newId('evt'), type: 'bench.rows', payloadJson: payload, body: null, createdAt, idMadeHere: !named })),
      named,
    );
  };
  const variants: Variant[] = [
    { label: 'event, delivery record, queue row, every index', run: () => c.query(FLOOR_ROWS_INTAKE_SQL, batch()), drop: [] },
    // queue_ordered is partial (rows with an ordering key): these rows never enter it
    ...[...indexes.keys()]
      .filter((name) => name !== 'queue_ordered')
      .map((name) => ({ label: `without ${name}`, run: () => c.query(FLOOR_ROWS_INTAKE_SQL, batch()), drop: [name] })),
    { label: 'event and queue row, no delivery record', run: () => c.query(NO_RECORD, batch()), drop: [] },
    { label: "Herald's batch statement: events and the list of their deliveries (the route)", run: () => publishMatched(q, 'rows', heraldBatch(), matcher, null, true), drop: [] },
    { label: "Herald's batch statement, ids named by the client: events and the list of their deliveries (the route)", run: () => publishMatched(q, 'rows', heraldBatch(true), matcher, null, true), drop: [] },
    { label: "Herald's batch statement: events, delivery records, queue rows (`serve` with room)", run: () => publishMatched(q, 'rows', heraldBatch(), matcher, null, false), drop: [] },
  ];

  const ms = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of variants) {
      await c.query('truncate events, deliveries, queue, fanouts cascade');
      for (const name of v.drop) await c.query(`drop index ${name}`);
      await c.query('checkpoint'); // each variant starts without the one before's dirty pages
      const times: number[] = [];
      let cpuBefore = 0;
      for (let i = 0; i < WARM_UP + STATEMENTS; i++) {
        if (i === WARM_UP) cpuBefore = processCpuMs(backend)!;
        const t0 = performance.now();
        await v.run();
        if (i >= WARM_UP) times.push(performance.now() - t0);
      }
      const cpuPerEvent = ((processCpuMs(backend)! - cpuBefore) * 1000) / (STATEMENTS * EVENTS);
      for (const name of v.drop) await c.query(indexes.get(name)!);
      ms.set(v.label, [...(ms.get(v.label) ?? []), median(times)]);
      cpu.set(v.label, [...(cpu.get(v.label) ?? []), cpuPerEvent]);
      progress(`round ${round}: ${v.label}: ${median(times).toFixed(1)} ms per ${fmtInt(EVENTS)} events, ${cpuPerEvent.toFixed(1)} µs of PostgreSQL CPU per event`);
    }
  }
  const base = median(ms.get(variants[0]!.label)!);
  console.log(`\n| rows written per event | ms per statement of ${fmtInt(EVENTS)} events (median) | of all rows | events/s on one connection | µs of PostgreSQL CPU per event |\n| --- | ---: | ---: | ---: | ---: |`);
  for (const v of variants) {
    const m = median(ms.get(v.label)!);
    console.log(`| ${v.label} | ${m.toFixed(1)} | ${((100 * m) / base).toFixed(0)} % | ${fmtInt((1000 * EVENTS) / m)} | ${median(cpu.get(v.label)!).toFixed(1)} |`);
  }
}
