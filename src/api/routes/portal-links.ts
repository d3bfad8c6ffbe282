import { Type } from 'typebox';
import { signPortalToken } from '../../security/portal-tokens.js';
import { recordAudit } from '../../store/audit.js';
import { insertPortalLink, listPortalLinks, revokeAllPortalLinks, revokePortalLink } from '../../store/portal-links.js';
import { getTenant, getTenantCredentials, revokePortalLinks } from '../../store/tenants.js';
import { newId } from '../../ids.js';
import { actorOf, requireAdmin } from '../auth.js';
import { errors } from '../../errors.js';
import { decodeCursor, pageOf } from '../pagination.js';
import { Id, PageQuery, TenantParams, page } from '../schemas.js';
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
const PortalLink = Type.Object({ id: Type.String(), url: Type.String(), token: Type.String(), expiresAt: Type.String(), role: Type.String() });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
/** A link as listed: never its token or URL. */
const PortalLinkInfo = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  role: Type.Union([Type.Literal('manage'), Type.Literal('read')]),
  platformName: Nullable(Type.String()),
  color: Nullable(Type.String()),
  createdBy: Type.String({ description: 'The audit-log actor who created it' }),
  revokedAt: Nullable(Type.String()),
  status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
});
const PortalLinkParams = Type.Object({ tenantId: Id, linkId: Id });

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
      const id = newId('pl');
      const role = b.role ?? 'manage';
      const platformName = b.platformName ?? null;
      const color = b.color?.toLowerCase() ?? null;
      const token = signPortalToken(ctx.auth.portalKey, {
        id,
        recorded: true,
        tenantId,
        incarnation: bound.incarnation,
        generation: bound.portalGeneration,
        expiresAt,
        platformName,
        color,
        role,
      });
      const base = (b.baseUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
      await ctx.db.transaction(async (tx) => {
        await insertPortalLink(tx, { id, tenantId, expiresAt, role, platformName, color, createdBy: actorOf(req) });
        await recordAudit(tx, {
          tenantId,
          actor: actorOf(req),
          action: 'portal_link.created',
          targetType: 'portal_link',
          targetId: id,
          details: { expiresAt: new Date(expiresAt).toISOString(), platformName, role },
        });
      });
      return reply.status(201).send({ id, url: `${base}/portal#token=${token}`, token, expiresAt: new Date(expiresAt).toISOString(), role });
    },
  );

  /** The tenant's links, newest first, with their status; never a token or URL (shown once, at creation). */
  app.get(
    '/v1/tenants/:tenantId/portal-links',
    { schema: { tags: ['portal'], params: TenantParams, querystring: PageQuery, response: { 200: page(PortalLinkInfo) } } },
    async (req) => {
      const { tenantId } = req.params;
      requireAdmin(req);
      const limit = req.query.limit ?? 50;
      const before = decodeCursor(req.query.cursor, ['createdAt', 'id'] as const);
      if (!(await getTenant(ctx.db, tenantId))) throw errors.notFound('tenant');
      const rows = await listPortalLinks(ctx.db, tenantId, { limit, before });
      return pageOf(rows, limit, (l) => ({ createdAt: l.createdAt, id: l.id }));
    },
  );

  /**
   * Revokes one link (204): 401 for it at once on this process, within the
   * authenticator's cache time (10 s) on others. Revoking one already revoked
   * changes and audits nothing; another tenant's link id is 404.
   */
  app.delete('/v1/tenants/:tenantId/portal-links/:linkId', { schema: { tags: ['portal'], params: PortalLinkParams } }, async (req, reply) => {
    const { tenantId, linkId } = req.params;
    requireAdmin(req);
    const r = await ctx.db.transaction(async (tx) => {
      const out = await revokePortalLink(tx, tenantId, linkId);
      if (out?.revoked) {
        await recordAudit(tx, { tenantId, actor: actorOf(req), action: 'portal_link.revoked', targetType: 'portal_link', targetId: linkId, details: { role: out.link.role, platformName: out.link.platformName } });
      }
      return out;
    });
    if (!r) throw errors.notFound('portal link');
    ctx.auth.invalidate();
    return reply.status(204).send();
  });

  /**
   * Revokes every portal link of the tenant issued until now, recorded or
   * older: 401 for them at once on this process, within the authenticator's
   * cache time (10 s) on others. Links created afterwards work.
   */
  app.delete('/v1/tenants/:tenantId/portal-links', { schema: { tags: ['portal'], params: TenantParams } }, async (req, reply) => {
    const { tenantId } = req.params;
    requireAdmin(req);
    await ctx.db.transaction(async (tx) => {
      const t = await revokePortalLinks(tx, tenantId);
      if (!t) throw errors.notFound('tenant');
      const links = await revokeAllPortalLinks(tx, tenantId);
      await recordAudit(tx, { tenantId, actor: actorOf(req), action: 'portal_links.revoked', targetType: 'tenant', targetId: tenantId, details: { generation: t.portalGeneration, links } });
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
