import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { newId } from '../../ids.js';
import { generateSecret } from '../../security/secrets.js';
import { recordAudit } from '../../store/audit.js';
import { getEndpoint, insertEndpoint } from '../../store/endpoints.js';
import { getOpenSession, insertSession, openSessionOf, repointEndpoint, touchSessions } from '../../store/listen-sessions.js';
import { getTenant } from '../../store/tenants.js';
import type { EventSink } from '../../listen/streams.js';
import { actorOf } from '../auth.js';
import { EndpointSettings } from '../endpoint-settings.js';
import { errors } from '../../errors.js';
import { ListenReport, ListenSession, ListenSessionParams, ListenStart, type ListenStartBody } from '../listen-schemas.js';
import { ErrorBody, TenantParams } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

const STANDARD = { scheme: 'standard' } as const;

/** A comment line on every open stream this often, so proxies and NATs keep it open and the CLI knows it is alive. (Default: 15 s) */
export const PING_INTERVAL_MS = 15_000;

/**
 * `herald listen`'s side of the API: open (or take up again) a session,
 * stream its deliveries, and take the CLI's reports of the local
 * receiver's answers. The relay the worker calls is listen-relay.ts.
 */
export const listenSessionRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const tags = ['listen'];
  const rules = new EndpointSettings(ctx.config, ctx.addressPolicy);

  app.post(
    '/v1/tenants/:tenantId/listen-sessions',
    {
      schema: {
        tags,
        summary: 'Open a herald listen session (or resume the open one of the same token, forward-to URL and event types)',
        params: TenantParams,
        body: ListenStart,
        response: { 200: ListenSession, 201: ListenSession, 400: ErrorBody },
      },
    },
    async (req, reply) => {
      const { tenantId } = req.params;
      const eventTypes = req.body.eventTypes ?? null;
      const key = clientKey(actorOf(req), req.body);
      const defaults = (await ctx.publisher.settingsOf(tenantId)).endpointDefaults ?? {};
      const relayBase = ctx.listen.base();
      const r = await ctx.db.transaction(async (tx) => {
        if (!(await getTenant(tx, tenantId))) throw errors.notFound('tenant');
        const open = await openSessionOf(tx, tenantId, key);
        const openEndpoint = open && (await getEndpoint(tx, tenantId, open.endpointId, ctx.secrets));
        if (open && openEndpoint) {
          await repointEndpoint(tx, open.endpointId, ctx.listen.urls.mint(relayBase, open.id));
          await touchSessions(tx, [open.id]);
          return { session: open, secret: openEndpoint.secret, resumed: true };
        }
        const sessionId = newId('ls');
        // The one way an endpoint gets a relay URL: minted here, never through the endpoint API (relay-urls.ts).
        const endpoint = await insertEndpoint(
          tx,
          {
            id: newId('ep'),
            tenantId,
            url: ctx.listen.urls.mint(relayBase, sessionId),
            destination: null,
            brokerUrl: null,
            description: `herald listen → ${req.body.forwardTo}`.slice(0, 2000),
            eventTypes,
            disabled: false,
            // The tenant's static headers, as its production endpoints get them; the signature is Standard
            // Webhooks always (the relay checks it, and any library verifies it), whatever the tenant's default.
            headers: rules.headers(defaults.headers, STANDARD),
            signature: STANDARD,
            retry: rules.retry(defaults.retry),
            timeoutMs: rules.timeout(defaults.timeoutMs),
            ordered: false,
            rateLimitPerSecond: null,
            filter: null,
            sendTraceContext: false,
            transformation: null,
            secret: generateSecret(),
          },
          ctx.secrets,
        );
        const session = await insertSession(tx, { id: sessionId, tenantId, endpointId: endpoint.id, clientKey: key, forwardTo: req.body.forwardTo });
        await recordAudit(tx, {
          tenantId, actor: actorOf(req), action: 'listen.started', targetType: 'endpoint', targetId: endpoint.id,
          details: { session: sessionId, forwardTo: req.body.forwardTo, eventTypes },
        });
        return { session, secret: endpoint.secret, resumed: false };
      });
      return reply.status(r.resumed ? 200 : 201).send({
        id: r.session.id,
        tenantId,
        endpointId: r.session.endpointId,
        forwardTo: r.session.forwardTo,
        eventTypes,
        secret: r.secret,
        resumed: r.resumed,
        graceSeconds: ctx.config.listenGraceSeconds,
        createdAt: r.session.createdAt,
      });
    },
  );

  app.get(
    '/v1/tenants/:tenantId/listen-sessions/:sessionId/stream',
    {
      schema: {
        tags,
        summary: 'The session\'s deliveries as server-sent events',
        description:
          'A `text/event-stream`: `ready` once, then one `delivery` event per delivery ({relayId, deliveryId, eventId, eventType, headers, body, timeoutMs}), ' +
          'and a comment line every 15 s. Report each answer to `POST .../reports`. One connection per session: a newer one replaces the older.',
        params: ListenSessionParams,
        response: { 200: { description: 'server-sent events', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const { tenantId, sessionId } = req.params;
      const session = await getOpenSession(ctx.db, tenantId, sessionId);
      if (!session) throw errors.notFound('listen session');
      openStream(req, reply, (sink) => {
        sink.send('ready', { sessionId, endpointId: session.endpointId });
        const detach = ctx.listen.streams.attach(sessionId, sink);
        return () => {
          detach();
          // seen until the very end, so the grace period counts from the disconnect
          touchSessions(ctx.db, [sessionId]).catch((err: unknown) => req.log.warn({ err }, 'listen session not marked as seen'));
        };
      });
    },
  );

  app.post(
    '/v1/tenants/:tenantId/listen-sessions/:sessionId/reports',
    {
      schema: {
        tags,
        summary: 'Report the local receiver\'s answer to a streamed delivery',
        description: 'The answer becomes the attempt Herald records (status, headers, body); an `error` becomes a 502 attempt naming it.',
        params: ListenSessionParams,
        body: ListenReport,
        response: { 204: Type.Null({ description: 'taken' }), 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if ((b.status === undefined) === (b.error === undefined)) throw errors.badRequest('a report carries either status or error');
      const report = b.error
        ? { error: b.error, durationMs: b.durationMs }
        : { status: b.status!, headers: b.headers ?? {}, body: b.body ?? '', durationMs: b.durationMs };
      if (!ctx.listen.streams.report(req.params.sessionId, b.relayId, report)) {
        throw errors.notFound('relay (it timed out, or another API process holds the connection)');
      }
      return reply.status(204).send(null);
    },
  );
};

/** One key per token, forward-to URL and event types: the same command run again takes its session up again. */
function clientKey(actor: string, b: ListenStartBody): string {
  const types = b.eventTypes ? [...b.eventTypes].sort() : null;
  return createHash('sha256').update(JSON.stringify([actor, b.forwardTo, types])).digest('hex');
}

/**
 * Turns the reply into an event stream: `start` gets the sink and returns
 * what to do when the connection closes (either side).
 */
function openStream(req: FastifyRequest, reply: FastifyReply, start: (sink: EventSink) => () => void): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'keep-alive' });
  res.flushHeaders();
  let open = true;
  const sink: EventSink = {
    send(event, data) {
      if (open) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      if (open) res.end();
    },
  };
  const ping = setInterval(() => open && res.write(': ping\n\n'), PING_INTERVAL_MS);
  const closed = start(sink);
  req.raw.socket.setKeepAlive(true, PING_INTERVAL_MS);
  res.on('close', () => {
    open = false;
    clearInterval(ping);
    closed();
  });
}
