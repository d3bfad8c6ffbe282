import { Pool } from 'undici';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

/** Just enough of Herald's REST API for the bench, over keep-alive connections. */
export class HeraldClient {
  private readonly pool: Pool;

  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    connections = 16,
  ) {
    this.pool = new Pool(new URL(baseUrl).origin, { connections, keepAliveTimeout: 30_000 });
  }

  async call<T>(method: 'GET' | 'POST', path: string, body: unknown, expect: number): Promise<T> {
    return this.send<T>(method, path, body === undefined ? null : JSON.stringify(body), expect, 30_000);
  }

  /** One request with a body already serialised (null: none); the parsed JSON answer, or HttpError. */
  private async send<T>(method: 'GET' | 'POST', path: string, body: string | Buffer | null, expect: number, timeoutMs: number): Promise<T> {
    const res = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${this.token}`, ...(body === null ? {} : { 'content-type': 'application/json' }) },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode !== expect) throw new HttpError(res.statusCode, text, `${method} ${path}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  createTenant(id: string, name: string): Promise<{ id: string }> {
    return this.call('POST', '/v1/tenants', { id, name }, 201);
  }

  createEndpoint(tenantId: string, url: string, options: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
    return this.call('POST', `/v1/tenants/${tenantId}/endpoints`, { url, ...options }, 201);
  }

  /** Publishes a batch (`{"events":[…]}`, already serialised); returns the events accepted. */
  async publishBatchRaw(tenantId: string, body: string | Buffer): Promise<number> {
    const r = await this.send<{ data: unknown[] }>('POST', `/v1/tenants/${tenantId}/events/batch`, body, 202, 120_000);
    return r.data.length;
  }

  /** Publishes one event; `body` is already serialised (it holds the send time). */
  async publishRaw(tenantId: string, body: string | Buffer): Promise<number> {
    const r = await this.send<{ deliveries: number }>('POST', `/v1/tenants/${tenantId}/events`, body, 202, 30_000);
    return r.deliveries;
  }

  async metricsText(): Promise<string> {
    const res = await this.pool.request({ method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${this.token}` } });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new HttpError(res.statusCode, text, 'GET /metrics');
    return text;
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => undefined);
  }
}

/** Value of one Prometheus sample line (`name{labels} value`), summed over matching lines. */
export function promValue(text: string, name: string, labelFilter?: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (labelFilter && !rest.includes(labelFilter)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}
