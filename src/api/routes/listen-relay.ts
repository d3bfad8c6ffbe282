import type { FastifyReply } from 'fastify';
import { signingSecrets } from '../../delivery/signer.js';
import { errors } from '../../errors.js';
import { RELAY_PREFIX } from '../../listen/relay-urls.js';
import { signedByEndpoint } from '../../listen/relay-signature.js';
import type { RelayReport } from '../../listen/streams.js';
import { getEndpoint } from '../../store/endpoints.js';
import { deliveryOf, getOpenSession } from '../../store/listen-sessions.js';
import { RelayParams } from '../listen-schemas.js';
import { ErrorBody } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

/** Headers of HTTP's framing: never passed on (each hop sets its own). */
const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'te', 'trailer', 'upgrade', 'proxy-connection', 'expect']);

/** Time kept back from the endpoint's timeout, so the relay answers before the worker gives up. (Default: 500 ms) */
const ANSWER_MARGIN_MS = 500;

/**
 * The relay a `herald listen` session's temporary endpoint points at. The
 * worker POSTs each delivery here as to any endpoint; this process streams
 * it to the CLI connected to the session, waits for its report and answers
 * with the local receiver's status, headers and body, so the worker
 * records them as the attempt. No CLI here, a CLI that went away, or a
 * receiver that could not be reached are answered 503/502/504: a failed
 * attempt, retried on the endpoint's schedule.
 *
 * Not under /v1 (the worker has no API token): the request must carry a
 * valid signature of the session endpoint's secret, which only the worker has.
 */
export const listenRelayRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  // The body as received, unparsed: it is passed on byte for byte, and signed as such.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.post(
    `${RELAY_PREFIX}:sessionId/:mac`,
    {
      // A rendered envelope may be larger than the published payload.
      bodyLimit: ctx.config.maxBodyBytes * 2 + 65_536,
      schema: {
        tags: ['listen'],
        summary: 'Internal: where a listen session\'s endpoint delivers (called by Herald\'s worker)',
        description:
          'Authenticated by the Standard Webhooks signature of the session endpoint\'s secret. Answers with the local receiver\'s status, headers and body, ' +
          'or 502 (receiver_unreachable, listener_disconnected), 503 (listener_offline), 504 (listener_timeout).',
        security: [],
        params: RelayParams,
        response: { 401: ErrorBody, 404: ErrorBody, 502: ErrorBody, 503: ErrorBody, 504: ErrorBody },
      },
    },
    async (req, reply) => {
      const body = typeof req.body === 'string' ? req.body : '';
      const session = await getOpenSession(ctx.db, null, req.params.sessionId);
      if (!session) throw errors.notFound('listen session');
      const endpoint = await getEndpoint(ctx.db, session.tenantId, session.endpointId, ctx.secrets);
      if (!endpoint) throw errors.notFound('listen session');
      if (!signedByEndpoint(req.headers, body, signingSecrets(endpoint.secret, endpoint.oldSecrets))) throw errors.unauthorized();
      const eventId = String(req.headers['webhook-id']);
      const delivery = await deliveryOf(ctx.db, session.tenantId, session.endpointId, eventId);
      const timeoutMs = Math.max(100, endpoint.timeoutMs - ANSWER_MARGIN_MS);
      const outcome = await ctx.listen.streams.relay(session.id, {
        deliveryId: delivery?.id ?? null,
        eventId,
        eventType: delivery?.eventType ?? null,
        headers: passOn(req.headers),
        body,
        timeoutMs,
      });
      switch (outcome.kind) {
        case 'answered':
          return answer(reply, outcome.report);
        case 'offline':
          throw errors.listenerOffline(session.id);
        case 'disconnected':
          throw errors.listenerDisconnected();
        case 'timeout':
          throw errors.listenerTimeout(outcome.timeoutMs);
      }
    },
  );
};

/** The local receiver's answer as this route's answer, or the error that stopped it as a 502. */
function answer(reply: FastifyReply, report: RelayReport): FastifyReply {
  if ('error' in report) throw errors.receiverUnreachable(report.error.code, report.error.message);
  reply.status(report.status);
  // no content-encoding: the CLI passes the body on as text, decoded or not
  for (const [k, v] of Object.entries(report.headers)) if (!HOP_HEADERS.has(k.toLowerCase()) && k.toLowerCase() !== 'content-encoding') reply.header(k, v);
  return reply.send(report.status === 204 || report.status === 304 ? undefined : report.body);
}

function passOn(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_HEADERS.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

