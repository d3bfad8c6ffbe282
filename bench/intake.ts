/**
 * Intake: how many events per second `herald api` accepts (each durable
 * before its 202), with no worker running. Single-event POSTs from many
 * keep-alive clients (closed loop), then the batch route with 1,000 events
 * per request. The tenant has one endpoint, so every event also writes one
 * delivery row.
 */
import { stopChild } from './children.js';
import { CpuSampler, type CpuReport } from './cpu.js';
import { BenchDbProbe } from './db.js';
import { EventBodies } from './event-bodies.js';
import { startFloor } from './floor.js';
import { HeraldClient } from './herald-client.js';
import type { Receiver } from './receiver.js';
import { openStack } from './stack.js';
import { nowMs, payloadOfSize, percentile } from './util.js';

export type IntakeMode = 'single' | 'batch' | 'floor' | 'floor-rows' | 'floor-single';

export interface IntakeResult {
  /**
   * floor: the batch load against floor-server.ts, the least work durable intake takes; floor-rows: the same
   * program writing Herald's own rows (event, delivery record, queue row) into Herald's tables; floor-single:
   * the single-event load against floor-server.ts (group-committed).
   */
  mode: IntakeMode;
  clients: number;
  eventsPerRequest: number;
  seconds: number;
  events: number;
  eventsPerSec: number;
  /**
   * batch: the deliveries the batch route left to the workers (migration 0033), written out afterwards by the
   * worker's statement on one connection, and how long that took.
   */
  writtenOut?: { deliveries: number; seconds: number };
  /** Request latency, ms. */
  requestP50: number;
  requestP99: number;
  cpu: CpuReport;
}

export interface IntakeOptions {
  run: number;
  receiver: Receiver;
  seconds: number;
  /** Run the API under --cpu-prof, writing the profile here. */
  cpuProfDir?: string;
  /** Which measurements to make. (Default: both) */
  modes?: IntakeMode[];
}

const SINGLE_CLIENTS = 64;
const BATCH_CLIENTS = 4;
const BATCH_SIZE = 1000;

export async function runIntake(o: IntakeOptions): Promise<IntakeResult[]> {
  const stack = await openStack();
  try {
    const prof = o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=intake-api-${o.run}.cpuprofile`] : [];
    const api = await stack.start('api', prof);
    const setup = stack.client(api, 4);
    const tenant = `bench_i${o.run}`;
    await setup.createTenant(tenant, 'bench intake');
    await setup.createEndpoint(tenant, `${o.receiver.url}/intake`);
    const bodies = new EventBodies('bench.intake', JSON.stringify(payloadOfSize(1024, { seq: 0 })));
    const out: IntakeResult[] = [];

    for (const mode of o.modes ?? (['single', 'batch', 'floor', 'floor-rows', 'floor-single'] as const)) {
      const single = mode === 'single' || mode === 'floor-single';
      const clients = single ? SINGLE_CLIENTS : BATCH_CLIENTS;
      const per = single ? 1 : BATCH_SIZE;
      const floor = mode.startsWith('floor')
        ? await startFloor({ databaseUrl: stack.db.url, env: mode === 'floor-rows' ? { FLOOR_RECORD: 'herald' } : {} })
        : null;
      const client = floor ? new HeraldClient(floor.url, stack.token, clients) : stack.client(api, clients);
      let seq = 0;
      const nextId = () => `evt_i${o.run}_${mode}_${seq++}`;
      const body = () => (single ? bodies.one(nextId()) : bodies.batch(Array.from({ length: per }, nextId)));
      const call = (b: Buffer) => (single ? client.publishRaw(tenant, b) : client.publishBatchRaw(tenant, b));
      // Warm-up: connections, prepared statements, JIT.
      await Promise.all(Array.from({ length: clients }, () => call(body())));

      const sampler = new CpuSampler({ api: floor?.child.pid ?? api.pid }, stack.db.name);
      const latencies: number[] = [];
      let accepted = 0;
      const start = nowMs();
      const end = start + o.seconds * 1000;
      sampler.begin();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (nowMs() < end) {
            const b = body();
            const t0 = nowMs();
            await call(b);
            latencies.push(nowMs() - t0);
            accepted += per;
          }
        }),
      );
      const seconds = (nowMs() - start) / 1000;
      const cpu = sampler.end();
      let writtenOut: IntakeResult['writtenOut'];
      if (mode === 'batch') {
        // the work accepting left for later, measured too: what one worker's statements take to write it out
        const probe = await BenchDbProbe.open(stack.db.url);
        const t0 = nowMs();
        const deliveries = await probe.writeOutDeferred().finally(() => probe.close());
        writtenOut = { deliveries, seconds: (nowMs() - t0) / 1000 };
      }
      if (floor) {
        await client.close();
        await stopChild(floor.child);
      }
      latencies.sort((a, b) => a - b);
      out.push({
        mode,
        clients,
        eventsPerRequest: per,
        seconds,
        events: accepted,
        eventsPerSec: accepted / seconds,
        writtenOut,
        requestP50: percentile(latencies, 50),
        requestP99: percentile(latencies, 99),
        cpu,
      });
    }
    return out;
  } catch (err) {
    throw stack.explain(err);
  } finally {
    await stack.close();
  }
}
