/**
 * Fan-out: one event to a tenant with 1,000 endpoints (distinct paths on
 * the receiver), through `herald serve`. Measured per event: from the start
 * of the publish call to the last of the 1,000 arrivals. A few events are
 * published one after the other, each once the previous has fully arrived.
 */
import { processRssBytes } from './cpu.js';
import type { Receiver } from './receiver.js';
import { openStack } from './stack.js';
import { nowMs, payloadOfSize, sleep } from './util.js';

export interface FanoutResult {
  endpoints: number;
  /** Publish start → last arrival, ms, one per event. */
  allArrivedMs: number[];
  /** Publish start → first arrival, ms, one per event. */
  firstArrivedMs: number[];
  duplicates: number;
  rssMb: number | null;
}

export async function runFanout(o: { run: number; receiver: Receiver; endpoints: number; events: number }): Promise<FanoutResult> {
  const stack = await openStack();
  try {
    const serve = await stack.start('serve');
    const client = stack.client(serve, 8);
    const tenant = `bench_f${o.run}`;
    await client.createTenant(tenant, 'bench fan-out');
    for (let i = 0; i < o.endpoints; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, o.endpoints - i) }, (_, k) => client.createEndpoint(tenant, `${o.receiver.url}/fan/${i + k}`)));
    }
    const body = (i: number) => JSON.stringify({ id: `evt_f${o.run}_${i}`, type: 'bench.fanout', payload: payloadOfSize(1024, { seq: i }) });
    // Warm-up event: connections to the receiver, prepared statements.
    await o.receiver.reset(false);
    await client.publishRaw(tenant, body(-1));
    await o.receiver.waitFor(o.endpoints, 60_000);
    await sleep(500);

    const clock = await o.receiver.clockOffset();
    const all: number[] = [];
    const first: number[] = [];
    let duplicates = 0;
    for (let i = 0; i < o.events; i++) {
      await o.receiver.reset(false);
      const t0 = nowMs();
      const n = await client.publishRaw(tenant, body(i));
      if (n !== o.endpoints) throw new Error(`fan-out event matched ${n} endpoints, expected ${o.endpoints}`);
      const s = await o.receiver.waitFor(o.endpoints, 60_000);
      all.push(s.lastAt - clock.offsetMs - t0);
      first.push(s.firstAt - clock.offsetMs - t0);
      duplicates += s.duplicates;
      await sleep(300);
    }
    return { endpoints: o.endpoints, allArrivedMs: all, firstArrivedMs: first, duplicates, rssMb: mb(processRssBytes(serve.pid)) };
  } catch (err) {
    throw stack.explain(err);
  } finally {
    await stack.close();
  }
}

const mb = (b: number | null) => (b === null ? null : b / 1024 / 1024);
