import type { RetryPolicy } from './types.js';

/**
 * Standard Webhooks' recommended schedule (and Svix's default): after the
 * first attempt, retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
 */
export const DEFAULT_RETRY: RetryPolicy = { schedule: [5, 300, 1800, 7200, 18000, 36000, 36000], jitter: 0.1 };

/** Total attempts a policy allows (the first one included). */
export function maxAttempts(policy: RetryPolicy): number {
  return 1 + ('schedule' in policy ? policy.schedule.length : policy.maxRetries);
}

/**
 * Delay in milliseconds before retry number `retry` (1-based), or null when
 * the policy is exhausted. Jitter is only added, never subtracted.
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number | null {
  let seconds: number;
  if ('schedule' in policy) {
    const s = policy.schedule[retry - 1];
    if (s === undefined) return null;
    seconds = s;
  } else {
    if (retry > policy.maxRetries) return null;
    seconds = Math.min(policy.maxSeconds, policy.initialSeconds * (policy.factor ?? 2) ** (retry - 1));
  }
  const jitter = policy.jitter ?? 0.1;
  return Math.round(seconds * 1000 * (1 + jitter * random()));
}

/**
 * Parses `Retry-After` (delta seconds or an HTTP date) into milliseconds from
 * `now`; null when absent or unparseable.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/**
 * Next delay after a failed attempt: the schedule's delay, pushed out (never
 * pulled in) by a `Retry-After` the receiver sent with 429 or 503, capped at
 * `retryAfterMaxMs`. Returns null when the policy is exhausted: a receiver
 * cannot buy more attempts than the schedule allows.
 */
export function nextDelayMs(
  policy: RetryPolicy,
  attemptsMade: number,
  retryAfterMs: number | null,
  retryAfterMaxMs: number,
  random?: () => number,
): number | null {
  const base = retryDelayMs(policy, attemptsMade, random);
  if (base === null) return null;
  if (retryAfterMs === null) return base;
  return Math.max(base, Math.min(retryAfterMs, retryAfterMaxMs));
}
