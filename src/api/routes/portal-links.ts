import { Type } from 'typebox';
import { signPortalToken } from '../../security/portal-tokens.js';
import { recordAudit } from '../../store/audit.js';
import { getTenantCredentials, revokePortalLinks } from '../../store/tenants.js';
import { actorOf, requireAdmin } from '../auth.js';
import { errors } from '../../errors.js';
import { TenantParams } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

/** Portal links live one hour unless asked otherwise, and at most 30 days. */
const DEFAULT_EXPIRES_IN_SECONDS = 3600;
const MAX_EXPIRES_IN_SECONDS = 30 * 24 * 3600;

const PortalLinkCreate = Type.Object(
  {
    expiresInSeconds: Type.Optional(
      Type.Integer({ minimum: 60, maximum: MAX_EXPIRES_IN_SECONDS, description: `Lifetime of the link (Default: ${DEFAULT_EXPIRES_IN_SECONDS})` }),
    ),
    platformName: Type.Optional(Type.String({ minLength: 1, maxLength: 80, description: 'Shown in the portal header' })),
    color: Type.Optional(Type.String({ pattern: '^#[0-9A-Fa-f]{6}$', description: 'Accent colour, #rrggbb' })),
    role: Type.Optional(
      Type.Union([Type.Literal('manage'), Type.Literal('read')], { description: '`read`: the portal shows everything but changes nothing (Default: manage)' }),
    ),
    baseUrl: Type.Optional(
      Type.String({
        maxLength: 2048,
        pattern: '^https?://[^/?#\\s]+(/[^?#\\s]*)?$',
        description: "Public address of Herald's UI (Default: the scheme and Host of this request)",
      }),
    ),
  },
  { additionalProperties: false },
);
const PortalLink = Type.Object({ url: Type.String(), token: Type.String(), expiresAt: Type.String(), role: Type.String() });

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Session = Type.Object({
  kind: Type.Union([Type.Literal('admin'), Type.Literal('tenant')]),
  tenantId: Nullable(Type.String()),
  /** `read` tokens and read-only portal links may only read. */
  role: Type.Union([Type.Literal('manage'), Type.Literal('read')]),
  portal: Nullable(Type.Object({ platformName: Nullable(Type.String()), color: Nullable(Type.String()), expiresAt: Type.String() })),
});

/**
 * Customer portal links: a URL that opens Herald's UI limited to one tenant,
 * for a platform to hand to its customer or embed in an iframe. The token
 * travels in the URL's fragment (`/portal#token=...`), so it never reaches a
 * server log or a Referer header; the UI moves it into sessionStorage.
 */
export const portalLinkRoutes = (ctx: AppContext): RoutePlugin => async (app) => {

  app.post(
    '/v1/tenants/:tenantId/portal-links',
    { schema: { tags: ['portal'], params: TenantParams, body: Type.Optional(PortalLinkCreate), response: { 201: PortalLink } } },
    async (req, reply) => {
      const { tenantId } = req.params;
      requireAdmin(req);
      const b = req.body ?? {};
      // Read fresh (not from the authenticator's cache): a link must carry the current generation.
      const bound = await getTenantCredentials(ctx.db, tenantId);
      if (!bound) throw errors.notFound('tenant');
      // Whole seconds: the token carries its expiry in seconds.
      const expiresAt = Math.floor((Date.now() + (b.expiresInSeconds ?? DEFAULT_EXPIRES_IN_SECONDS) * 1000) / 1000) * 1000;
      const token = signPortalToken(ctx.auth.portalKey, {
        tenantId,
        incarnation: bound.incarnation,
        generation: bound.portalGeneration,
        expiresAt,
        platformName: b.platformName ?? null,
        color: b.color?.toLowerCase() ?? null,
        role: b.role ?? 'manage',
      });
      const base = (b.baseUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
      await recordAudit(ctx.db, {
        tenantId,
        actor: actorOf(req),
        action: 'portal_link.created',
        targetType: 'tenant',
        targetId: tenantId,
        details: { expiresAt: new Date(expiresAt).toISOString(), platformName: b.platformName ?? null, role: b.role ?? 'manage' },
      });
      return reply
        .status(201)
        .send({ url: `${base}/portal#token=${token}`, token, expiresAt: new Date(expiresAt).toISOString(), role: b.role ?? 'manage' });
    },
  );

  /**
   * Revokes every portal link of the tenant issued until now (they are
   * stateless, so one by one is not possible): 401 for them at once on this
   * process, within the authenticator's cache time (10 s) on others. Links
   * created afterwards work.
   */
  app.delete('/v1/tenants/:tenantId/portal-links', { schema: { tags: ['portal'], params: TenantParams } }, async (req, reply) => {
    const { tenantId } = req.params;
    requireAdmin(req);
    await ctx.db.transaction(async (tx) => {
      const t = await revokePortalLinks(tx, tenantId);
      if (!t) throw errors.notFound('tenant');
      await recordAudit(tx, { tenantId, actor: actorOf(req), action: 'portal_links.revoked', targetType: 'tenant', targetId: tenantId, details: { generation: t.portalGeneration } });
    });
    ctx.auth.invalidate();
    return reply.status(204).send();
  });

  /** Who holds this token: the UI asks once after sign-in to pick its mode, tenant and branding. */
  app.get('/v1/session', { schema: { tags: ['portal'], response: { 200: Session } } }, async (req) => {
    const p = req.principal;
    if (p.kind === 'admin') return { kind: 'admin' as const, tenantId: null, role: 'manage' as const, portal: null };
    const portal = p.portal
      ? { platformName: p.portal.platformName, color: p.portal.color, expiresAt: new Date(p.portal.expiresAt).toISOString() }
      : null;
    return { kind: 'tenant' as const, tenantId: p.tenantId, role: p.role, portal };
  });
};
