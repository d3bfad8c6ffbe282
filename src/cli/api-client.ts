import { CliError, EXIT, exitCodeOfStatus } from './exit-codes.js';

/** Where the API is and who calls it. */
export interface Connection {
  /** Base URL, e.g. http://127.0.0.1:8080 (no trailing slash). */
  url: string;
  /** Bearer token (admin or tenant). */
  token: string;
}

/** One page of a list route: `{data, nextCursor}`. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** How long one request may take before the server counts as unreachable. (Default: 30 s) */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The CLI's only door to Herald: every HTTP call goes through `request`,
 * which turns an API error into a CliError carrying the API's own one-line
 * message and an exit code (exit-codes.ts), and a network failure into
 * "cannot reach". Uses Node's fetch: the CLI makes a handful of calls, so
 * fetch's per-request cost (measured ≈ 5,500/s, DESIGN.md) does not matter.
 */
export class ApiClient {
  constructor(readonly connection: Connection) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.open(method, path, { body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    return (text ? parseJson(text) : undefined) as T;
  }

  /**
   * Sends a request and returns the response once its status is known, its
   * body unread (for streams), or throws the CliError that `request` would.
   * `signal` bounds the whole exchange. (Default: no bound)
   */
  async open(method: string, path: string, opts: { body?: unknown; signal?: AbortSignal; accept?: string } = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.connection.url + path, {
        method,
        headers: {
          authorization: `Bearer ${this.connection.token}`,
          ...(opts.accept ? { accept: opts.accept } : {}),
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new CliError(`cannot reach Herald at ${this.connection.url} (${why}); is it running? (--url, HERALD_URL)`, EXIT.unreachable, { cause: err });
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new CliError(apiMessage(res.status, text ? parseJson(text) : undefined, text), exitCodeOfStatus(res.status));
    }
    return res;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** Every item of a paginated list route, page after page. */
  async *all<T>(path: string, query: Record<string, string | undefined> = {}): AsyncGenerator<T> {
    let cursor: string | null = null;
    do {
      const page: Page<T> = await this.get<Page<T>>(path + queryString({ ...query, limit: '250', cursor: cursor ?? undefined }));
      yield* page.data;
      cursor = page.nextCursor;
    } while (cursor);
  }
}

/** `?a=1&b=2` of the defined values, or ''. */
export function queryString(query: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A path segment, encoded. */
export const seg = (s: string): string => encodeURIComponent(s);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The API's own message (`{error: {message}}`), or the status when there is none (a proxy's error page). */
function apiMessage(status: number, body: unknown, text: string): string {
  const message = (body as { error?: { message?: unknown } } | undefined)?.error?.message;
  if (typeof message === 'string') return message;
  const snippet = text.trim().split('\n')[0]?.slice(0, 200);
  return `HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
}
