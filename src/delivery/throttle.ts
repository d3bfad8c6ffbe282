/**
 * Per-endpoint pacing in one worker process: a token bucket for endpoints
 * with a `rateLimitPerSecond`, and AIMD for every endpoint: a 429, 502 or
 * 504, or a request that timed out, halves the endpoint's share (its rate,
 * or its in-flight cap when it has no rate), each success wins back 5 % of
 * it, as TCP does with its window. A timeout counts because a receiver that
 * stops answering holds a worker slot per request for the whole timeout: at
 * its full cap it held 32 of 256 slots, and the other endpoints' deliveries
 * ran at 84-92 % of their rate (the benchmark's noisy neighbour). With several worker processes a configured rate is divided by
 * the number of live workers, so together they stay near the limit.
 *
 * Retries get a quarter of an endpoint's in-flight cap (RETRY_SHARE): the
 * retries an outage left behind come due together when the endpoint
 * recovers, and at its full cap that storm took the machine from everybody
 * else's first attempts. Bench retry storm (100,000 retries to one
 * endpoint, fresh events at 200/s to another, `herald api` + `herald
 * worker`, 2 runs each, alternated): at a cap of 32 the storm drained at
 * 3,807-4,243/s and the fresh p99 was 58-131 ms (publish p50 6-7 ms); at 8,
 * 1,930-2,096/s and 36-39 ms (publish p50 4.7 ms, 2.4-2.9 before the
 * storm). A just-recovered receiver is spared the full burst too.
 */
interface State {
  tokens: number;
  refilledAt: number;
  /** AIMD factor in (0, 1]. */
  factor: number;
  /** What the worker takes for this endpoint now is a retry (see taking). */
  retrying: boolean;
}

/** Share of an endpoint's in-flight cap that its retries may use (see above). */
const RETRY_SHARE = 1 / 4;

const MIN_FACTOR = 1 / 64;

export class Throttle {
  private readonly endpoints = new Map<string, State>();
  /** Live worker processes sharing each endpoint's rate. (Default: 1) */
  workers = 1;

  constructor(private readonly maxInFlight: number) {}

  private state(id: string): State {
    let s = this.endpoints.get(id);
    if (!s) {
      s = { tokens: 1, refilledAt: Date.now(), factor: 1, retrying: false };
      if (this.endpoints.size > 50_000) this.endpoints.clear();
      this.endpoints.set(id, s);
    }
    return s;
  }

  /** This process's share of an endpoint's configured rate, after slow-down. */
  rate(id: string, configured: number | null): number | null {
    if (configured === null) return null;
    return (configured * this.state(id).factor) / Math.max(1, this.workers);
  }

  /** In-flight cap for an endpoint now (lowered while it signals overload, and while it is sent retries). */
  cap(id: string): number {
    const s = this.endpoints.get(id);
    if (!s) return this.maxInFlight;
    return Math.max(1, Math.floor(this.maxInFlight * s.factor * (s.retrying ? RETRY_SHARE : 1)));
  }

  /**
   * Notes what the worker is about to take for an endpoint, a retry or a
   * first attempt; the cap follows (an endpoint's queue comes in due order,
   * so a backlog of retries is taken as one run of them).
   */
  taking(id: string, retry: boolean): void {
    const s = retry ? this.state(id) : this.endpoints.get(id);
    if (s) s.retrying = retry;
  }

  /** Takes a token if the endpoint's rate allows a send now; otherwise the milliseconds until one is due. */
  take(id: string, configured: number | null, now = Date.now()): number {
    const rate = this.rate(id, configured);
    if (rate === null) return 0;
    const s = this.state(id);
    const burst = Math.max(1, rate);
    s.tokens = Math.min(burst, s.tokens + ((now - s.refilledAt) / 1000) * rate);
    s.refilledAt = now;
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - s.tokens) / rate) * 1000);
  }

  /** Feeds back an HTTP outcome: 429/502/504 and timeouts slow the endpoint down, success speeds it up again. */
  observe(id: string, status: number | null, ok: boolean, errorCode: string | null = null): void {
    if (status === 429 || status === 502 || status === 504 || errorCode === 'timeout') {
      const s = this.state(id);
      s.factor = Math.max(MIN_FACTOR, s.factor / 2);
    } else if (ok) {
      const s = this.endpoints.get(id);
      if (s && s.factor < 1) s.factor = Math.min(1, s.factor * 1.05);
    }
  }
}
