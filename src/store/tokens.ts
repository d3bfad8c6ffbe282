import type { Queryable } from '../db/db.js';

/** An API token as listed: never its value, never its hash. */
export interface TokenInfo {
  id: string;
  tenantId: string;
  name: string;
  role: 'manage' | 'read';
  createdAt: string;
  /** When it was revoked; null while it works. */
  revokedAt: string | null;
}

interface TokenRow {
  id: string;
  tenant_id: string;
  name: string;
  role: 'manage' | 'read';
  created_at: Date;
  revoked_at: Date | null;
}

const toInfo = (r: TokenRow): TokenInfo => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  role: r.role,
  createdAt: new Date(r.created_at).toISOString(),
  revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
});

export async function insertToken(
  q: Queryable,
  t: { id: string; tenantId: string; name: string; tokenHash: string; role: 'manage' | 'read' },
): Promise<TokenInfo> {
  const res = await q.query<TokenRow>(
    `insert into api_tokens (id, tenant_id, name, token_hash, role) values ($1, $2, $3, $4, $5)
     returning id, tenant_id, name, role, created_at, revoked_at`,
    [t.id, t.tenantId, t.name, t.tokenHash, t.role],
  );
  return toInfo(res.rows[0]!);
}

/** A tenant's tokens, newest first (revoked ones too, with `revokedAt`). */
export async function listTokens(q: Queryable, tenantId: string): Promise<TokenInfo[]> {
  const res = await q.query<TokenRow>(
    `select id, tenant_id, name, role, created_at, revoked_at from api_tokens where tenant_id = $1 order by created_at desc, id desc limit 1000`,
    [tenantId],
  );
  return res.rows.map(toInfo);
}

/**
 * Revokes a token. `revoked` is false when it had been revoked already (no
 * change, nothing to audit); null when the tenant has no such token.
 */
export async function revokeToken(q: Queryable, tenantId: string, id: string): Promise<{ token: TokenInfo; revoked: boolean } | null> {
  const res = await q.query<TokenRow & { was_revoked: boolean }>(
    `with cur as (select id, revoked_at is not null as was_revoked from api_tokens where tenant_id = $1 and id = $2 for update)
     update api_tokens t set revoked_at = coalesce(t.revoked_at, now()) from cur where t.id = cur.id
     returning t.id, t.tenant_id, t.name, t.role, t.created_at, t.revoked_at, cur.was_revoked`,
    [tenantId, id],
  );
  const r = res.rows[0];
  return r ? { token: toInfo(r), revoked: !r.was_revoked } : null;
}
