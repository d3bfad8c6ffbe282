import { countDeliveries, getDelivery, listAttempts, listDeliveries, retryDelivery, retryFailedDeliveries } from '../../store/deliveries.js';
import { getTenant } from '../../store/tenants.js';
import { recordAudit } from '../../store/audit.js';
import { actorOf } from '../auth.js';
import { requestHeadersFor } from '../credential-access.js';
import { errors } from '../../errors.js';
import { emptyListOfMissingTenant } from '../tenant-lists.js';
import { decodeCursor, pageOf } from '../pagination.js';
import { checkRange } from '../list-query.js';
import { BulkRetried, BulkRetry, Delivery, DeliveryCount, DeliveryCountQuery, DeliveryListQuery, DeliveryParams, DeliveryWithAttempts, TenantParams, page } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

/** Where a preview count stops: enough to say "10,000 or more" without reading a huge backlog. */
const COUNT_CAP = 10_000;

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

  /** How many deliveries match the list's filters (the preview of a bulk retry), counted up to COUNT_CAP. */
  app.get(
    '/v1/tenants/:tenantId/deliveries/count',
    { schema: { tags, params: TenantParams, querystring: DeliveryCountQuery, response: { 200: DeliveryCount } } },
    async (req) => {
      checkRange(req.query.since, req.query.until);
      const count = await countDeliveries(ctx.db, req.params.tenantId, req.query, COUNT_CAP);
      if (count === 0 && req.principal.kind === 'admin') await ctx.publisher.settingsOf(req.params.tenantId); // 404 for a missing tenant
      return { count, capped: count >= COUNT_CAP };
    },
  );

  /**
   * Bulk retry: the oldest `limit` failed deliveries matching the filters
   * get one manual attempt each. A client retries a whole filtered list by
   * calling again, with the same `updatedBefore`, while `more` is true;
   * each call is one short transaction and one audit entry, so a retry of
   * 100,000 deliveries never holds locks for long and shows progress.
   */
  app.post(
    '/v1/tenants/:tenantId/deliveries/retry',
    { schema: { tags, params: TenantParams, body: BulkRetry, response: { 202: BulkRetried } } },
    async (req, reply) => {
      const { tenantId } = req.params;
      const { limit = 100, ...filters } = req.body;
      checkRange(filters.since, filters.until);
      const retried = await ctx.db.transaction(async (tx) => {
        if (!(await getTenant(tx, tenantId))) throw errors.notFound('tenant');
        const n = await retryFailedDeliveries(tx, tenantId, { ...filters, limit });
        if (n > 0) await recordAudit(tx, { tenantId, actor: actorOf(req), action: 'deliveries.bulk_retried', details: { ...filters, retried: n } });
        return n;
      });
      return reply.status(202).send({ retried, more: retried === limit });
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
