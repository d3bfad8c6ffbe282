import type { Queryable } from '../db/db.js';
import type { OldSecret, RetryPolicy, SignatureConfig } from '../delivery/types.js';
import type { SecretBox } from '../security/secret-box.js';
import { isSigningKey, publicKeyOf } from '../delivery/signing/ed25519.js';
import { filterColumns, type EndpointFilter } from '../filters/endpoint-filter.js';
import type { BrokerDestination } from '../delivery/destinations/types.js';
import { maskUrl } from '../delivery/destinations/destination-url.js';
import { destinationIsStale, openDestination, sealDestination, type SealedDestination } from './endpoint-destinations.js';

/** An endpoint as the API shows it (never with its secret). */
export interface Endpoint {
  id: string;
  tenantId: string;
  /** The HTTP URL; for a broker endpoint, its broker URL with the password masked. */
  url: string;
  /** A broker (RabbitMQ, NATS JetStream) instead of an HTTP URL, its URL's password masked (null: HTTP). */
  destination: BrokerDestination | null;
  description: string;
  /** null = every event type. */
  eventTypes: string[] | null;
  disabled: boolean;
  disabledReason: string | null;
  headers: Record<string, string>;
  signature: SignatureConfig;
  /** ed25519 scheme: the `whpk_` public key of the current signing key (null for the HMAC schemes). */
  publicKey: string | null;
  retry: RetryPolicy;
  timeoutMs: number;
  /** Deliver every event one at a time, in publish order. */
  ordered: boolean;
  /** Most deliveries per second to this endpoint, across all workers (null = no limit). */
  rateLimitPerSecond: number | null;
  /** Until when a previous secret, rotated out, still signs beside the current one (null: none does). */
  previousSecretExpiresAt: string | null;
  /** Events must match this payload filter to be delivered here (null = every event of its types). */
  filter: EndpointFilter;
  /** Send the attempt span's `traceparent` with each request (while Herald exports traces). */
  sendTraceContext: boolean;
  /** JavaScript `(webhook) => webhook` run before each request is signed (null = none; src/transform/). */
  transformation: string | null;
  createdAt: string;
  updatedAt: string;
}

/** An endpoint with the secrets that sign its deliveries. */
export interface EndpointWithSecrets extends Endpoint {
  secret: string;
  oldSecrets: OldSecret[];
  /** The broker URL in clear, credentials included (null for HTTP endpoints). */
  brokerUrl: string | null;
}

export interface EndpointRow {
  id: string;
  tenant_id: string;
  url: string;
  destination: SealedDestination | null;
  description: string;
  event_types: string[] | null;
  disabled: boolean;
  disabled_reason: string | null;
  headers: Record<string, string>;
  signature: SignatureConfig;
  public_key: string | null;
  retry: RetryPolicy;
  timeout_ms: number;
  ordered: boolean;
  rate_limit_per_second: number | null;
  filter: Record<string, unknown> | null;
  send_trace_context: boolean;
  transformation: string | null;
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
    // the url column holds the broker URL masked: nothing is decrypted to list endpoints
    destination: r.destination === null ? null : { ...r.destination, url: r.url },
    description: r.description,
    eventTypes: r.event_types,
    disabled: r.disabled,
    disabledReason: r.disabled_reason,
    headers: r.headers,
    signature: r.signature,
    publicKey: r.public_key,
    retry: r.retry,
    timeoutMs: r.timeout_ms,
    ordered: r.ordered,
    rateLimitPerSecond: r.rate_limit_per_second === null ? null : Number(r.rate_limit_per_second),
    previousSecretExpiresAt: lastExpiry(r.old_secrets),
    filter: r.filter,
    sendTraceContext: r.send_trace_context,
    transformation: r.transformation,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** The latest expiry among the previous secrets still in their grace period (their expiry is stored in clear; only the secret is sealed). */
function lastExpiry(old: OldSecret[] | null): string | null {
  const now = Date.now();
  const live = (old ?? []).map((o) => Date.parse(o.expiresAt)).filter((t) => t > now);
  return live.length ? new Date(Math.max(...live)).toISOString() : null;
}

/** The API view of an endpoint: everything but its secrets. */
export function publicEndpoint(e: EndpointWithSecrets): Endpoint {
  const { secret: _s, oldSecrets: _o, brokerUrl: _b, ...rest } = e;
  return rest;
}

/** Decrypts an endpoint's secrets (they are stored encrypted; see SecretBox). */
export function withSecrets(r: EndpointRow, box: SecretBox): EndpointWithSecrets {
  return {
    ...toEndpoint(r),
    secret: box.open(r.secret),
    oldSecrets: openOld(r.old_secrets, box),
    brokerUrl: openDestination(r.destination, box)?.url ?? null,
  };
}

export const openOld = (old: OldSecret[], box: SecretBox): OldSecret[] => old.map((o) => ({ ...o, secret: box.open(o.secret) }));
const sealOld = (old: OldSecret[], box: SecretBox): OldSecret[] => old.map((o) => ({ ...o, secret: box.seal(o.secret) }));
/** The public key stored beside a secret: derived from a `whsk_` key, none for HMAC secrets. */
const publicKeyColumn = (secret: string): string | null => (isSigningKey(secret) ? publicKeyOf(secret) : null);
/** The filter's three columns, in the order the statements below list them. */
const filterParams = (filter: EndpointFilter): [string | null, string | null, string | null] => {
  const c = filterColumns(filter);
  return [c.filter, c.filter_path, c.filter_vars];
};
/** The url and destination columns: a broker endpoint keeps its URL masked in `url` and sealed in `destination`. */
const destinationParams = (e: { url: string; destination: BrokerDestination | null; brokerUrl: string | null }, box: SecretBox): [string, string | null] => {
  if (e.destination === null || e.brokerUrl === null) return [e.url, null];
  return [maskUrl(e.brokerUrl), JSON.stringify(sealDestination({ ...e.destination, url: e.brokerUrl }, box))];
};

export interface NewEndpoint {
  id: string;
  tenantId: string;
  /** The HTTP URL (for a broker endpoint: ignored, the masked broker URL is stored). */
  url: string;
  destination: BrokerDestination | null;
  /** The broker URL in clear (null for HTTP endpoints). */
  brokerUrl: string | null;
  description: string;
  eventTypes: string[] | null;
  disabled: boolean;
  headers: Record<string, string>;
  signature: SignatureConfig;
  retry: RetryPolicy;
  timeoutMs: number;
  ordered: boolean;
  rateLimitPerSecond: number | null;
  filter: EndpointFilter;
  sendTraceContext: boolean;
  transformation: string | null;
  secret: string;
}

export async function insertEndpoint(q: Queryable, e: NewEndpoint, box: SecretBox): Promise<EndpointWithSecrets> {
  const res = await q.query<EndpointRow>(
    `insert into endpoints (id, tenant_id, url, description, event_types, disabled, headers, signature, retry, timeout_ms, secret, ordered,
                            rate_limit_per_second, public_key, filter, filter_path, filter_vars, destination, send_trace_context, transformation)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) returning *`,
    [
      e.id,
      e.tenantId,
      destinationParams(e, box)[0],
      e.description,
      e.eventTypes,
      e.disabled,
      JSON.stringify(e.headers),
      JSON.stringify(e.signature),
      JSON.stringify(e.retry),
      e.timeoutMs,
      box.seal(e.secret),
      e.ordered,
      e.rateLimitPerSecond,
      publicKeyColumn(e.secret),
      ...filterParams(e.filter),
      destinationParams(e, box)[1],
      e.sendTraceContext,
      e.transformation,
    ],
  );
  return withSecrets(res.rows[0]!, box);
}

export async function getEndpoint(q: Queryable, tenantId: string, id: string, box: SecretBox): Promise<EndpointWithSecrets | null> {
  const res = await q.query<EndpointRow>(`select * from endpoints where tenant_id = $1 and id = $2`, [tenantId, id]);
  return res.rows[0] ? withSecrets(res.rows[0], box) : null;
}

/** Locks the row for the rest of the transaction (secret rotation, updates). */
export async function getEndpointForUpdate(q: Queryable, tenantId: string, id: string, box: SecretBox): Promise<EndpointWithSecrets | null> {
  const res = await q.query<EndpointRow>(`select * from endpoints where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
  return res.rows[0] ? withSecrets(res.rows[0], box) : null;
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
  Pick<NewEndpoint, 'url' | 'destination' | 'description' | 'eventTypes' | 'disabled' | 'headers' | 'signature' | 'retry' | 'timeoutMs' | 'ordered' | 'rateLimitPerSecond' | 'filter' | 'sendTraceContext' | 'transformation'>
> & { disabledReason?: string | null };

/** Writes a full new version of the endpoint's settings (the caller merged the patch). */
export async function saveEndpoint(q: Queryable, e: EndpointWithSecrets, box: SecretBox): Promise<EndpointWithSecrets> {
  const res = await q.query<EndpointRow>(
    `update endpoints set url = $3, description = $4, event_types = $5, disabled = $6, disabled_reason = $7,
       headers = $8, signature = $9, retry = $10, timeout_ms = $11, secret = $12, old_secrets = $13, ordered = $14, rate_limit_per_second = $15,
       public_key = $16, filter = $17, filter_path = $18, filter_vars = $19, destination = $20, send_trace_context = $21, transformation = $22, updated_at = now()
     where tenant_id = $1 and id = $2 returning *`,
    [
      e.tenantId,
      e.id,
      destinationParams(e, box)[0],
      e.description,
      e.eventTypes,
      e.disabled,
      e.disabledReason,
      JSON.stringify(e.headers),
      JSON.stringify(e.signature),
      JSON.stringify(e.retry),
      e.timeoutMs,
      box.seal(e.secret),
      JSON.stringify(sealOld(e.oldSecrets, box)),
      e.ordered,
      e.rateLimitPerSecond,
      publicKeyColumn(e.secret),
      ...filterParams(e.filter),
      destinationParams(e, box)[1],
      e.sendTraceContext,
      e.transformation,
    ],
  );
  return withSecrets(res.rows[0]!, box);
}

/**
 * Re-encrypts, with the current key, the secrets of up to `limit` endpoints
 * after `afterId` (key rotation). Returns the last id looked at (null when
 * done) and how many endpoints were rewritten.
 */
export async function resealSecrets(
  q: Queryable,
  box: SecretBox,
  afterId: string | null,
  limit: number,
): Promise<{ lastId: string | null; rewritten: number; seen: number }> {
  const res = await q.query<EndpointRow>(`select * from endpoints where ($1::text is null or id > $1) order by id limit $2`, [afterId, limit]);
  let rewritten = 0;
  for (const r of res.rows) {
    if (!box.isStale(r.secret) && !r.old_secrets.some((o) => box.isStale(o.secret)) && !destinationIsStale(r.destination, box)) continue;
    const e = withSecrets(r, box);
    await q.query(`update endpoints set secret = $2, old_secrets = $3, destination = $4 where id = $1`, [
      r.id,
      box.seal(e.secret),
      JSON.stringify(sealOld(e.oldSecrets, box)),
      destinationParams(e, box)[1],
    ]);
    rewritten++;
  }
  return { lastId: res.rows.at(-1)?.id ?? null, rewritten, seen: res.rows.length };
}

export async function deleteEndpoint(q: Queryable, tenantId: string, id: string): Promise<boolean> {
  // its deliveries, their attempts and queue rows go with it (no foreign keys on those hot rows: migration 0010)
  const res = await q.query(
    `with ep as (delete from endpoints where tenant_id = $1 and id = $2 returning id),
          q as (delete from queue where endpoint_id in (select id from ep)),
          a as (delete from attempts where endpoint_id in (select id from ep)),
          d as (delete from deliveries where endpoint_id in (select id from ep))
     select 1 from ep`,
    [tenantId, id],
  );
  return res.rows.length > 0;
}
