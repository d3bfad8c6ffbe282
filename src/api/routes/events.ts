import { isDeepStrictEqual } from 'node:util';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { listDeliveriesOfEvent } from '../../store/deliveries.js';
import { getEvent, listEvents, refusedReplayAt, searchEventPayloads, type EventRecord } from '../../store/events.js';
import { conflictingReplays } from '../../store/event-replays.js';
import { exactPayloadTexts } from '../../store/event-payloads.js';
import { compactJson, losslessBody, parseStored } from '../../intake/lossless-payload.js';
import { errors } from '../../errors.js';
import { tracePublish } from '../../telemetry/telemetry.js';
import { emptyListOfMissingTenant } from '../tenant-lists.js';
import { decodeCursor, encodeCursor, pageOf } from '../pagination.js';
import { checkRange, payloadFilter } from '../list-query.js';
import { Delivery, ErrorBody, Event, EventAccepted, EventBatch, EventListQuery, EventParams, EventPublish, TenantParams, page } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

/** One event of a batch as the route passes it on. */
type BatchInput = { id?: string; type: string; payload: Record<string, unknown>; orderingKey?: string; losslessPayload?: unknown };

export const eventRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const tags = ['events'];

  /**
   * Publish: 202 once the event and its deliveries are committed. A
   * client-supplied id makes the call idempotent per tenant: the same id
   * again creates nothing and answers with the first event
   * (`idempotent-replayed: true`), so a client may retry after a timeout.
   * The same id with another type or payload is 409 `idempotency_conflict`.
   */
  app.post(
    '/v1/tenants/:tenantId/events',
    { schema: { tags, params: TenantParams, body: EventPublish, response: { 202: EventAccepted, 404: ErrorBody, 422: ErrorBody } } },
    async (req, reply) => {
      const { tenantId } = req.params;
      const { id, type, payload, orderingKey } = req.body;
      const lossless = losslessBody(req.rawBody) as { payload?: unknown } | null;
      return tracePublish(ctx.telemetry, { headers: req.headers, route: req.routeOptions.url ?? '', tenantId }, async (traceContext) => {
        const result = await ctx.publisher.publish({ tenantId, id, type, payload, orderingKey, losslessPayload: lossless?.payload, traceContext });
        if (result.replayed) {
          // Nothing was written: only now is it worth a query to compare with the stored event.
          const payloadJson = () => (lossless ? compactJson(lossless.payload) : JSON.stringify(payload));
          if ((await conflictingReplays(ctx.db, tenantId, [{ id: result.id, type, payloadJson }])).size > 0) throw errors.idempotencyConflict('id', result.id);
          reply.header('idempotent-replayed', 'true');
        }
        else ctx.metrics.eventsPublished.inc();
        const { replayed: _replayed, ...body } = result;
        return { reply: reply.status(202).send(body), published: { events: [result], deliveries: result.replayed ? 0 : result.deliveries } };
      });
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
    async (req, reply) =>
      tracePublish(ctx.telemetry, { headers: req.headers, route: req.routeOptions.url ?? '', tenantId: req.params.tenantId }, async (traceContext) => {
        const { tenantId } = req.params;
        const events = batchEvents(req.body.events, req.rawBody);
        // the parsed events are the caller's only until publishBatch has prepared them (it empties the array)
        req.body.events = [];
        const ids = events.map((e) => e.id);
        const results = await ctx.publisher.publishBatch(tenantId, events, traceContext).catch((err: unknown) => {
          const at = refusedReplayAt(err);
          throw at === null ? err : errors.idempotencyConflict(`events[${at}].id`, ids[at]!);
        });
        ctx.metrics.eventsPublished.inc(results.filter((r) => !r.replayed).length);
        const deliveries = results.reduce((n, r) => n + (r.replayed ? 0 : r.deliveries), 0);
        return { reply: reply.status(202).send({ data: results }), published: { events: results, deliveries } };
      }),
  );

  /**
   * The batch's events as publishBatch takes them, with their payloads as
   * parsed without losing big integers where they have any. All or
   * nothing: an id used twice in the batch with other content refuses it
   * here, before anything is written (an id an earlier event holds with
   * other content is refused inside the statement).
   */
  function batchEvents(parsed: BatchInput[], rawBody: string | undefined): BatchInput[] {
    const lossless = losslessBody(rawBody) as { events?: { payload?: unknown }[] } | null;
    const events = lossless ? parsed.map((e, i) => ({ ...e, losslessPayload: lossless.events?.[i]?.payload })) : parsed;
    const seen = new Map<string, { type: string; payload: unknown }>();
    events.forEach((e, i) => {
      if (e.id === undefined) return;
      const before = seen.get(e.id);
      if (before && (before.type !== e.type || !isDeepStrictEqual(before.payload, e.payload))) throw errors.idempotencyConflict(`events[${i}].id`, e.id);
      seen.set(e.id, { type: e.type, payload: e.payload });
    });
    return events;
  }

  /**
   * Events as stored, numbers digit for digit: payloads whose numbers
   * JSON.parse would alter are read again as text and the reply is written
   * with lossless-json (the response schema's serializer would write
   * doubles). Returns the events unchanged when none needs it.
   */
  async function exactly<E extends { id: string; payload: unknown }>(reply: FastifyReply, tenantId: string, events: E[]): Promise<E[]> {
    const texts = await exactPayloadTexts(ctx.db, tenantId, events.map((e) => e.id));
    if (texts.size === 0) return events;
    reply.serializer((body: unknown) => compactJson(body));
    return events.map((e) => (texts.has(e.id) ? { ...e, payload: parseStored(texts.get(e.id)!) } : e));
  }

  app.get('/v1/tenants/:tenantId/events', { schema: { tags, params: TenantParams, querystring: EventListQuery, response: { 200: page(Event) } } }, async (req, reply) => {
    const { tenantId } = req.params;
    const query = req.query;
    const limit = query.limit ?? 50;
    const before = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const filters = { type: query.type, since: query.since, until: query.until, id: query.id };
    checkRange(query.since, query.until);
    const payload = payloadFilter(query.payloadField, query.payloadValue);
    let out: { data: EventRecord[]; nextCursor: string | null };
    if (payload) {
      const found = await searchEventPayloads(ctx.db, tenantId, { ...filters, payload, limit, before });
      // A page may hold fewer matches than `limit` and still go on: the scan stopped at its bound.
      const full = pageOf(found.rows, limit, (e) => ({ createdAt: e.createdAt, id: e.id }));
      out = { data: found.rows, nextCursor: full.nextCursor ?? (found.scanEnd ? encodeCursor({ ...found.scanEnd }) : null) };
    } else {
      out = pageOf(await listEvents(ctx.db, tenantId, { ...filters, limit, before }), limit, (e) => ({ createdAt: e.createdAt, id: e.id }));
    }
    await emptyListOfMissingTenant(req, ctx.publisher, tenantId, out.data);
    return { ...out, data: await exactly(reply, tenantId, out.data) };
  });

  app.get('/v1/tenants/:tenantId/events/:eventId', { schema: { tags, params: EventParams, response: { 200: Event } } }, async (req, reply) => {
    const e = await getEvent(ctx.db, req.params.tenantId, req.params.eventId);
    if (!e) throw errors.notFound('event');
    return (await exactly(reply, req.params.tenantId, [e]))[0]!;
  });

  app.get(
    '/v1/tenants/:tenantId/events/:eventId/deliveries',
    { schema: { tags, params: EventParams, response: { 200: Type.Object({ data: Type.Array(Delivery) }) } } },
    async (req) => {
      const e = await getEvent(ctx.db, req.params.tenantId, req.params.eventId);
      if (!e) throw errors.notFound('event');
      return { data: await listDeliveriesOfEvent(ctx.db, req.params.tenantId, req.params.eventId) };
    },
  );

};
