/**
 * The UI's only way to the server: Herald's public REST API, with the
 * signed-in token. Its types are those generated from /openapi.json for
 * @herald/client, so they follow the server's route schemas.
 */

import type { Routes } from '../../client/src/openapi-types';

/** The success answer of a route, from the types generated from /openapi.json (packages/client). */
type Ok<R extends keyof Routes> = Routes[R]['response'];

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export type Tenant = Ok<'GET /v1/tenants/{tenantId}'>;
export type EventType = Ok<'GET /v1/event-types/{name}'>;
export type Endpoint = Ok<'GET /v1/tenants/{tenantId}/endpoints/{endpointId}'>;
export type Signature = Endpoint['signature'];
export type Retry = Endpoint['retry'];
export type HeraldEvent = Ok<'GET /v1/tenants/{tenantId}/events/{eventId}'>;
export type Delivery = Ok<'GET /v1/tenants/{tenantId}/deliveries'>['data'][number];
export type DeliveryStatus = Delivery['status'];
export type DeliveryWithAttempts = Ok<'GET /v1/tenants/{tenantId}/deliveries/{deliveryId}'>;
export type Attempt = DeliveryWithAttempts['attemptLog'][number];
export type Replay = Ok<'GET /v1/tenants/{tenantId}/deliveries/{deliveryId}/replays'>['data'][number];
export type AuditEntry = Ok<'GET /v1/tenants/{tenantId}/audit-log'>['data'][number];
export type TenantStats = Ok<'GET /v1/tenants/{tenantId}/stats'>;
export type EndpointStats = Ok<'GET /v1/tenants/{tenantId}/endpoints/{endpointId}/stats'>;
export type Stats = Omit<EndpointStats, 'endpointId' | 'lastAttempt'>;
export type StatsPoint = Stats['series'][number];
export type EndpointHealth = TenantStats['endpoints'][number];
export type LastAttempt = NonNullable<EndpointStats['lastAttempt']>;
export type SessionInfo = Ok<'GET /v1/session'>;
export type OperatorOverview = Ok<'GET /v1/operator/overview'>;
export type FailingEndpoint = OperatorOverview['failing'][number];
export type MinuteCount = OperatorOverview['perMinute'][number];
export type AlertsState = OperatorOverview['alerts'];
export type AlertEntry = AlertsState['recent'][number];

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
