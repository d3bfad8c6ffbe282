/**
 * Scenario 0: how fast this machine can POST signed 1 KB JSON bodies to the
 * receiver at all, with the same HTTP client Herald uses (undici, a pool of
 * 64 keep-alive connections, one request in flight per connection). This is
 * the ceiling a delivery worker on this machine is compared with.
 */
import { Pool } from 'undici';
import { payloadOfSize, nowMs } from './util.js';
import { newKey, signedHeaders } from './signing.js';

export interface RawResult {
  /** Requests completed with a 2xx inside the measured window. */
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  /** CPU of the bench process (the client) over the window, percent of one core. */
  clientCpuPct: number;
}

export async function rawPostRate(origin: string, seconds: number, connections = 64): Promise<RawResult> {
  const pool = new Pool(origin, { connections, keepAliveTimeout: 30_000, pipelining: 1 });
  const key = newKey();
  const body = JSON.stringify(payloadOfSize(1024, { type: 'bench.raw', data: { seq: 0 } }));
  const warmupMs = 500;
  const start = nowMs();
  const measureFrom = start + warmupMs;
  const end = measureFrom + seconds * 1000;
  let counted = 0;
  let errors = 0;
  let cpuAtStart: NodeJS.CpuUsage | null = null;
  let firstError: unknown = null;

  const loop = async (lane: number) => {
    // Bounded: stops at `end`, and after too many errors.
    for (let n = 0; nowMs() < end && errors < 1000; n++) {
      const id = `msg_raw_${lane}_${n}`;
      try {
        const res = await pool.request({ path: `/raw/${lane % 100}`, method: 'POST', headers: signedHeaders(key, id, body), body });
        await res.body.text();
        const t = nowMs();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          if (t >= measureFrom && t < end) counted++;
        } else errors++;
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  const warm = setTimeout(() => (cpuAtStart = process.cpuUsage()), warmupMs);
  await Promise.all(Array.from({ length: connections }, (_, i) => loop(i)));
  clearTimeout(warm);
  const cpu = process.cpuUsage(cpuAtStart ?? undefined);
  await pool.close();
  if (errors >= 1000) throw new Error(`raw POST baseline: too many errors (first: ${String(firstError)})`);
  return {
    requests: counted,
    errors,
    seconds,
    rps: counted / seconds,
    clientCpuPct: ((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100,
  };
}
