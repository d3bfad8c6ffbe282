/**
 * Open-loop publishing at a steady rate: single-event POSTs fired by a 1 ms
 * timer, never more than `maxInFlight` at once (beyond it a tick's events
 * are skipped and counted). Used by every scenario that measures
 * publish → receive latency.
 */
import type { HeraldClient } from './herald-client.js';
import { fmtInt, nowMs, progress, sleep } from './util.js';

export interface PacedOptions {
  client: HeraldClient;
  tenant: string;
  rate: number;
  seconds: number;
  maxInFlight: number;
  /** Serialised event for a sequence number and its send time. */
  body: (seq: number, sentAt: number) => { id: string; json: string };
  label: string;
}

export interface PacedResult {
  /** Publish call start per accepted event id. */
  startedAt: Map<string, number>;
  /** Publish call durations, ms, sorted. */
  publishMs: number[];
  ok: number;
  errors: number;
  firstError: unknown;
  skipped: number;
  /** First call to last 202, seconds. */
  seconds: number;
}

export async function pacedPublish(o: PacedOptions): Promise<PacedResult> {
  const total = Math.round(o.rate * o.seconds);
  const startedAt = new Map<string, number>();
  const publishMs: number[] = [];
  let sent = 0;
  let ok = 0;
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  let firstError: unknown = null;
  let lastAcceptedAt = 0;
  const fire = (seq: number) => {
    const t0 = nowMs();
    const { id, json } = o.body(seq, t0);
    startedAt.set(id, t0);
    inFlight++;
    o.client
      .publishRaw(o.tenant, json)
      .then(
        () => {
          ok++;
          lastAcceptedAt = nowMs();
          publishMs.push(lastAcceptedAt - t0);
        },
        (err: unknown) => {
          errors++;
          firstError ??= err;
          startedAt.delete(id);
        },
      )
      .finally(() => inFlight--);
  };
  const start = nowMs();
  let lastLog = start;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const t = nowMs();
      const due = Math.min(total, Math.floor(((t - start) / 1000) * o.rate));
      while (sent < due) {
        if (inFlight >= o.maxInFlight) {
          skipped += due - sent;
          sent = due;
          break;
        }
        fire(sent++);
      }
      if (t - lastLog > 2000) {
        lastLog = t;
        progress(`  ${o.label}: published ${fmtInt(ok)}/${fmtInt(total)} (${inFlight} in flight)`);
      }
      if (sent >= total || t - start > o.seconds * 1000 + 5_000) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const settleDeadline = nowMs() + 30_000;
  while (inFlight > 0 && nowMs() < settleDeadline) await sleep(5);
  publishMs.sort((a, b) => a - b);
  // Accepted rate: from the first call to the last 202 (calls still queued when pacing ended count, and so does their wait).
  return { startedAt, publishMs, ok, errors, firstError, skipped, seconds: (Math.max(lastAcceptedAt, start + 1) - start) / 1000 };
}

/** Arrival − publish start per event (first arrival of each id), ms, sorted. */
export function latencies(startedAt: Map<string, number>, arrivals: { ids: string[]; times: number[] }, clockOffsetMs: number): number[] {
  const lat: number[] = [];
  const seen = new Set<string>();
  arrivals.ids.forEach((id, i) => {
    const t0 = startedAt.get(id);
    if (t0 === undefined || seen.has(id)) return;
    seen.add(id);
    lat.push((arrivals.times[i] as number) - clockOffsetMs - t0);
  });
  return lat.sort((a, b) => a - b);
}
