import { newId } from '../../ids.js';
import { recordAudit } from '../../store/audit.js';
import { templateProblem } from '../../delivery/envelope.js';
import { deleteTenant, getTenant, insertTenant, listTenants, updateTenant, type TenantSettings } from '../../store/tenants.js';
import { EndpointSettings } from '../endpoint-settings.js';
import { actorOf, requireAdmin } from '../auth.js';
import { settingsFor } from '../credential-access.js';
import { errors } from '../../errors.js';
import { decodeCursor, pageOf } from '../pagination.js';
import { ErrorBody, PageQuery, Tenant, TenantCreate, TenantParams, TenantPatch, page } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

export const tenantRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const tags = ['tenants'];
  const endpointRules = new EndpointSettings(ctx.config, ctx.addressPolicy);

  /** Checks what JSON Schema cannot: the envelope's placeholders and the endpoint defaults' values. */
  function validSettings(s: TenantSettings | undefined): TenantSettings | undefined {
    if (!s) return s;
    if (s.envelope !== undefined) {
      const problem = templateProblem(s.envelope);
      if (problem) throw errors.invalidField('settings.envelope', problem);
    }
    const d = s.endpointDefaults;
    if (d) {
      const prefix = 'settings.endpointDefaults.';
      const signature = endpointRules.signature(d.signature, prefix);
      if (d.headers) endpointRules.headers(d.headers, signature, prefix);
      if (d.retry) endpointRules.retry(d.retry, prefix);
      if (d.timeoutMs !== undefined) endpointRules.timeout(d.timeoutMs, prefix);
    }
    return s;
  }

  app.post('/v1/tenants', { schema: { tags, body: TenantCreate, response: { 201: Tenant, 409: ErrorBody } } }, async (req, reply) => {
    requireAdmin(req);
    const id = req.body.id ?? newId('org');
    const settings = validSettings(req.body.settings as TenantSettings | undefined);
    const tenant = await ctx.db.transaction(async (tx) => {
      const t = await insertTenant(tx, id, req.body.name, settings);
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
      return { data: own ? [{ ...own, settings: settingsFor(req, own.settings) }] : [], nextCursor: null };
    }
    const after = decodeCursor(req.query.cursor, ['id'] as const);
    const rows = await listTenants(ctx.db, { limit, after: after?.id });
    return pageOf(rows, limit, (t) => ({ id: t.id }));
  });

  app.get('/v1/tenants/:tenantId', { schema: { tags, params: TenantParams, response: { 200: Tenant } } }, async (req) => {
    const t = await getTenant(ctx.db, req.params.tenantId);
    if (!t) throw errors.notFound('tenant');
    return { ...t, settings: settingsFor(req, t.settings) };
  });

  app.patch('/v1/tenants/:tenantId', { schema: { tags, params: TenantParams, body: TenantPatch, response: { 200: Tenant } } }, async (req) => {
    requireAdmin(req);
    const settings = validSettings(req.body.settings as TenantSettings | undefined);
    const updated = await ctx.db.transaction(async (tx) => {
      const t = await updateTenant(tx, req.params.tenantId, { name: req.body.name, settings });
      if (!t) throw errors.notFound('tenant');
      await recordAudit(tx, { tenantId: t.id, actor: actorOf(req), action: 'tenant.updated', targetType: 'tenant', targetId: t.id, details: { changed: Object.keys(req.body) } });
      return t;
    });
    ctx.publisher.forget(updated.id);
    return updated;
  });

  app.delete('/v1/tenants/:tenantId', { schema: { tags, params: TenantParams } }, async (req, reply) => {
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
    ctx.publisher.forget(req.params.tenantId);
    return reply.status(204).send();
  });

};
