import { listAudit } from '../../store/audit.js';
import { errors } from '../../errors.js';
import { emptyListOfMissingTenant } from '../tenant-lists.js';
import { decodeCursor, pageOf } from '../pagination.js';
import { AuditEntry, AuditQuery, TenantParams, page } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

export const auditRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  app.get(
    '/v1/tenants/:tenantId/audit-log',
    { schema: { tags: ['audit log'], params: TenantParams, querystring: AuditQuery, response: { 200: page(AuditEntry) } } },
    async (req) => {
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
