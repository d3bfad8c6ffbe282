import { Type } from 'typebox';
import { templateProblem, type Template } from '../../delivery/envelope.js';
import { recordAudit } from '../../store/audit.js';
import { getEventType, insertEventType, listEventTypes, updateEventType } from '../../store/event-types.js';
import { actorOf, requireAdmin } from '../auth.js';
import { errors } from '../../errors.js';
import { ErrorBody, EventType, EventTypeCreate, EventTypeName, EventTypePatch } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

/** The platform-wide catalogue of event types; any token may read it, only the admin may change it. */
export const eventTypeRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const tags = ['event types'];
  const Params = Type.Object({ name: EventTypeName });

  function checkEnvelope(envelope: unknown): void {
    if (envelope === undefined) return;
    const problem = templateProblem(envelope);
    if (problem) throw errors.invalidField('envelope', problem);
  }

  app.post('/v1/event-types', { schema: { tags, body: EventTypeCreate, response: { 201: EventType, 409: ErrorBody } } }, async (req, reply) => {
    requireAdmin(req);
    if (req.body.schema) ctx.payloads.compile(req.body.schema);
    checkEnvelope(req.body.envelope);
    const et = await ctx.db.transaction(async (tx) => {
      const created = await insertEventType(tx, { ...req.body, envelope: req.body.envelope as Template | undefined });
      if (!created) throw errors.conflict(`event type ${req.body.name} already exists`);
      await recordAudit(tx, { tenantId: null, actor: actorOf(req), action: 'event_type.created', targetType: 'event_type', targetId: created.name });
      return created;
    });
    return reply.status(201).send(et);
  });

  app.get('/v1/event-types', { schema: { tags, response: { 200: Type.Object({ data: Type.Array(EventType) }) } } }, async () => ({
    data: await listEventTypes(ctx.db),
  }));

  app.get('/v1/event-types/:name', { schema: { tags, params: Params, response: { 200: EventType } } }, async (req) => {
    const et = await getEventType(ctx.db, req.params.name);
    if (!et) throw errors.notFound('event type');
    return et;
  });

  app.patch('/v1/event-types/:name', { schema: { tags, params: Params, body: EventTypePatch, response: { 200: EventType } } }, async (req) => {
    requireAdmin(req);
    if (req.body.schema) ctx.payloads.compile(req.body.schema);
    if (req.body.envelope !== null) checkEnvelope(req.body.envelope);
    const et = await ctx.db.transaction(async (tx) => {
      const updated = await updateEventType(tx, req.params.name, { ...req.body, envelope: req.body.envelope as Template | null | undefined });
      if (!updated) throw errors.notFound('event type');
      await recordAudit(tx, { tenantId: null, actor: actorOf(req), action: 'event_type.updated', targetType: 'event_type', targetId: updated.name });
      return updated;
    });
    ctx.payloads.forget(et.name);
    return et;
  });
};
