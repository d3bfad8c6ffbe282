/**
 * Retry storm: an endpoint that was down has N queued retries (default
 * 100,000) and comes back, while the same tenant keeps publishing fresh
 * events to another endpoint. The question is whether the fresh first
 * attempts still go out at once.
 *
 * One tenant, two endpoints on the receiver: `storm` (subscribed to
 * `storm.*`) and `fresh` (subscribed to `fresh.*`). Phase 1, the baseline:
 * `herald api` + `herald worker`, fresh events paced at RATE/s, latency
 * measured. Then the worker is frozen (SIGSTOP), N storm events are
 * published with the batch route and marked as failed once and due now
 * (attempts = 1), as an outage leaves them, and VACUUM ANALYZE runs. Phase
 * 2: the worker is thawed (SIGCONT) and the same paced fresh flow runs
 * while the storm drains.
 *
 * Frozen, not restarted: the retries come back to a worker that has been
 * running, as they do when an endpoint recovers. A restarted worker spends
 * its first second or so cold (code not yet optimized, young heap), and
 * that alone put the fresh p99 at 127-173 ms with a "storm" of 1,000
 * retries, drained in a fraction of a second (fresh events sent in the
 * first 0.5 s waited 160-300 ms, later ones 10-30): the scenario measured a
 * cold start rather than a storm.
 */
import { BenchDbProbe } from './db.js';
import { latencies, pacedPublish } from './paced.js';
import type { Receiver } from './receiver.js';
import { openStack } from './stack.js';
import { fmtInt, nowMs, payloadOfSize, percentile, progress, sleep } from './util.js';

export interface StormPhase {
  fresh: number;
  arrived: number;
  p50: number;
  p99: number;
  max: number;
  /** Publish call (the API's 202), ms. */
  publishP50: number;
  publishP99: number;
  /** Storm deliveries that arrived during the phase. */
  stormDelivered: number;
  stormPerSec: number;
}

export interface StormResult {
  retries: number;
  rate: number;
  baseline: StormPhase;
  storm: StormPhase;
}

export async function runStorm(o: { run: number; receiver: Receiver; retries: number; rate: number; seconds: number }): Promise<StormResult> {
  const stack = await openStack();
  let probe: BenchDbProbe | null = null;
  let frozen: number | null = null;
  try {
    const api = await stack.start('api');
    probe = await BenchDbProbe.open(stack.db.url);
    const client = stack.client(api, 32);
    const tenant = `bench_r${o.run}`;
    await client.createTenant(tenant, 'bench retry storm');
    await client.createEndpoint(tenant, `${o.receiver.url}/storm/0`, { eventTypes: ['storm.*'] });
    await client.createEndpoint(tenant, `${o.receiver.url}/fresh/0`, { eventTypes: ['fresh.*'] });
    const pad = JSON.stringify(payloadOfSize(1024, { seq: 0 }));
    const freshBody = (phase: string) => (seq: number) => {
      const id = `evt_r${o.run}_${phase}_${seq}`;
      return { id, json: `{"id":"${id}","type":"fresh.event","payload":${pad}}` };
    };

    const phase = async (name: string): Promise<StormPhase> => {
      const clock = await o.receiver.clockOffset();
      await o.receiver.reset(true);
      const paced = await pacedPublish({
        client,
        tenant,
        rate: o.rate,
        seconds: o.seconds,
        maxInFlight: 256,
        body: freshBody(name),
        label: `run ${o.run} storm (${name})`,
      });
      const wantFresh = paced.ok;
      const deadline = nowMs() + 30_000;
      let arrivals = await o.receiver.arrivals();
      const isFresh = (id: string) => paced.startedAt.has(id);
      while (arrivals.ids.filter(isFresh).length < wantFresh && nowMs() < deadline) {
        await sleep(50);
        arrivals = await o.receiver.arrivals();
      }
      const lat = latencies(paced.startedAt, arrivals, clock.offsetMs);
      const storm = arrivals.ids.length - lat.length;
      return {
        fresh: wantFresh,
        arrived: lat.length,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        max: lat[lat.length - 1] ?? Number.NaN,
        publishP50: percentile(paced.publishMs, 50),
        publishP99: percentile(paced.publishMs, 99),
        stormDelivered: storm,
        stormPerSec: storm / paced.seconds,
      };
    };

    const worker = await stack.start('worker');
    // Warm-up: connections, prepared statements.
    await pacedPublish({ client, tenant, rate: 100, seconds: 1, maxInFlight: 64, body: freshBody('warm'), label: `run ${o.run} storm (warm-up)` });
    await sleep(1000);
    const baseline = await phase('baseline');
    // the baseline's last outcomes written (their queue rows gone) before the worker is frozen
    const written = nowMs() + 10_000;
    while ((await probe.exec('select 1 from queue limit 1')) > 0 && nowMs() < written) await sleep(20);
    process.kill(worker.pid, 'SIGSTOP');
    frozen = worker.pid;

    progress(`  run ${o.run} storm: queueing ${fmtInt(o.retries)} retries for the storm endpoint`);
    const batches = Math.ceil(o.retries / 1000);
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < batches) {
          const b = next++;
          const parts: string[] = [];
          for (let i = b * 1000; i < Math.min(o.retries, (b + 1) * 1000); i++) parts.push(`{"id":"evt_r${o.run}_queued_${i}","type":"storm.event","payload":${pad}}`);
          await client.publishBatchRaw(tenant, `{"events":[${parts.join(',')}]}`);
        }
      }),
    );
    // the batch route leaves its deliveries to the workers (migration 0033), and the worker is frozen
    const deferred = await probe.writeOutDeferred();
    if (deferred !== o.retries) throw new Error(`storm: wrote out ${deferred} deferred deliveries, expected ${o.retries}`);
    // as an outage leaves them: one failed attempt each and due now, in the
    // delivery record and in the queue (which is what the worker claims from)
    const marked = await probe.exec(`update deliveries set attempts = 1, next_attempt_at = now() where status = 'pending'`);
    const queued = await probe.exec(`update queue set attempts = 1, due_at = now()`);
    if (marked !== o.retries || queued !== o.retries) throw new Error(`storm: marked ${marked} deliveries and ${queued} queue rows, expected ${o.retries}`);
    await probe.exec('vacuum analyze deliveries');
    await probe.exec('vacuum analyze queue');

    process.kill(worker.pid, 'SIGCONT');
    frozen = null;
    const storm = await phase('during');
    return { retries: o.retries, rate: o.rate, baseline, storm };
  } catch (err) {
    throw stack.explain(err);
  } finally {
    if (frozen !== null) process.kill(frozen, 'SIGCONT'); // so that it can stop
    await probe?.close();
    await stack.close();
  }
}
