import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/db.js';
import { isPortalToken, portalSigningKey, verifyPortalToken, type PortalClaims } from '../security/portal-tokens.js';
import { hashToken, sameHash } from '../security/tokens.js';
import { portalLinkRevoked } from '../store/portal-links.js';
import { getTenantCredentials, type TenantCredentials } from '../store/tenants.js';
import { errors } from '../errors.js';
import { LookupCache } from '../store/lookup-cache.js';

/**
 * Who is calling: the admin, or a token limited to one tenant. A portal link's
 * token is a tenant principal too (tokenId `portal:<link id>`), with its claims.
 */
export type Principal =
  | { kind: 'admin' }
  | {
      kind: 'tenant';
      tenantId: string;
      tokenId: string;
      /** `read` tokens may only read. */
      role: 'manage' | 'read';
      portal?: PortalClaims;
    };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/**
 * Resolves bearer tokens. The admin token's hash comes from config; tenant
 * tokens are looked up by hash in `api_tokens`. Lookups are cached for
 * `ttlMs` so publishing is not one extra query per event; a revoked token
 * stops working within that time.
 */
export class Authenticator {
  /** Tenant tokens by hash (null: no such token, or revoked). */
  private readonly cache: LookupCache<Principal | null>;
  /** What portal links must match, per tenant id (null: no such tenant), cached as tokens are. */
  private readonly tenants: LookupCache<TenantCredentials | null>;
  /** Whether each recorded portal link is unrevoked, per link id, cached as tokens are. */
  private readonly links: LookupCache<boolean>;
  /** Signs and checks portal tokens (security/portal-tokens.ts). */
  readonly portalKey: Buffer;

  constructor(
    private readonly db: Db,
    private readonly adminTokenHash: string,
    /** How long token and tenant lookups are cached: a revocation reaches other API processes within it. (Default: 10000) */
    ttlMs = 10_000,
  ) {
    this.portalKey = portalSigningKey(adminTokenHash);
    this.cache = new LookupCache(ttlMs);
    this.tenants = new LookupCache(ttlMs);
    this.links = new LookupCache(ttlMs);
  }

  async authenticate(req: FastifyRequest): Promise<Principal> {
    const header = req.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!m?.[1]) throw errors.unauthorized();
    if (isPortalToken(m[1])) {
      // Signed and expiring: checked without a query. Expired or tampered = 401.
      const r = verifyPortalToken(this.portalKey, m[1]);
      if (!r.ok) throw errors.unauthorized();
      // Bound to the tenant it was issued for: refused once that tenant is deleted
      // (even if one with the same id exists again) or its links were revoked.
      const t = await this.credentialsOf(r.claims.tenantId);
      if (!t || t.incarnation !== r.claims.incarnation || t.portalGeneration !== r.claims.generation) throw errors.unauthorized();
      // A link recorded in portal_links (migration 0028) must still be there, unrevoked.
      if (r.claims.recorded && !(await this.portalLinkOpen(r.claims.id))) throw errors.unauthorized();
      return { kind: 'tenant', tenantId: r.claims.tenantId, tokenId: `portal:${r.claims.id}`, role: r.claims.role, portal: r.claims };
    }
    const hash = hashToken(m[1]);
    if (sameHash(hash, this.adminTokenHash)) return { kind: 'admin' };
    const principal = await this.cache.get(hash, async () => {
      const res = await this.db.query<{ id: string; tenant_id: string; role: 'manage' | 'read' }>(
        `select id, tenant_id, role from api_tokens where token_hash = $1 and revoked_at is null`,
        [hash],
        'token_lookup',
      );
      const row = res.rows[0];
      return row ? { kind: 'tenant', tenantId: row.tenant_id, tokenId: row.id, role: row.role } : null;
    });
    if (!principal) throw errors.unauthorized();
    return principal;
  }

  /** A tenant's incarnation and portal generation, for portal links; cached for `ttlMs`. */
  credentialsOf(tenantId: string): Promise<TenantCredentials | null> {
    return this.tenants.get(tenantId, () => getTenantCredentials(this.db, tenantId));
  }

  /** Whether a recorded portal link is unrevoked (a primary-key lookup); cached for `ttlMs`. */
  private portalLinkOpen(id: string): Promise<boolean> {
    return this.links.get(id, async () => (await portalLinkRevoked(this.db, id)) === false);
  }

  /**
   * Forgets cached lookups (after a token is revoked, portal links revoked
   * or a tenant deleted). Other API processes notice within `ttlMs`.
   */
  invalidate(): void {
    this.cache.clear();
    this.tenants.clear();
    this.links.clear();
  }
}

/**
 * Read-only tokens may only read: any other method is refused (403) before
 * the route runs, so no route can forget the check.
 */
export function enforceRole(req: FastifyRequest): void {
  const p = req.principal;
  if (p.kind === 'tenant' && p.role === 'read' && req.method !== 'GET' && req.method !== 'HEAD') {
    throw errors.forbidden('this token may read but not change anything');
  }
}

/** Admin-only routes: a tenant token gets 403. */
export function requireAdmin(req: FastifyRequest): void {
  if (req.principal.kind !== 'admin') throw errors.forbidden('this route needs the admin token');
}

/**
 * Tenant routes: a token of another tenant gets 404, exactly as if the
 * tenant did not exist, so tokens cannot probe for other tenants.
 */
export function requireTenant(req: FastifyRequest, tenantId: string): void {
  const p = req.principal;
  if (p.kind === 'tenant' && p.tenantId !== tenantId) throw errors.notFound('tenant');
}

/** The actor recorded in the audit log. */
export function actorOf(req: FastifyRequest): string {
  return req.principal.kind === 'admin' ? 'admin' : `token:${req.principal.tokenId}`;
}
