import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { listDeliveriesOfEvent } from '../../store/deliveries.js';
import { getEvent, listEvents } from '../../store/events.js';
import { requireTenant } from '../auth.js';
import { losslessBody } from '../lossless-payload.js';
import { errors } from '../errors.js';
import { decodeCursor, pageOf } from '../pagination.js';
import { Delivery, ErrorBody, Event, EventAccepted, EventBatch, EventListQuery, EventParams, EventPublish, TenantParams, page } from '../schemas.js';
import type { App, AppContext } from '../server.js';

export const eventRoutes = (ctx: AppContext): FastifyPluginAsync => async (instance) => {
  const app = instance as unknown as App;
  const tags = ['events'];

  /**
   * Publish: 202 once the event and its deliveries are committed. A
   * client-supplied id makes the call idempotent per tenant: the same id
   * again creates nothing and answers with the first event
   * (`idempotent-replayed: true`), so a client may retry after a timeout.
   */
  app.post(
    '/v1/tenants/:tenantId/events',
    { schema: { tags, params: TenantParams, body: EventPublish, response: { 202: EventAccepted, 404: ErrorBody, 422: ErrorBody } } },
    async (req, reply) => {
      const { tenantId } = req.params;
      requireTenant(req, tenantId);
      const { id, type, payload, orderingKey } = req.body;
      const lossless = losslessBody(req.rawBody) as { payload?: unknown } | null;
      const result = await ctx.publisher.publish({ tenantId, id, type, payload, orderingKey, losslessPayload: lossless?.payload });
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      else ctx.metrics.eventsPublished.inc();
      const { replayed: _replayed, ...body } = result;
      return reply.status(202).send(body);
    },
  );

  /**
   * Batch publish: up to 1,000 events in one request and one statement.
   * All or nothing: an invalid event refuses the batch. Ids make it
   * idempotent per event, exactly as for single publishes.
   */
  app.post(
    '/v1/tenants/:tenantId/events/batch',
    {
      bodyLimit: ctx.config.maxBodyBytes * 16,
      schema: {
        tags,
        params: TenantParams,
        body: EventBatch,
        response: { 202: Type.Object({ data: Type.Array(Type.Intersect([EventAccepted, Type.Object({ replayed: Type.Boolean() })])) }) },
      },
    },
    async (req, reply) => {
      const { tenantId } = req.params;
      requireTenant(req, tenantId);
      const lossless = losslessBody(req.rawBody) as { events?: { payload?: unknown }[] } | null;
      const events = lossless ? req.body.events.map((e, i) => ({ ...e, losslessPayload: lossless.events?.[i]?.payload })) : req.body.events;
      const results = await ctx.publisher.publishBatch(tenantId, events);
      ctx.metrics.eventsPublished.inc(results.filter((r) => !r.replayed).length);
      return reply.status(202).send({ data: results });
    },
  );

  app.get('/v1/tenants/:tenantId/events', { schema: { tags, params: TenantParams, querystring: EventListQuery, response: { 200: page(Event) } } }, async (req) => {
    requireTenant(req, req.params.tenantId);
    const limit = req.query.limit ?? 50;
    const before = decodeCursor(req.query.cursor, ['createdAt', 'id'] as const);
    const rows = await listEvents(ctx.db, req.params.tenantId, {
      limit,
      before,
      type: req.query.type,
      since: req.query.since,
      until: req.query.until,
    });
    return pageOf(rows, limit, (e) => ({ createdAt: e.createdAt, id: e.id }));
  });

  app.get('/v1/tenants/:tenantId/events/:eventId', { schema: { tags, params: EventParams, response: { 200: Event } } }, async (req) => {
    requireTenant(req, req.params.tenantId);
    const e = await getEvent(ctx.db, req.params.tenantId, req.params.eventId);
    if (!e) throw errors.notFound('event');
    return e;
  });

  app.get(
    '/v1/tenants/:tenantId/events/:eventId/deliveries',
    { schema: { tags, params: EventParams, response: { 200: Type.Object({ data: Type.Array(Delivery) }) } } },
    async (req) => {
      requireTenant(req, req.params.tenantId);
      const e = await getEvent(ctx.db, req.params.tenantId, req.params.eventId);
      if (!e) throw errors.notFound('event');
      return { data: await listDeliveriesOfEvent(ctx.db, req.params.tenantId, req.params.eventId) };
    },
  );

};
