import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { newId } from '../../ids.js';
import { generateToken, hashToken } from '../../security/tokens.js';
import { recordAudit } from '../../store/audit.js';
import { deleteTenant, getTenant, insertTenant, listTenants, updateTenant } from '../../store/tenants.js';
import { actorOf, requireAdmin, requireTenant } from '../auth.js';
import { errors } from '../errors.js';
import { decodeCursor, pageOf } from '../pagination.js';
import { ErrorBody, PageQuery, Tenant, TenantCreate, TenantParams, TenantPatch, TokenCreate, TokenCreated, page } from '../schemas.js';
import type { App, AppContext } from '../server.js';

export const tenantRoutes = (ctx: AppContext): FastifyPluginAsync => async (instance) => {
  const app = instance as unknown as App;
  const tags = ['tenants'];

  app.post('/v1/tenants', { schema: { tags, body: TenantCreate, response: { 201: Tenant, 409: ErrorBody } } }, async (req, reply) => {
    requireAdmin(req);
    const id = req.body.id ?? newId('org');
    const tenant = await ctx.db.transaction(async (tx) => {
      const t = await insertTenant(tx, id, req.body.name);
      if (!t) throw errors.conflict(`tenant ${id} already exists`);
      await recordAudit(tx, { tenantId: id, actor: actorOf(req), action: 'tenant.created', targetType: 'tenant', targetId: id });
      return t;
    });
    return reply.status(201).send(tenant);
  });

  app.get('/v1/tenants', { schema: { tags, querystring: PageQuery, response: { 200: page(Tenant) } } }, async (req) => {
    const limit = req.query.limit ?? 50;
    if (req.principal.kind === 'tenant') {
      const own = await getTenant(ctx.db, req.principal.tenantId);
      return { data: own ? [own] : [], nextCursor: null };
    }
    const after = decodeCursor(req.query.cursor, ['id'] as const);
    const rows = await listTenants(ctx.db, { limit, after: after?.id });
    return pageOf(rows, limit, (t) => ({ id: t.id }));
  });

  app.get('/v1/tenants/:tenantId', { schema: { tags, params: TenantParams, response: { 200: Tenant } } }, async (req) => {
    requireTenant(req, req.params.tenantId);
    const t = await getTenant(ctx.db, req.params.tenantId);
    if (!t) throw errors.notFound('tenant');
    return t;
  });

  app.patch('/v1/tenants/:tenantId', { schema: { tags, params: TenantParams, body: TenantPatch, response: { 200: Tenant } } }, async (req) => {
    requireTenant(req, req.params.tenantId);
    requireAdmin(req);
    return ctx.db.transaction(async (tx) => {
      const t = await updateTenant(tx, req.params.tenantId, req.body);
      if (!t) throw errors.notFound('tenant');
      await recordAudit(tx, { tenantId: t.id, actor: actorOf(req), action: 'tenant.updated', targetType: 'tenant', targetId: t.id, details: req.body });
      return t;
    });
  });

  app.delete('/v1/tenants/:tenantId', { schema: { tags, params: TenantParams } }, async (req, reply) => {
    requireTenant(req, req.params.tenantId);
    requireAdmin(req);
    // Deleting a tenant removes its endpoints, events, deliveries and tokens (cascade);
    // the audit entry is kept without the foreign key so the deletion stays on record.
    const gone = await ctx.db.transaction(async (tx) => {
      const ok = await deleteTenant(tx, req.params.tenantId);
      if (ok) await recordAudit(tx, { tenantId: req.params.tenantId, actor: actorOf(req), action: 'tenant.deleted', targetType: 'tenant', targetId: req.params.tenantId });
      return ok;
    });
    if (!gone) throw errors.notFound('tenant');
    ctx.auth.invalidate();
    return reply.status(204).send();
  });

  app.post(
    '/v1/tenants/:tenantId/tokens',
    { schema: { tags, params: TenantParams, body: Type.Optional(TokenCreate), response: { 201: TokenCreated } } },
    async (req, reply) => {
      requireTenant(req, req.params.tenantId);
      requireAdmin(req);
      const token = generateToken();
      const id = newId('tok');
      const name = req.body?.name ?? '';
      const row = await ctx.db.transaction(async (tx) => {
        if (!(await getTenant(tx, req.params.tenantId))) throw errors.notFound('tenant');
        const r = await tx.query<{ created_at: Date }>(
          `insert into api_tokens (id, tenant_id, name, token_hash) values ($1, $2, $3, $4) returning created_at`,
          [id, req.params.tenantId, name, hashToken(token)],
        );
        await recordAudit(tx, { tenantId: req.params.tenantId, actor: actorOf(req), action: 'token.created', targetType: 'token', targetId: id });
        return r.rows[0]!;
      });
      return reply.status(201).send({ id, tenantId: req.params.tenantId, name, token, createdAt: new Date(row.created_at).toISOString() });
    },
  );
};
