import { HeraldError, type FieldProblem } from './errors.js';

export interface TransportOptions {
  /** Herald's base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** An admin or tenant API token. */
  token: string;
  /** How many times a request answered 429 or 503 is sent again. (Default: 4) */
  maxRetries?: number;
  /** The longest wait before a retry, whatever `Retry-After` asks, in ms. (Default: 30000) */
  maxRetryDelayMs?: number;
  /** The fetch to use. (Default: globalThis.fetch) */
  fetch?: typeof fetch;
}

/** What one call sends. */
export interface Call {
  method: string;
  path: string;
  body?: unknown;
  /**
   * Safe to send twice: then a network failure is retried too, not only
   * 429/503. True for GET and DELETE, and for publishes (they carry an id).
   */
  idempotent: boolean;
}

/** Statuses after which the same request may simply be sent again. */
const RETRYABLE = new Set([429, 503]);

/**
 * HTTP with retries: on 429 and 503 it waits as long as `Retry-After` says
 * (seconds or an HTTP date; capped), or backs off exponentially with jitter
 * when the header is absent, then sends the request again.
 */
export class Transport {
  private readonly base: string;
  private readonly maxRetries: number;
  private readonly maxDelay: number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: TransportOptions) {
    if (typeof opts.url !== 'string' || !/^https?:\/\/[^/]/.test(opts.url)) throw new TypeError(`url: must be an http(s) URL such as http://127.0.0.1:8080, got ${JSON.stringify(opts.url)}`);
    if (typeof opts.token !== 'string' || opts.token === '') throw new TypeError('token: an API token is required');
    this.base = opts.url.replace(/\/+$/, '');
    this.maxRetries = opts.maxRetries ?? 4;
    this.maxDelay = opts.maxRetryDelayMs ?? 30_000;
    this.fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async send<T>(call: Call): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchFn(this.base + call.path, {
          method: call.method,
          headers: { authorization: `Bearer ${this.opts.token}`, ...(call.body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
        });
      } catch (err) {
        if (!call.idempotent || attempt >= this.maxRetries) throw err;
        await sleep(this.backoff(attempt));
        continue;
      }
      if (RETRYABLE.has(res.status) && attempt < this.maxRetries) {
        await res.body?.cancel();
        await sleep(this.delayFor(res.headers.get('retry-after'), attempt));
        continue;
      }
      const text = await res.text();
      const body: unknown = text ? JSON.parse(text) : undefined;
      if (!res.ok) {
        const e = (body as { error?: { code?: string; message?: string; details?: FieldProblem[] } } | undefined)?.error;
        throw new HeraldError(res.status, e?.code ?? 'http_error', e?.message ?? `HTTP ${res.status}`, e?.details);
      }
      return body as T;
    }
  }

  /** `Retry-After` in ms (seconds or an HTTP date), capped; the backoff when absent or unreadable. */
  private delayFor(header: string | null, attempt: number): number {
    if (header !== null) {
      const seconds = Number(header);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
      if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), this.maxDelay);
    }
    return this.backoff(attempt);
  }

  /** 0.5 s, 1 s, 2 s, ... up to the cap, each between half and all of it. */
  private backoff(attempt: number): number {
    const full = Math.min(500 * 2 ** attempt, this.maxDelay);
    return full / 2 + Math.random() * (full / 2);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
