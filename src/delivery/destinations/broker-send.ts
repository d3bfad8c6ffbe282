import { classify, type Send, type SendResult } from '../sender.js';

/** A failure a destination knows how to name: `code` becomes the attempt's errorCode. */
export class DestinationError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DestinationError';
  }
}

/**
 * Runs one publish to a broker as a Send: settles exactly once, with a
 * success when `publish` resolves (the broker confirmed), a failure named
 * by the error it throws, `timeout` when the deadline passes first (a
 * broker that never answers cannot hold a worker slot past the endpoint's
 * timeout), or `aborted` on shutdown. `connecting` tells a timeout during
 * the connect from one waiting for the broker's confirmation.
 */
export function brokerSend(timeoutMs: number, publish: (progress: { connected: boolean }) => Promise<void>): Send {
  const started = performance.now();
  const progress = { connected: false };
  let settle!: (r: SendResult) => void;
  let over = false;
  const done = new Promise<SendResult>((resolve) => {
    settle = resolve;
  });
  const finish = (code: string | null, message: string | null): void => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    settle(result(code, message, performance.now() - started));
  };
  const timer = setTimeout(
    () =>
      progress.connected
        ? finish('timeout', `the broker did not confirm the message within ${timeoutMs} ms`)
        : finish('connect_timeout', `could not connect to the broker within ${timeoutMs} ms`),
    timeoutMs,
  );
  publish(progress).then(
    () => finish(null, null),
    (err: unknown) => {
      const named = err instanceof DestinationError ? { code: err.code, message: err.message } : classify(err, false, timeoutMs);
      finish(named.code, named.message);
    },
  );
  return { done, abort: () => finish('aborted', 'publish aborted (worker shutting down)') };
}

function result(errorCode: string | null, errorMessage: string | null, durationMs: number): SendResult {
  return {
    ok: errorCode === null,
    status: null,
    headers: null,
    body: null,
    bodyTruncated: false,
    durationMs: Math.round(durationMs),
    errorCode,
    errorMessage,
    retryAfterMs: null,
  };
}
