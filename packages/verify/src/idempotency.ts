/* Processing each webhook once, though Herald delivers at least once. */

/**
 * Remembers which webhook ids were processed. Herald retries a message with
 * the same `webhook-id`, so a receiver claims the id before acting on it.
 */
export interface IdempotencyStore {
  /** `true` the first time `id` is seen (or once its claim expired), `false` while a claim holds. */
  claim(id: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets a claim, so a delivery whose processing failed can be processed on retry. */
  release?(id: string): Promise<void>;
}

/** How long {@link onceOnly} remembers an id by default: 7 days, longer than Herald keeps retrying. */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 60 * 60;

export type OnceOnlyResult<T> = { duplicate: false; value: T } | { duplicate: true };

/**
 * Runs `fn` unless `id` was already claimed in `store`. When `fn` throws,
 * the claim is released (if the store can) and the error rethrown, so answer
 * the delivery with a 5xx and Herald's retry processes it again. A duplicate
 * should be answered with 2xx, so Herald stops retrying.
 */
export async function onceOnly<T>(
  store: IdempotencyStore,
  id: string,
  fn: () => T | Promise<T>,
  options: { ttlSeconds?: number } = {},
): Promise<OnceOnlyResult<Awaited<T>>> {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError('id must be a non-empty string');
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS;
  if (!(ttlSeconds > 0)) throw new TypeError('ttlSeconds must be a number > 0');
  if (!(await store.claim(id, ttlSeconds))) return { duplicate: true };
  try {
    return { duplicate: false, value: await fn() };
  } catch (error) {
    if (store.release) {
      try {
        await store.release(id);
      } catch {
        // The original failure matters more; the claim will expire.
      }
    }
    throw error;
  }
}
