/**
 * Idle: one `herald worker` with nothing to do (a tenant and an endpoint,
 * no events). Measured over a window: the worker's CPU and the
 * transactions it runs against PostgreSQL (every query Herald sends outside
 * an explicit transaction is one), from pg_stat_database.
 */
import { CpuSampler } from './cpu.js';
import { BenchDbProbe } from './db.js';
import type { Receiver } from './receiver.js';
import { openStack } from './stack.js';
import { sleep } from './util.js';

export interface IdleResult {
  seconds: number;
  workerCpuPct: number | null;
  queriesPerSec: number;
}

export async function runIdle(o: { run: number; receiver: Receiver; seconds: number }): Promise<IdleResult> {
  const stack = await openStack();
  let probe: BenchDbProbe | null = null;
  try {
    const api = await stack.start('api');
    const client = stack.client(api, 2);
    await client.createTenant(`bench_z${o.run}`, 'bench idle');
    await client.createEndpoint(`bench_z${o.run}`, `${o.receiver.url}/idle`);
    await api.stop(); // only the worker stays
    const worker = await stack.start('worker');
    probe = await BenchDbProbe.open(stack.db.url);
    // Past start-up work, and past its statistics: a backend that goes idle
    // flushes what it counted only after 10 s (PGSTAT_IDLE_INTERVAL), so with a
    // 4 s wait the start-up's migration checks (about 40 transactions) landed
    // in the window: 1.18 queries/s reported where the server log showed 0.71.
    await sleep(11_500);
    await probe.clearSnapshot();
    const before = await probe.counters();
    const sampler = new CpuSampler({ worker: worker.pid }, false);
    sampler.begin();
    await sleep(o.seconds * 1000);
    const cpu = sampler.end();
    await sleep(1100); // statistics are flushed at most once a second
    await probe.clearSnapshot();
    const after = await probe.counters();
    // The probe's own transactions: the two counters() calls and clearSnapshot() each run one.
    const own = 2;
    return { seconds: cpu.seconds, workerCpuPct: cpu.procs.worker ?? null, queriesPerSec: Math.max(0, after.xact - before.xact - own) / (o.seconds + 1.1) };
  } catch (err) {
    throw stack.explain(err);
  } finally {
    await probe?.close();
    await stack.close();
  }
}
