import { Type } from 'typebox';
import { newId } from '../../ids.js';
import { generateToken, hashToken } from '../../security/tokens.js';
import { recordAudit } from '../../store/audit.js';
import { getTenant } from '../../store/tenants.js';
import { insertToken, listTokens, revokeToken } from '../../store/tokens.js';
import { actorOf, requireAdmin } from '../auth.js';
import { errors } from '../../errors.js';
import { TenantParams, TokenCreate, TokenCreated, TokenInfo, TokenParams } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

/**
 * A tenant's API tokens: created, listed and revoked by the admin. Only a
 * token's hash is stored, so its value is shown once, at creation. A
 * revoked token is refused at once by this process and within the
 * authenticator's cache time (10 s) by the others.
 */
export const tokenRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const tags = ['tenants'];

  app.post(
    '/v1/tenants/:tenantId/tokens',
    { schema: { tags, params: TenantParams, body: Type.Optional(TokenCreate), response: { 201: TokenCreated } } },
    async (req, reply) => {
      requireAdmin(req);
      const token = generateToken();
      const role = req.body?.role ?? 'manage';
      const info = await ctx.db.transaction(async (tx) => {
        if (!(await getTenant(tx, req.params.tenantId))) throw errors.notFound('tenant');
        const t = await insertToken(tx, { id: newId('tok'), tenantId: req.params.tenantId, name: req.body?.name ?? '', tokenHash: hashToken(token), role });
        await recordAudit(tx, { tenantId: req.params.tenantId, actor: actorOf(req), action: 'token.created', targetType: 'token', targetId: t.id, details: { role } });
        return t;
      });
      return reply.status(201).send({ id: info.id, tenantId: info.tenantId, name: info.name, role: info.role, token, createdAt: info.createdAt });
    },
  );

  app.get('/v1/tenants/:tenantId/tokens', { schema: { tags, params: TenantParams, response: { 200: Type.Object({ data: Type.Array(TokenInfo) }) } } }, async (req) => {
    requireAdmin(req);
    if (!(await getTenant(ctx.db, req.params.tenantId))) throw errors.notFound('tenant');
    return { data: await listTokens(ctx.db, req.params.tenantId) };
  });

  app.get('/v1/tenants/:tenantId/tokens/:tokenId', { schema: { tags, params: TokenParams, response: { 200: TokenInfo } } }, async (req) => {
    requireAdmin(req);
    const t = (await listTokens(ctx.db, req.params.tenantId)).find((x) => x.id === req.params.tokenId);
    if (!t) throw errors.notFound('token');
    return t;
  });

  /** Revokes a token (204); revoking one already revoked changes and audits nothing. */
  app.delete('/v1/tenants/:tenantId/tokens/:tokenId', { schema: { tags, params: TokenParams } }, async (req, reply) => {
    const { tenantId, tokenId } = req.params;
    requireAdmin(req);
    const r = await ctx.db.transaction(async (tx) => {
      const out = await revokeToken(tx, tenantId, tokenId);
      if (out?.revoked) {
        await recordAudit(tx, { tenantId, actor: actorOf(req), action: 'token.revoked', targetType: 'token', targetId: tokenId, details: { name: out.token.name, role: out.token.role } });
      }
      return out;
    });
    if (!r) throw errors.notFound('token');
    ctx.auth.invalidate();
    return reply.status(204).send();
  });
};
