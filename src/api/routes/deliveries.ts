import { getDelivery, listAttempts, listDeliveries, retryDelivery } from '../../store/deliveries.js';
import { recordAudit } from '../../store/audit.js';
import { actorOf } from '../auth.js';
import { requestHeadersFor } from '../credential-access.js';
import { errors } from '../../errors.js';
import { emptyListOfMissingTenant } from '../tenant-lists.js';
import { decodeCursor, pageOf } from '../pagination.js';
import { checkRange } from '../list-query.js';
import { Delivery, DeliveryListQuery, DeliveryParams, DeliveryWithAttempts, TenantParams, page } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

export const deliveryRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const tags = ['deliveries'];

  app.get(
    '/v1/tenants/:tenantId/deliveries',
    { schema: { tags, params: TenantParams, querystring: DeliveryListQuery, response: { 200: page(Delivery) } } },
    async (req) => {
      const limit = req.query.limit ?? 50;
      const before = decodeCursor(req.query.cursor, ['createdAt', 'id'] as const);
      const { status, endpointId, eventType, since, until } = req.query;
      checkRange(since, until);
      const rows = await listDeliveries(ctx.db, req.params.tenantId, { limit, before, status, endpointId, eventType, since, until });
      await emptyListOfMissingTenant(req, ctx.publisher, req.params.tenantId, rows);
      return pageOf(rows, limit, (d) => ({ createdAt: d.createdAt, id: d.id }));
    },
  );

  /** One delivery with every attempt: exact request headers (signatures included) and response or network error. */
  app.get(
    '/v1/tenants/:tenantId/deliveries/:deliveryId',
    { schema: { tags, params: DeliveryParams, response: { 200: DeliveryWithAttempts } } },
    async (req) => {
      const d = await getDelivery(ctx.db, req.params.tenantId, req.params.deliveryId);
      if (!d) throw errors.notFound('delivery');
      const attempts = await listAttempts(ctx.db, req.params.tenantId, d.id);
      return { ...d, attemptLog: attempts.map((a) => ({ ...a, request: { ...a.request, headers: requestHeadersFor(req, a.request.headers) } })) };
    },
  );

  app.post(
    '/v1/tenants/:tenantId/deliveries/:deliveryId/retry',
    { schema: { tags, params: DeliveryParams, response: { 202: Delivery } } },
    async (req, reply) => {
      const { tenantId, deliveryId } = req.params;
      const d = await ctx.db.transaction(async (tx) => {
        const r = await retryDelivery(tx, tenantId, deliveryId);
        if (r) await recordAudit(tx, { tenantId, actor: actorOf(req), action: 'delivery.retried', targetType: 'delivery', targetId: deliveryId });
        return r;
      });
      if (!d) throw errors.notFound('delivery');
      return reply.status(202).send(d);
    },
  );
};
