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

const cpuUs = (c: NodeJS.CpuUsage | null): number => (c ? c.user + c.system : Number.NaN);

export interface WindowHooks {
  /** Called when the measured window opens (after the warm-up) and when it closes. */
  onWindowStart?: () => void;
  onWindowEnd?: () => void;
}

export async function rawPostRate(origin: string, seconds: number, hooks: WindowHooks = {}, connections = 64): Promise<RawResult> {
  const pool = new Pool(origin, { connections, keepAliveTimeout: 30_000, pipelining: 1 });
  const key = newKey();
  const body = JSON.stringify(payloadOfSize(1024, { type: 'bench.raw', data: { seq: 0 } }));
  // Warm-up: at least 0.5 s and 2,000 requests (so undici and the signing code are JIT-compiled,
  // even on a busy machine), at most 5 s; then the measured window of `seconds`.
  const warmupMs = 500;
  const warmupRequests = 2_000;
  const warmupMaxMs = 5_000;
  const start = nowMs();
  let measureFrom = Number.POSITIVE_INFINITY;
  let end = Number.POSITIVE_INFINITY;
  const hardEnd = start + warmupMaxMs + seconds * 1000 + 1_000;
  let warmed = 0;
  let counted = 0;
  let errors = 0;
  let cpuAtStart: NodeJS.CpuUsage | null = null;
  let cpu: NodeJS.CpuUsage | null = null;
  let firstError: unknown = null;
  let closer: NodeJS.Timeout | null = null;

  const close = () => {
    cpu = process.cpuUsage(cpuAtStart ?? undefined);
    hooks.onWindowEnd?.();
  };
  const open = () => {
    if (measureFrom !== Number.POSITIVE_INFINITY) return;
    measureFrom = nowMs();
    end = measureFrom + seconds * 1000;
    cpuAtStart = process.cpuUsage();
    hooks.onWindowStart?.();
    closer = setTimeout(close, seconds * 1000);
  };
  const forceOpen = setTimeout(open, warmupMaxMs);

  const loop = async (lane: number) => {
    // Bounded: stops at the end of the window (or the hard deadline), and after too many errors.
    for (let n = 0; nowMs() < Math.min(end, hardEnd) && errors < 1000; n++) {
      const id = `msg_raw_${lane}_${n}`;
      try {
        const res = await pool.request({ path: `/raw/${lane % 100}`, method: 'POST', headers: signedHeaders(key, id, body), body });
        await res.body.text();
        const t = nowMs();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          if (t >= measureFrom && t < end) counted++;
          else if (measureFrom === Number.POSITIVE_INFINITY && ++warmed >= warmupRequests && t - start >= warmupMs) open();
        } else errors++;
      } catch (err) {
        errors++;
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, i) => loop(i)));
  clearTimeout(forceOpen);
  if (closer) clearTimeout(closer);
  if (!cpu) close();
  await pool.close();
  if (errors >= 1000) throw new Error(`raw POST baseline: too many errors (first: ${String(firstError)})`);
  return {
    requests: counted,
    errors,
    seconds,
    rps: counted / seconds,
    clientCpuPct: ((cpuUs(cpu) / 1000) / (seconds * 1000)) * 100,
  };
}
