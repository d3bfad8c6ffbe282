import { createSafeDispatcher } from '../../security/safe-lookup.js';
import { checkUrl } from '../../security/address-policy.js';
import { startSend } from '../../delivery/sender.js';
import { prepare } from '../../delivery/worker.js';
import { recordAudit } from '../../store/audit.js';
import { getDelivery } from '../../store/deliveries.js';
import { eventBody, insertReplay, listReplays } from '../../store/delivery-replays.js';
import { getEndpoint } from '../../store/endpoints.js';
import { newId } from '../../ids.js';
import { errors } from '../../errors.js';
import { VERSION } from '../../version.js';
import { actorOf } from '../auth.js';
import { requestHeadersFor } from '../credential-access.js';
import { DeliveryParams, Replay, ReplayBody, ReplayList } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

/**
 * Replay to another URL: the delivery's event, signed with its endpoint's
 * secret and headers exactly as a retry would be, POSTed once to a URL the
 * caller names (a tunnel to a laptop, a staging receiver). The endpoint,
 * the delivery's state and its attempts are left as they are; the request
 * and the answer are kept as a replay, shown beside the attempts. The URL
 * is held to the endpoints' rules (https and a public address outside dev
 * mode) when given and again on the address connected to.
 *
 * It is sent from the API process while the request waits (at most the
 * endpoint's timeout), so the caller sees the answer at once; a dispatcher
 * of its own keeps it away from the workers' connections.
 */
export const deliveryReplayRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const tags = ['deliveries'];
  const dispatcher = createSafeDispatcher({ policy: ctx.addressPolicy, connections: 4 });
  app.addHook('onClose', async () => dispatcher.close());

  app.post(
    '/v1/tenants/:tenantId/deliveries/:deliveryId/replay',
    { schema: { tags, params: DeliveryParams, body: ReplayBody, response: { 201: Replay } } },
    async (req, reply) => {
      const { tenantId, deliveryId } = req.params;
      const target = checkUrl(req.body.url, { allowHttp: ctx.config.dev, policy: ctx.addressPolicy });
      if (!target.ok) throw errors.invalidField('url', target.reason);
      const d = await getDelivery(ctx.db, tenantId, deliveryId);
      if (!d) throw errors.notFound('delivery');
      const endpoint = await getEndpoint(ctx.db, tenantId, d.endpointId, ctx.secrets);
      if (!endpoint) throw errors.notFound('endpoint');
      const body = await eventBody(ctx.db, tenantId, d.eventId);
      if (body === null) throw errors.conflict(`the payload of event ${d.eventId} is no longer kept (retention); nothing to replay`);

      const { headers } = prepare({ ...endpoint, eventId: d.eventId, payload: body }, `Herald/${VERSION}`);
      const url = target.url.toString();
      const startedAt = new Date();
      const res = await startSend(dispatcher, { url, headers, body, timeoutMs: endpoint.timeoutMs }, ctx.config.responseBodyCapBytes).done;
      const replay = await ctx.db.transaction(async (tx) => {
        const r = await insertReplay(tx, tenantId, {
          id: newId('rpl'),
          deliveryId,
          actor: actorOf(req),
          startedAt: startedAt.toISOString(),
          durationMs: Math.round(res.durationMs),
          request: { url, headers },
          response: res.status === null ? null : { status: res.status, headers: res.headers ?? {}, body: res.body ?? '', bodyTruncated: res.bodyTruncated },
          error: res.errorCode ? { code: res.errorCode, message: res.errorMessage ?? '' } : null,
        });
        await recordAudit(tx, {
          tenantId,
          actor: actorOf(req),
          action: 'delivery.replayed',
          targetType: 'delivery',
          targetId: deliveryId,
          details: { url, status: res.status, error: res.errorCode },
        });
        return r;
      });
      return reply.status(201).send({ ...replay, request: { url, headers: requestHeadersFor(req, headers) } });
    },
  );

  app.get(
    '/v1/tenants/:tenantId/deliveries/:deliveryId/replays',
    { schema: { tags, params: DeliveryParams, response: { 200: ReplayList } } },
    async (req) => {
      const d = await getDelivery(ctx.db, req.params.tenantId, req.params.deliveryId);
      if (!d) throw errors.notFound('delivery');
      const replays = await listReplays(ctx.db, req.params.tenantId, d.id);
      return { data: replays.map((r) => ({ ...r, request: { ...r.request, headers: requestHeadersFor(req, r.request.headers) } })) };
    },
  );
};
