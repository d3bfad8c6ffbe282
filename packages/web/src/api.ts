/**
 * The UI's only way to the server: Herald's public REST API, with the
 * signed-in token. Types mirror the API's responses (src/api/schemas.ts).
 */

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface EventType {
  name: string;
  description: string | null;
  schema: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

export type Signature = { scheme: 'standard' } | { scheme: 'hmac-sha256'; header: string; encoding?: 'hex' | 'base64' };
export type Retry =
  | { schedule: number[]; jitter?: number }
  | { backoff: 'exponential'; initialSeconds: number; maxSeconds: number; maxRetries: number; factor?: number; jitter?: number };

export interface Endpoint {
  id: string;
  tenantId: string;
  url: string;
  description: string;
  eventTypes: string[] | null;
  disabled: boolean;
  disabledReason: string | null;
  headers: Record<string, string>;
  signature: Signature;
  retry: Retry;
  timeoutMs: number;
  createdAt: string;
  updatedAt: string;
}

export interface HeraldEvent {
  id: string;
  tenantId: string;
  type: string;
  payload: unknown;
  createdAt: string;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface Delivery {
  id: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Attempt {
  id: string;
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  request: { url: string; headers: Record<string, string> };
  response: { status: number; headers: Record<string, string>; body: string; bodyTruncated: boolean } | null;
  error: { code: string; message: string } | null;
}

export interface DeliveryWithAttempts extends Delivery {
  attemptLog: Attempt[];
}

export interface AuditEntry {
  id: string;
  tenantId: string | null;
  actor: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

export interface StatsPoint {
  start: string;
  succeeded: number;
  failed: number;
  pending: number;
  attempts: number;
  attemptsSucceeded: number;
  attemptsFailed: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface LastAttempt {
  at: string;
  status: number | null;
  errorCode: string | null;
  succeeded: boolean;
}

export interface Stats {
  since: string;
  until: string;
  bucket: string;
  totals: Omit<StatsPoint, 'start'> & { successRate: number | null };
  series: StatsPoint[];
}

export interface EndpointHealth {
  endpointId: string;
  disabled: boolean;
  attempts: number;
  attemptsSucceeded: number;
  successRate: number | null;
  p95Ms: number | null;
  lastAttempt: LastAttempt | null;
}

export interface TenantStats extends Stats {
  endpoints: EndpointHealth[];
  endpointsTruncated: boolean;
}

export interface EndpointStats extends Stats {
  endpointId: string;
  lastAttempt: LastAttempt | null;
}

export interface SessionInfo {
  kind: 'admin' | 'tenant';
  tenantId: string | null;
  /** `read`: a read-only token or portal link; the UI hides what it may not do. */
  role: 'manage' | 'read';
  portal: { platformName: string | null; color: string | null; expiresAt: string } | null;
}

/** An error answer of the API (`{error: {code, message, details}}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

type Unauthorized = () => void;

export class Client {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: Unauthorized = () => undefined,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'network', `Herald could not be reached (${(err as Error).message})`);
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
      if (res.status === 401) this.onUnauthorized();
      throw new ApiError(res.status, e?.code ?? 'http_error', e?.message ?? `HTTP ${res.status}`, e?.details);
    }
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }
}

/** `/v1/tenants/:id...` with every id segment escaped (ids may hold ':'). */
export function tenantPath(tenantId: string, rest = ''): string {
  return `/v1/tenants/${encodeURIComponent(tenantId)}${rest}`;
}

/** A query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}
