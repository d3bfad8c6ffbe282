import type { FastifyPluginAsync } from 'fastify';
import { listAudit } from '../../store/audit.js';
import { requireTenant } from '../auth.js';
import { errors } from '../errors.js';
import { emptyListOfMissingTenant } from '../tenant-lists.js';
import { decodeCursor, pageOf } from '../pagination.js';
import { AuditEntry, AuditQuery, TenantParams, page } from '../schemas.js';
import type { App, AppContext } from '../server.js';

export const auditRoutes = (ctx: AppContext): FastifyPluginAsync => async (instance) => {
  const app = instance as unknown as App;
  app.get(
    '/v1/tenants/:tenantId/audit-log',
    { schema: { tags: ['audit log'], params: TenantParams, querystring: AuditQuery, response: { 200: page(AuditEntry) } } },
    async (req) => {
      requireTenant(req, req.params.tenantId);
      const limit = req.query.limit ?? 50;
      const before = decodeCursor(req.query.cursor, ['id'] as const);
      // Audit ids are bigints: anything else would make PostgreSQL answer with an error (500).
      if (before && !/^\d{1,18}$/.test(before.id)) throw errors.invalidField('cursor', 'is not a cursor this API returned');
      const rows = await listAudit(ctx.db, req.params.tenantId, { limit, before: before?.id, action: req.query.action });
      await emptyListOfMissingTenant(req, ctx.publisher, req.params.tenantId, rows);
      return pageOf(rows, limit, (e) => ({ id: e.id }));
    },
  );
};
