import type { Queryable } from '../db/db.js';

/** A portal link as listed: never its token or URL (shown once, at creation). */
export interface PortalLinkInfo {
  id: string;
  tenantId: string;
  createdAt: string;
  expiresAt: string;
  role: 'manage' | 'read';
  platformName: string | null;
  color: string | null;
  /** The audit-log actor who created it. */
  createdBy: string;
  revokedAt: string | null;
  /** revoked wins over expired: a revoked link says so even after its expiry. */
  status: 'active' | 'expired' | 'revoked';
}

interface PortalLinkRow {
  id: string;
  tenant_id: string;
  created_at: Date;
  expires_at: Date;
  role: 'manage' | 'read';
  platform_name: string | null;
  color: string | null;
  created_by: string;
  revoked_at: Date | null;
}

const COLUMNS = 'id, tenant_id, created_at, expires_at, role, platform_name, color, created_by, revoked_at';

function toInfo(r: PortalLinkRow, now = Date.now()): PortalLinkInfo {
  const expiresAt = new Date(r.expires_at);
  return {
    id: r.id,
    tenantId: r.tenant_id,
    createdAt: new Date(r.created_at).toISOString(),
    expiresAt: expiresAt.toISOString(),
    role: r.role,
    platformName: r.platform_name,
    color: r.color,
    createdBy: r.created_by,
    revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
    status: r.revoked_at ? 'revoked' : expiresAt.getTime() <= now ? 'expired' : 'active',
  };
}

export async function insertPortalLink(
  q: Queryable,
  l: { id: string; tenantId: string; expiresAt: number; role: 'manage' | 'read'; platformName: string | null; color: string | null; createdBy: string },
): Promise<PortalLinkInfo> {
  const res = await q.query<PortalLinkRow>(
    `insert into portal_links (id, tenant_id, expires_at, role, platform_name, color, created_by) values ($1, $2, $3, $4, $5, $6, $7)
     returning ${COLUMNS}`,
    [l.id, l.tenantId, new Date(l.expiresAt), l.role, l.platformName, l.color, l.createdBy],
  );
  return toInfo(res.rows[0]!);
}

/** A tenant's links, newest first; `before` is the last row of the previous page. */
export async function listPortalLinks(
  q: Queryable,
  tenantId: string,
  opts: { limit: number; before?: { createdAt: string; id: string } },
): Promise<PortalLinkInfo[]> {
  const res = await q.query<PortalLinkRow>(
    `select ${COLUMNS} from portal_links
     where tenant_id = $1 and ($2::timestamptz is null or (created_at, id) < ($2::timestamptz, $3::text))
     order by created_at desc, id desc limit $4`,
    [tenantId, opts.before?.createdAt ?? null, opts.before?.id ?? null, opts.limit],
  );
  return res.rows.map((r) => toInfo(r));
}

/**
 * Revokes one link. `revoked` is false when it had been revoked already (no
 * change, nothing to audit); null when the tenant has no such link.
 */
export async function revokePortalLink(q: Queryable, tenantId: string, id: string): Promise<{ link: PortalLinkInfo; revoked: boolean } | null> {
  const res = await q.query<PortalLinkRow & { was_revoked: boolean }>(
    `with cur as (select id, revoked_at is not null as was_revoked from portal_links where tenant_id = $1 and id = $2 for update)
     update portal_links l set revoked_at = coalesce(l.revoked_at, now()) from cur where l.id = cur.id
     returning ${COLUMNS.split(', ').map((c) => `l.${c}`).join(', ')}, cur.was_revoked`,
    [tenantId, id],
  );
  const r = res.rows[0];
  return r ? { link: toInfo(r), revoked: !r.was_revoked } : null;
}

/** Marks every unrevoked link of a tenant revoked (revoke-all); returns how many. */
export async function revokeAllPortalLinks(q: Queryable, tenantId: string): Promise<number> {
  const res = await q.query(`update portal_links set revoked_at = now() where tenant_id = $1 and revoked_at is null`, [tenantId]);
  return res.rowCount ?? 0;
}

/** Whether a recorded link has been revoked; null when there is no such link (its tenant was deleted). */
export async function portalLinkRevoked(q: Queryable, id: string): Promise<boolean | null> {
  const res = await q.query<{ revoked: boolean }>(`select revoked_at is not null as revoked from portal_links where id = $1`, [id], 'portal_link_lookup');
  const r = res.rows[0];
  return r ? r.revoked : null;
}
