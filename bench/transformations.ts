/**
 * Transformations at delivery: the rate at which one `herald worker`
 * drains a backlog to endpoints without transformations and to endpoints
 * that each carry a trivial one, alternated run by run so that the
 * machine's other load falls on both alike.
 *
 * - `none`: 20 endpoints, no transformation; the worker signs and sends.
 * - `trivial`: the same 20 endpoints' twins, each with a transformation
 *   that sets one header; every delivery goes through the sandbox thread
 *   (a fresh QuickJS context per call) before it is signed.
 *
 * Each measurement publishes its events while no worker runs, then starts
 * a worker and times the drain at the receiver (first to last arrival).
 */
import type { Receiver } from './receiver.js';
import { openStack } from './stack.js';
import { nowMs, payloadOfSize, progress, sleep } from './util.js';

export type TransformMode = 'none' | 'trivial';

export interface TransformResult {
  mode: TransformMode;
  deliveries: number;
  seconds: number;
  deliveriesPerSec: number;
}

const ENDPOINTS = 20;
const TRIVIAL = '(webhook) => { webhook.headers["x-transformed"] = "1"; return webhook; }';
const BATCH = 500;

/** Measures each mode `runs` times (after a warm-up round), alternating; returns results in measurement order. */
export async function runTransformations(o: {
  runs: number;
  deliveries: number;
  receiver: Receiver;
  onResult?: (r: TransformResult) => void;
}): Promise<TransformResult[]> {
  const stack = await openStack({ env: { HERALD_TRANSFORM_THREADS: process.env.HERALD_TRANSFORM_THREADS ?? '1' } });
  try {
    const api = await stack.start('api');
    const client = stack.client(api, 4);
    const modes: TransformMode[] = ['none', 'trivial'];
    for (const mode of modes) {
      await client.createTenant(`bench_tr_${mode}`, `bench transformations ${mode}`);
      for (let i = 0; i < ENDPOINTS; i++) {
        await client.createEndpoint(`bench_tr_${mode}`, `${o.receiver.url}/tr/${mode}/${i}`, mode === 'trivial' ? { transformation: TRIVIAL } : {});
      }
    }
    const pad = JSON.stringify(payloadOfSize(1024, { seq: 0 }));
    const events = Math.ceil(o.deliveries / ENDPOINTS);
    const out: TransformResult[] = [];
    let seq = 0;
    for (let run = 0; run <= o.runs; run++) {
      const order = run % 2 === 0 ? modes : [...modes].reverse();
      for (const mode of order) {
        // run 0 warms up (connections, the sandbox thread's start) with a tenth of the events
        const n = run === 0 ? Math.ceil(events / 10) : events;
        for (let from = 0; from < n; from += BATCH) {
          const parts: string[] = [];
          for (let i = from; i < Math.min(n, from + BATCH); i++) parts.push(`{"id":"evt_tr_${seq++}","type":"bench.transform","payload":${pad}}`);
          await client.publishBatchRaw(`bench_tr_${mode}`, `{"events":[${parts.join(',')}]}`);
        }
        const total = n * ENDPOINTS;
        await o.receiver.reset();
        const worker = await stack.start('worker');
        const deadline = nowMs() + 600_000;
        let s = await o.receiver.stats();
        while (s.distinct < total) {
          if (worker.child.exitCode !== null) throw new Error(`worker exited\n${worker.tail()}`);
          if (nowMs() > deadline) throw new Error(`transformations ${mode}: ${s.distinct}/${total} delivered in 600 s`);
          await sleep(100);
          s = await o.receiver.stats();
        }
        await worker.stop();
        if (run === 0) continue;
        const seconds = (s.lastAt - s.firstAt) / 1000;
        const r: TransformResult = { mode, deliveries: total, seconds, deliveriesPerSec: (s.count - 1) / seconds };
        out.push(r);
        o.onResult?.(r);
      }
      if (run === 0) progress('  transformations: warmed up');
    }
    return out;
  } catch (err) {
    throw stack.explain(err);
  } finally {
    await stack.close();
  }
}
