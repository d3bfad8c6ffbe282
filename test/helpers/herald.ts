import { loadConfig, type ConfigInput } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { start, type Running } from '../../src/runtime.js';
import { hashToken } from '../../src/security/tokens.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
/** The key that encrypts endpoint secrets in tests (32 bytes, base64). */
export const SECRET_KEY = Buffer.alloc(32, 0x5a).toString('base64');

export interface TestHerald {
  url: string;
  running: Running;
  database: TestDatabase;
  api: Api;
  stop(): Promise<void>;
}

/**
 * Herald (API + worker, or either) in this process on a fresh database,
 * listening on a free loopback port, in dev mode so deliveries may go to
 * loopback receivers.
 */
export async function startHerald(
  overrides: Partial<ConfigInput> = {},
  roles = { api: true, worker: true },
  database?: TestDatabase,
): Promise<TestHerald> {
  const db = database ?? (await createTestDatabase());
  const config = loadConfig(
    {
      port: 0,
      host: '127.0.0.1',
      dev: true,
      pollIntervalMs: 200,
      databaseUrl: db.url,
      dataDir: db.dataDir,
      adminToken: ADMIN_TOKEN,
      secretKeys: [SECRET_KEY],
      logLevel: 'warn',
      shutdownTimeoutMs: 2_000,
      // the worker on the test's thread, where tests can reach it (test/worker-thread.test.ts covers the thread;
      // `herald serve` processes in the CLI and chaos tests run it the default way)
      workerThread: false,
      ...overrides,
    },
    {},
  );
  const running = await start(config, createLogger(config.logLevel), roles, hashToken(ADMIN_TOKEN));
  const url = running.url ?? '';
  return {
    url,
    running,
    database: db,
    api: new Api(url, ADMIN_TOKEN),
    async stop() {
      await running.stop();
      if (!database) await db.drop();
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A tiny REST client for tests. */
export class Api {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  as(token: string): Api {
    return new Api(this.base, token);
  }

  async req<T = any>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const res = await fetch(this.base + path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(path: string) {
    return this.req<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.req<T>('POST', path, body ?? {});
  }
  patch<T = any>(path: string, body: unknown) {
    return this.req<T>('PATCH', path, body);
  }
  delete<T = any>(path: string) {
    return this.req<T>('DELETE', path);
  }

  /** Creates a tenant and returns its id. */
  async tenant(name = 'Acme'): Promise<string> {
    const r = await this.post('/v1/tenants', { name });
    if (r.status !== 201) throw new Error(`tenant: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  }

  /** Creates an endpoint and returns `{id, secret}`. */
  async endpoint(tenantId: string, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const r = await this.post(`/v1/tenants/${tenantId}/endpoints`, body);
    if (r.status !== 201) throw new Error(`endpoint: ${r.status} ${JSON.stringify(r.body)}`);
    return { id: r.body.id, secret: r.body.secret };
  }

  async publish(tenantId: string, type: string, payload: Record<string, unknown>, id?: string): Promise<ApiResponse> {
    return this.post(`/v1/tenants/${tenantId}/events`, { type, payload, ...(id ? { id } : {}) });
  }

  /** Polls a delivery until `pred` holds. */
  async waitDelivery(tenantId: string, deliveryId: string, pred: (d: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.get(`/v1/tenants/${tenantId}/deliveries/${deliveryId}`);
      if (r.status === 200 && pred(r.body)) return r.body;
      if (Date.now() > until) throw new Error(`delivery ${deliveryId} never matched; last: ${JSON.stringify(r.body)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}
