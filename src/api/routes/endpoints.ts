import { Type } from 'typebox';
import type { SignatureConfig } from '../../delivery/types.js';
import { newId } from '../../ids.js';
import { generateSecret, sameSecretKind } from '../../security/secrets.js';
import { EndpointSettings } from '../endpoint-settings.js';
import { checkDestination } from '../destination-settings.js';
import { endpointChanges } from '../endpoint-changes.js';
import { checkedTransformation } from '../transformation-check.js';
import { recordAudit } from '../../store/audit.js';
import { listDeliveriesOfEvent, retryFailedDeliveries } from '../../store/deliveries.js';
import {
  deleteEndpoint,
  getEndpoint,
  getEndpointForUpdate,
  insertEndpoint,
  listEndpoints,
  saveEndpoint,
  publicEndpoint,
  type EndpointWithSecrets,
} from '../../store/endpoints.js';
import { getTenant } from '../../store/tenants.js';
import { actorOf } from '../auth.js';
import { endpointFor } from '../credential-access.js';
import { errors } from '../../errors.js';
import { emptyListOfMissingTenant } from '../tenant-lists.js';
import { decodeCursor, pageOf } from '../pagination.js';
import {
  Endpoint,
  EndpointCreate,
  EndpointCreated,
  EndpointParams,
  EndpointPatch,
  ErrorBody,
  PageQuery,
  Recover,
  TenantParams,
  TestEvent,
  page,
  type EndpointCreateBody,
  type EndpointPatchBody,
} from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';

export const endpointRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  const tags = ['endpoints'];

  const rules = new EndpointSettings(ctx.config, ctx.addressPolicy);
  const validUrl = (raw: string) => rules.url(raw);
  const validHeaders = (h: Record<string, string> | undefined, sig: SignatureConfig) => rules.headers(h, sig);
  const validSignature = (sig: EndpointCreateBody['signature']) => rules.signature(sig);
  const validRetry = (r: EndpointCreateBody['retry']) => rules.retry(r);
  const validTimeout = (ms: number | undefined) => rules.timeout(ms);
  const validSecret = (secret: string, sig: SignatureConfig) => rules.secret(secret, sig);
  /**
   * Where the endpoint delivers: an HTTP `url`, or a broker `destination`
   * (never both). `cur` is the endpoint being patched; a patch naming
   * neither keeps what it has.
   */
  const validTarget = (b: EndpointPatchBody, cur: EndpointWithSecrets | null) => {
    if (b.url !== undefined && b.destination !== undefined) throw errors.invalidField('destination', 'give either url (HTTP) or destination (a broker), not both');
    if (b.destination !== undefined) {
      const d = checkDestination(b.destination, { dev: ctx.config.dev, policy: ctx.addressPolicy }, cur);
      return { url: d.destination.url, ...d };
    }
    if (b.url !== undefined) return { url: validUrl(b.url), destination: null, brokerUrl: null };
    if (cur) return { url: cur.url, destination: cur.destination, brokerUrl: cur.brokerUrl };
    throw errors.invalidField('url', 'is required (or a broker destination)');
  };

  async function mustGet(tenantId: string, id: string): Promise<EndpointWithSecrets> {
    const e = await getEndpoint(ctx.db, tenantId, id, ctx.secrets);
    if (!e) throw errors.notFound('endpoint');
    return e;
  }

  app.post(
    '/v1/tenants/:tenantId/endpoints',
    { schema: { tags, params: TenantParams, body: EndpointCreate, response: { 201: EndpointCreated, 400: ErrorBody } } },
    async (req, reply) => {
      const { tenantId } = req.params;
      const b = req.body;
      // the tenant's endpoint defaults fill what the request leaves out (a platform's webhook contract)
      const defaults = (await ctx.publisher.settingsOf(tenantId)).endpointDefaults ?? {};
      const signature = validSignature(b.signature ?? defaults.signature);
      const endpoint = {
        id: newId('ep'),
        tenantId,
        ...validTarget(b, null),
        description: b.description ?? '',
        eventTypes: b.eventTypes ?? null,
        disabled: b.disabled ?? false,
        headers: validHeaders(b.headers ?? defaults.headers, signature),
        signature,
        retry: validRetry(b.retry ?? defaults.retry),
        timeoutMs: validTimeout(b.timeoutMs ?? defaults.timeoutMs),
        ordered: b.ordered ?? false,
        rateLimitPerSecond: b.rateLimitPerSecond ?? null,
        filter: rules.filter(b.filter),
        sendTraceContext: b.sendTraceContext ?? false,
        transformation: await checkedTransformation(ctx.transforms, b.transformation ?? null),
        secret: b.secret === undefined ? generateSecret(signature.scheme) : validSecret(b.secret, signature),
      };
      const created = await ctx.db.transaction(async (tx) => {
        if (!(await getTenant(tx, tenantId))) throw errors.notFound('tenant');
        const e = await insertEndpoint(tx, endpoint, ctx.secrets);
        await recordAudit(tx, {
          tenantId, actor: actorOf(req), action: 'endpoint.created', targetType: 'endpoint', targetId: e.id,
          details: { url: e.url, eventTypes: e.eventTypes },
        });
        return e;
      });
      return reply.status(201).send({ ...publicEndpoint(created), secret: created.secret });
    },
  );

  app.get(
    '/v1/tenants/:tenantId/endpoints',
    { schema: { tags, params: TenantParams, querystring: PageQuery, response: { 200: page(Endpoint) } } },
    async (req) => {
      const limit = req.query.limit ?? 50;
      const after = decodeCursor(req.query.cursor, ['id'] as const);
      const rows = await listEndpoints(ctx.db, req.params.tenantId, { limit, after: after?.id });
      await emptyListOfMissingTenant(req, ctx.publisher, req.params.tenantId, rows);
      return pageOf(rows.map((e) => endpointFor(req, e)), limit, (e) => ({ id: e.id }));
    },
  );

  app.get('/v1/tenants/:tenantId/endpoints/:endpointId', { schema: { tags, params: EndpointParams, response: { 200: Endpoint } } }, async (req) => {
    return endpointFor(req, publicEndpoint(await mustGet(req.params.tenantId, req.params.endpointId)));
  });

  app.patch(
    '/v1/tenants/:tenantId/endpoints/:endpointId',
    { schema: { tags, params: EndpointParams, body: EndpointPatch, response: { 200: Endpoint } } },
    async (req) => {
      const { tenantId, endpointId } = req.params;
      const b: EndpointPatchBody = req.body;
      // checked in the sandbox before the transaction, which must not wait on it
      const transformation = b.transformation !== undefined ? await checkedTransformation(ctx.transforms, b.transformation) : undefined;
      return ctx.db.transaction(async (tx) => {
        const cur = await getEndpointForUpdate(tx, tenantId, endpointId, ctx.secrets);
        if (!cur) throw errors.notFound('endpoint');
        const signature = b.signature ? validSignature(b.signature) : cur.signature;
        // An HMAC secret cannot sign ed25519 nor a whsk_ key HMAC: a change of
        // kind comes with a new secret (GET …/secret shows it) and ends every
        // grace period, since the old secrets cannot sign the new scheme.
        const newKind = !sameSecretKind(cur.signature.scheme, signature.scheme);
        if (b.signature && !newKind) validSecret(cur.secret, signature);
        const next: EndpointWithSecrets = {
          ...cur,
          ...(newKind ? { secret: generateSecret(signature.scheme), oldSecrets: [] } : {}),
          ...validTarget(b, cur),
          description: b.description ?? cur.description,
          eventTypes: b.eventTypes !== undefined ? b.eventTypes : cur.eventTypes,
          disabled: b.disabled ?? cur.disabled,
          disabledReason: b.disabled === false ? null : b.disabled === true && !cur.disabled ? 'disabled by user' : cur.disabledReason,
          headers: b.headers !== undefined ? validHeaders(b.headers, signature) : validHeaders(cur.headers, signature),
          signature,
          retry: b.retry !== undefined ? validRetry(b.retry) : cur.retry,
          timeoutMs: b.timeoutMs !== undefined ? validTimeout(b.timeoutMs) : cur.timeoutMs,
          ordered: b.ordered ?? cur.ordered,
          rateLimitPerSecond: b.rateLimitPerSecond !== undefined ? b.rateLimitPerSecond : cur.rateLimitPerSecond,
          filter: b.filter !== undefined ? rules.filter(b.filter) : cur.filter,
          sendTraceContext: b.sendTraceContext ?? cur.sendTraceContext,
          transformation: transformation !== undefined ? transformation : cur.transformation,
        };
        const saved = await saveEndpoint(tx, next, ctx.secrets);
        const action = b.disabled === true && !cur.disabled ? 'endpoint.disabled' : b.disabled === false && cur.disabled ? 'endpoint.enabled' : 'endpoint.updated';
        const changes = endpointChanges(publicEndpoint(cur), publicEndpoint(saved));
        await recordAudit(tx, {
          tenantId, actor: actorOf(req), action, targetType: 'endpoint', targetId: endpointId,
          details: { changed: Object.keys(changes), changes, ...(newKind ? { secretReplaced: true } : {}) },
        });
        return publicEndpoint(saved);
      });
    },
  );

  app.delete('/v1/tenants/:tenantId/endpoints/:endpointId', { schema: { tags, params: EndpointParams } }, async (req, reply) => {
    const { tenantId, endpointId } = req.params;
    const gone = await ctx.db.transaction(async (tx) => {
      const ok = await deleteEndpoint(tx, tenantId, endpointId);
      if (ok) await recordAudit(tx, { tenantId, actor: actorOf(req), action: 'endpoint.deleted', targetType: 'endpoint', targetId: endpointId });
      return ok;
    });
    if (!gone) throw errors.notFound('endpoint');
    return reply.status(204).send();
  });

  app.post(
    '/v1/tenants/:tenantId/endpoints/:endpointId/test',
    {
      schema: {
        tags,
        params: EndpointParams,
        body: Type.Optional(TestEvent),
        response: { 202: Type.Object({ eventId: Type.String(), deliveryId: Type.String(), eventType: Type.String() }) },
      },
    },
    async (req, reply) => {
      const { tenantId, endpointId } = req.params;
      const ep = await mustGet(tenantId, endpointId);
      if (ep.disabled) throw errors.conflict('endpoint is disabled; enable it to send a test event');
      const type = req.body?.eventType ?? 'herald.test';
      const payload = req.body?.payload ?? { type, test: true, message: 'Test event sent from Herald', timestamp: new Date().toISOString() };
      // a payload of the caller's own must match the type's schema; the built-in sample need not
      const { id } = await ctx.publisher.publish({ tenantId, type, payload, onlyEndpointId: endpointId, validate: req.body?.payload !== undefined });
      const [delivery] = await listDeliveriesOfEvent(ctx.db, tenantId, id);
      if (!delivery) throw errors.conflict('endpoint could not be reached for a test event');
      return reply.status(202).send({ eventId: id, deliveryId: delivery.id, eventType: type });
    },
  );

  app.post(
    '/v1/tenants/:tenantId/endpoints/:endpointId/recover',
    { schema: { tags, params: EndpointParams, body: Recover, response: { 202: Type.Object({ recovered: Type.Integer() }) } } },
    async (req, reply) => {
      const { tenantId, endpointId } = req.params;
      await mustGet(tenantId, endpointId);
      if (req.body.until && Date.parse(req.body.until) <= Date.parse(req.body.since)) throw errors.invalidField('until', 'must be after since');
      const recovered = await ctx.db.transaction(async (tx) => {
        const n = await retryFailedDeliveries(tx, tenantId, { endpointId, since: req.body.since, until: req.body.until });
        await recordAudit(tx, {
          tenantId, actor: actorOf(req), action: 'endpoint.recovered', targetType: 'endpoint', targetId: endpointId,
          details: { since: req.body.since, until: req.body.until ?? null, recovered: n },
        });
        return n;
      });
      return reply.status(202).send({ recovered });
    },
  );
};
