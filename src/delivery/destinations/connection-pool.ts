/**
 * Connections to brokers, one per broker URL, shared by every endpoint
 * that names it. Concurrent sends to a URL share one connect; a connection
 * that closes (broker restart, network) is forgotten, so the next send
 * connects again. A failed connect is remembered for `failureMemoMs`, so a
 * broker that is down costs one connect attempt per interval, not one per
 * due delivery (each of those fails at once with the same error, recorded
 * as its attempt's error).
 */
export class ConnectionPool<C> {
  private readonly open = new Map<string, Promise<C>>();
  private readonly failed = new Map<string, { until: number; err: unknown }>();
  private closing = false;

  constructor(
    private readonly opts: {
      connect: (url: string, timeoutMs: number, forget: () => void) => Promise<C>;
      close: (conn: C) => Promise<void>;
      /** How long a failed connect is reused before trying again, in ms. (Default: 1000) */
      failureMemoMs?: number;
    },
  ) {}

  get(url: string, timeoutMs: number): Promise<C> {
    if (this.closing) return Promise.reject(new Error('the worker is shutting down'));
    const existing = this.open.get(url);
    if (existing) return existing;
    const memo = this.failed.get(url);
    if (memo && memo.until > Date.now()) return Promise.reject(memo.err);
    const forget = () => {
      if (this.open.get(url) === pending) this.open.delete(url);
    };
    const pending = this.opts.connect(url, timeoutMs, forget);
    this.open.set(url, pending);
    pending.then(
      () => this.failed.delete(url),
      (err: unknown) => {
        forget();
        this.failed.set(url, { until: Date.now() + (this.opts.failureMemoMs ?? 1000), err });
      },
    );
    return pending;
  }

  /** Closes every connection; `get` refuses from now on. */
  async close(): Promise<void> {
    this.closing = true;
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((p) => p.then((c) => this.opts.close(c), () => undefined).catch(() => undefined)));
  }
}
