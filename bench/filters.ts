/**
 * Payload filters at fan-out: the publish rate of `herald api` (no worker,
 * as intake) to a tenant with 1,000 endpoints, without filters and with a
 * filter on every endpoint, alternated so that table growth and the
 * machine's other load fall on both alike.
 *
 * - `none`: 1,000 endpoints without filters; every event makes 1,000 deliveries.
 * - `all-match`: 1,000 endpoints each with a four-condition filter that
 *   every event matches, so the deliveries are the same and the difference
 *   is the filters' own cost (the event document built once per event, one
 *   jsonb_path_match per endpoint). Issue 14 asks for ≥ 0.8 of `none`.
 * - `selective`: 1,000 endpoints whose filters match one event in ten
 *   (`shard`), the use filters are for: 100 deliveries per event.
 */
import { CpuSampler } from './cpu.js';
import { openStack } from './stack.js';
import { nowMs, payloadOfSize } from './util.js';

export type FilterMode = 'none' | 'all-match' | 'selective';

export interface FilterResult {
  mode: FilterMode;
  endpoints: number;
  seconds: number;
  events: number;
  eventsPerSec: number;
  deliveriesPerEvent: number;
  /**
   * CPU milliseconds per event of `herald api` and of the PostgreSQL backends
   * of the bench database (WAL writer and checkpointer included): less
   * sensitive than the rate to what else runs on the machine.
   */
  apiCpuMsPerEvent: number | null;
  postgresCpuMsPerEvent: number | null;
}

const CLIENTS = 8;

function filterOf(mode: FilterMode, i: number): Record<string, unknown> | undefined {
  if (mode === 'none') return undefined;
  if (mode === 'selective') return { payload: { shard: i % 10 } };
  return {
    type: { $startsWith: 'bench.' },
    payload: { amount: { $gte: i % 100 }, currency: { $in: ['EUR', 'USD', 'GBP'] }, customer: { tier: { $neq: 'blocked' } } },
  };
}

/** Measures each mode `runs` times, alternating modes in a rotating order, on one database; returns results in measurement order. */
export async function runFilters(o: { runs: number; seconds: number; endpoints: number; modes: FilterMode[]; onResult?: (r: FilterResult) => void }): Promise<FilterResult[]> {
  const stack = await openStack();
  try {
    const api = await stack.start('api');
    const setup = stack.client(api, 16);
    for (const mode of o.modes) {
      const tenant = `bench_filters_${mode.replace('-', '_')}`;
      await setup.createTenant(tenant, `bench filters ${mode}`);
      for (let i = 0; i < o.endpoints; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, o.endpoints - i) }, (_, k) => {
            const f = filterOf(mode, i + k);
            return setup.createEndpoint(tenant, `http://127.0.0.1:9/filters/${i + k}`, f ? { filter: f } : {});
          }),
        );
      }
    }
    const client = stack.client(api, CLIENTS);
    const out: FilterResult[] = [];
    let seq = 0;
    const body = () =>
      JSON.stringify({
        id: `evt_fl_${seq++}`,
        type: 'bench.filters',
        payload: payloadOfSize(1024, { amount: 500, currency: 'EUR', customer: { id: 'c_1', tier: 'gold' }, shard: seq % 10 === 0 ? 0 : 1 + (seq % 9) }),
      });
    for (let run = 0; run <= o.runs; run++) {
      // the modes take turns going first: the tables grow as the scenario goes on, which would favour whichever always ran earlier
      const order = o.modes.map((_, k) => o.modes[(k + run) % o.modes.length]!);
      for (const mode of order) {
        const tenant = `bench_filters_${mode.replace('-', '_')}`;
        // run 0 warms up: connections, prepared statements, the planner's view of the tables
        const seconds = run === 0 ? Math.min(2, o.seconds) : o.seconds;
        let events = 0;
        let deliveries = 0;
        const sampler = new CpuSampler({ api: api.pid }, stack.db.name);
        sampler.begin();
        const start = nowMs();
        const end = start + seconds * 1000;
        await Promise.all(
          Array.from({ length: CLIENTS }, async () => {
            while (nowMs() < end) {
              const n = await client.publishRaw(tenant, body());
              deliveries += n; // not `deliveries += await …`: that reads the sum before the await and loses the other clients' adds
              events++;
            }
          }),
        );
        const took = (nowMs() - start) / 1000;
        const cpu = sampler.end();
        if (run === 0) continue;
        const perEvent = (pct: number | null | undefined) => (pct === null || pct === undefined ? null : (pct / 100) * cpu.seconds * 1000 / events);
        const r: FilterResult = {
          mode,
          endpoints: o.endpoints,
          seconds: took,
          events,
          eventsPerSec: events / took,
          deliveriesPerEvent: deliveries / events,
          apiCpuMsPerEvent: perEvent(cpu.procs.api),
          postgresCpuMsPerEvent: perEvent(cpu.postgres),
        };
        out.push(r);
        o.onResult?.(r);
      }
    }
    return out;
  } catch (err) {
    throw stack.explain(err);
  } finally {
    await stack.close();
  }
}
