import type { Queryable } from '../db/db.js';
import type { OldSecret, RetryPolicy, SignatureConfig } from '../delivery/types.js';

/** An endpoint as the API shows it (never with its secret). */
export interface Endpoint {
  id: string;
  tenantId: string;
  url: string;
  description: string;
  /** null = every event type. */
  eventTypes: string[] | null;
  disabled: boolean;
  disabledReason: string | null;
  headers: Record<string, string>;
  signature: SignatureConfig;
  retry: RetryPolicy;
  timeoutMs: number;
  createdAt: string;
  updatedAt: string;
}

/** An endpoint with the secrets that sign its deliveries. */
export interface EndpointWithSecrets extends Endpoint {
  secret: string;
  oldSecrets: OldSecret[];
}

export interface EndpointRow {
  id: string;
  tenant_id: string;
  url: string;
  description: string;
  event_types: string[] | null;
  disabled: boolean;
  disabled_reason: string | null;
  headers: Record<string, string>;
  signature: SignatureConfig;
  retry: RetryPolicy;
  timeout_ms: number;
  secret: string;
  old_secrets: OldSecret[];
  created_at: Date;
  updated_at: Date;
}

export function toEndpoint(r: EndpointRow): Endpoint {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    description: r.description,
    eventTypes: r.event_types,
    disabled: r.disabled,
    disabledReason: r.disabled_reason,
    headers: r.headers,
    signature: r.signature,
    retry: r.retry,
    timeoutMs: r.timeout_ms,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** The API view of an endpoint: everything but its secrets. */
export function publicEndpoint(e: EndpointWithSecrets): Endpoint {
  const { secret: _s, oldSecrets: _o, ...rest } = e;
  return rest;
}

function withSecrets(r: EndpointRow): EndpointWithSecrets {
  return { ...toEndpoint(r), secret: r.secret, oldSecrets: r.old_secrets };
}

export interface NewEndpoint {
  id: string;
  tenantId: string;
  url: string;
  description: string;
  eventTypes: string[] | null;
  disabled: boolean;
  headers: Record<string, string>;
  signature: SignatureConfig;
  retry: RetryPolicy;
  timeoutMs: number;
  secret: string;
}

export async function insertEndpoint(q: Queryable, e: NewEndpoint): Promise<EndpointWithSecrets> {
  const res = await q.query<EndpointRow>(
    `insert into endpoints (id, tenant_id, url, description, event_types, disabled, headers, signature, retry, timeout_ms, secret)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning *`,
    [
      e.id,
      e.tenantId,
      e.url,
      e.description,
      e.eventTypes,
      e.disabled,
      JSON.stringify(e.headers),
      JSON.stringify(e.signature),
      JSON.stringify(e.retry),
      e.timeoutMs,
      e.secret,
    ],
  );
  return withSecrets(res.rows[0]!);
}

export async function getEndpoint(q: Queryable, tenantId: string, id: string): Promise<EndpointWithSecrets | null> {
  const res = await q.query<EndpointRow>(`select * from endpoints where tenant_id = $1 and id = $2`, [tenantId, id]);
  return res.rows[0] ? withSecrets(res.rows[0]) : null;
}

/** Locks the row for the rest of the transaction (secret rotation, updates). */
export async function getEndpointForUpdate(q: Queryable, tenantId: string, id: string): Promise<EndpointWithSecrets | null> {
  const res = await q.query<EndpointRow>(`select * from endpoints where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
  return res.rows[0] ? withSecrets(res.rows[0]) : null;
}

/** Oldest first; `after` is the last id of the previous page (ids sort by creation time). */
export async function listEndpoints(q: Queryable, tenantId: string, opts: { limit: number; after?: string }): Promise<Endpoint[]> {
  const res = await q.query<EndpointRow>(
    `select * from endpoints where tenant_id = $1 and ($2::text is null or id > $2) order by id limit $3`,
    [tenantId, opts.after ?? null, opts.limit],
  );
  return res.rows.map(toEndpoint);
}

export type EndpointPatch = Partial<
  Pick<NewEndpoint, 'url' | 'description' | 'eventTypes' | 'disabled' | 'headers' | 'signature' | 'retry' | 'timeoutMs'>
> & { disabledReason?: string | null };

/** Writes a full new version of the endpoint's settings (the caller merged the patch). */
export async function saveEndpoint(q: Queryable, e: EndpointWithSecrets): Promise<EndpointWithSecrets> {
  const res = await q.query<EndpointRow>(
    `update endpoints set url = $3, description = $4, event_types = $5, disabled = $6, disabled_reason = $7,
       headers = $8, signature = $9, retry = $10, timeout_ms = $11, secret = $12, old_secrets = $13, updated_at = now()
     where tenant_id = $1 and id = $2 returning *`,
    [
      e.tenantId,
      e.id,
      e.url,
      e.description,
      e.eventTypes,
      e.disabled,
      e.disabledReason,
      JSON.stringify(e.headers),
      JSON.stringify(e.signature),
      JSON.stringify(e.retry),
      e.timeoutMs,
      e.secret,
      JSON.stringify(e.oldSecrets),
    ],
  );
  return withSecrets(res.rows[0]!);
}

export async function deleteEndpoint(q: Queryable, tenantId: string, id: string): Promise<boolean> {
  const res = await q.query(`delete from endpoints where tenant_id = $1 and id = $2`, [tenantId, id]);
  return res.rowCount > 0;
}

/** Disables an endpoint on the worker's behalf (e.g. after `410 Gone`); true if it was enabled. */
export async function disableEndpoint(q: Queryable, id: string, reason: string): Promise<{ tenantId: string } | null> {
  const res = await q.query<{ tenant_id: string }>(
    `update endpoints set disabled = true, disabled_reason = $2, updated_at = now()
      where id = $1 and not disabled returning tenant_id`,
    [id, reason],
  );
  return res.rows[0] ? { tenantId: res.rows[0].tenant_id } : null;
}
