import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Portal tokens: signed, expiring bearer tokens limited to one tenant, handed
 * to a platform's customer inside a portal link.
 *
 *   hpt1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(key, "hpt1." + claims))>
 *
 * Since migration 0028 each link also has a row in `portal_links`, keyed by
 * the id it carries (`jti`), and says so (`l: 1`): such a link opens nothing
 * once its row is revoked (DELETE …/portal-links/:linkId) or gone. Links
 * signed before that carry no `l` and are checked as before. A link names the tenant's incarnation and portal generation
 * (migration 0020): it opens nothing once the tenant is deleted (even if one
 * with the same id is created again) or once the tenant's links are revoked
 * (the generation is raised); it also stops when it expires, and every link
 * stops at once when the signing key changes. The claims are signed, not
 * encrypted: they hold nothing secret (tenant id, expiry, branding).
 */
export const PORTAL_TOKEN_PREFIX = 'hpt1.';

/** What a portal token says about its holder. */
export interface PortalClaims {
  /** The one tenant the token may read and change. */
  tenantId: string;
  /** The incarnation of that tenant the link was issued for (tenants.incarnation). */
  incarnation: string;
  /** The tenant's portal generation when the link was issued (tenants.portal_generation). */
  generation: number;
  /** Expiry, milliseconds since the epoch. */
  expiresAt: number;
  /** Random id of this link, recorded as the actor in the audit log (`token:portal:<id>`). */
  id: string;
  /** Name of the platform that embeds the portal, shown in its header. */
  platformName: string | null;
  /** Accent colour of the portal, `#rrggbb`. */
  color: string | null;
  /** `read`: the portal may look but not change anything (as a read-only API token). (Default: manage) */
  role: 'manage' | 'read';
  /** The link has a row in `portal_links` (migration 0028) that must exist and be unrevoked. */
  recorded: boolean;
}

/** Why a token was refused; the API answers 401 for every one of them. */
export type PortalTokenProblem = 'malformed' | 'signature' | 'expired';

/** Claims as serialised: short keys, seconds. */
interface WireClaims {
  t: string;
  i: string;
  g: number;
  exp: number;
  jti: string;
  n?: string;
  c?: string;
  /** Present only for read-only links. */
  r?: 'read';
  /** 1: recorded in `portal_links` (migration 0028); absent on older links. */
  l?: 1;
}

/**
 * The signing key. Without a key of its own in config, it is derived from the
 * admin token's hash, which every API process of a deployment already shares:
 * no extra setting to keep in sync, and rotating the admin token revokes every
 * outstanding portal link of every tenant (one tenant's links are revoked by
 * raising its portal generation: DELETE …/portal-links). The label keeps
 * the derived key from being usable for anything else.
 */
export function portalSigningKey(adminTokenHash: string): Buffer {
  return createHmac('sha256', Buffer.from(adminTokenHash, 'utf8')).update('herald/portal-token/v1').digest();
}

export function isPortalToken(token: string): boolean {
  return token.startsWith(PORTAL_TOKEN_PREFIX);
}

function mac(key: Buffer, signed: string): Buffer {
  return createHmac('sha256', key).update(signed).digest();
}

export function signPortalToken(key: Buffer, claims: Omit<PortalClaims, 'id' | 'role' | 'recorded'> & { id?: string; role?: PortalClaims['role']; recorded?: boolean }): string {
  const wire: WireClaims = {
    t: claims.tenantId,
    i: claims.incarnation,
    g: claims.generation,
    exp: Math.floor(claims.expiresAt / 1000),
    jti: claims.id ?? randomBytes(9).toString('base64url'),
    ...(claims.platformName ? { n: claims.platformName } : {}),
    ...(claims.color ? { c: claims.color } : {}),
    ...(claims.role === 'read' ? { r: 'read' as const } : {}),
    ...(claims.recorded ? { l: 1 as const } : {}),
  };
  const signed = PORTAL_TOKEN_PREFIX + Buffer.from(JSON.stringify(wire)).toString('base64url');
  return `${signed}.${mac(key, signed).toString('base64url')}`;
}

/** Checks the signature first (timing-safe), then the expiry; never trusts the claims before the MAC. */
export function verifyPortalToken(
  key: Buffer,
  token: string,
  now = Date.now(),
): { ok: true; claims: PortalClaims } | { ok: false; problem: PortalTokenProblem } {
  if (!isPortalToken(token) || token.length > 2048) return { ok: false, problem: 'malformed' };
  const dot = token.lastIndexOf('.');
  if (dot <= PORTAL_TOKEN_PREFIX.length) return { ok: false, problem: 'malformed' };
  const signed = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(key, signed);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, problem: 'signature' };
  let wire: Partial<WireClaims>;
  try {
    wire = JSON.parse(Buffer.from(signed.slice(PORTAL_TOKEN_PREFIX.length), 'base64url').toString('utf8')) as Partial<WireClaims>;
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  // Links from before migration 0020 carry no incarnation: they are refused as malformed.
  if (
    typeof wire.t !== 'string' || !wire.t || typeof wire.i !== 'string' || !Number.isInteger(wire.g) ||
    typeof wire.exp !== 'number' || typeof wire.jti !== 'string'
  ) {
    return { ok: false, problem: 'malformed' };
  }
  if (wire.exp * 1000 <= now) return { ok: false, problem: 'expired' };
  return {
    ok: true,
    claims: {
      tenantId: wire.t,
      incarnation: wire.i,
      generation: wire.g!,
      expiresAt: wire.exp * 1000,
      id: wire.jti,
      platformName: typeof wire.n === 'string' ? wire.n : null,
      color: typeof wire.c === 'string' ? wire.c : null,
      role: wire.r === 'read' ? 'read' : 'manage',
      recorded: wire.l === 1,
    },
  };
}
