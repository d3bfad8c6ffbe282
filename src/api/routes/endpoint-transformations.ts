import { renderEnvelope } from '../../delivery/envelope.js';
import { prepare } from '../../delivery/worker.js';
import type { ClaimedDelivery } from '../../delivery/queue/types.js';
import { getEndpoint, type EndpointWithSecrets } from '../../store/endpoints.js';
import { getEventType } from '../../store/event-types.js';
import { errors } from '../../errors.js';
import { originalOf, signatureHeaderOf, transformRequest } from '../../transform/delivery-transform.js';
import { checkedTransformation } from '../transformation-check.js';
import { requestHeadersFor } from '../credential-access.js';
import { EndpointParams, TransformationTest, TransformationTestResult } from '../schemas.js';
import type { AppContext, RoutePlugin } from '../server.js';
import { VERSION } from '../../version.js';

/** The payload of a sample event: the type's schema example when it has one, else the test event's. */
function samplePayload(type: string, schema: Record<string, unknown> | null | undefined): unknown {
  const examples = schema?.examples;
  if (Array.isArray(examples) && examples.length > 0) return examples[0];
  return { type, test: true, message: 'Test event sent from Herald' };
}

/**
 * Trying an endpoint's transformation (or one about to be saved) on a
 * sample event: the request the worker would send, signed over the
 * transformed body, or the error an attempt would record. Nothing is sent.
 */
export const endpointTransformationRoutes = (ctx: AppContext): RoutePlugin => async (app) => {
  app.post(
    '/v1/tenants/:tenantId/endpoints/:endpointId/transformation/test',
    { schema: { tags: ['endpoints'], params: EndpointParams, body: TransformationTest, response: { 200: TransformationTestResult } } },
    async (req) => {
      const { tenantId } = req.params;
      const ep = await getEndpoint(ctx.db, tenantId, req.params.endpointId, ctx.secrets);
      if (!ep) throw errors.notFound('endpoint');
      const source = req.body.transformation !== undefined ? await checkedTransformation(ctx.transforms, req.body.transformation) : ep.transformation;
      const type = req.body.event?.type ?? 'herald.test';
      const payload = req.body.event?.payload ?? samplePayload(type, (await getEventType(ctx.db, type))?.schema);
      const d = sampleDelivery(ep, type, await bodyOf(ctx, tenantId, type, payload));
      let changed = null;
      if (source !== null) {
        const t = await transformRequest(ctx.transforms, `test:${ep.id}`, source, originalOf(d), signatureHeaderOf(d));
        if (!t.ok) return { request: null, error: { code: t.code, message: t.message } };
        changed = t.request;
      }
      const { headers } = prepare(d, `Herald/${VERSION}`, changed);
      return { request: { method: 'POST', url: changed?.url ?? d.url, headers: requestHeadersFor(req, headers), body: changed?.body ?? d.payload }, error: null };
    },
  );
};

/** The delivered body of a sample event: its envelope applied, as publishing would. */
async function bodyOf(ctx: AppContext, tenantId: string, type: string, payload: unknown): Promise<string> {
  const envelope = (await ctx.payloads.envelopeOf(type)) ?? (await ctx.publisher.settingsOf(tenantId)).envelope ?? null;
  const values = { payload, eventId: 'evt_sample', eventType: type, createdAt: new Date(), tenantId };
  return envelope ? renderEnvelope(envelope, values) : JSON.stringify(payload);
}

/** A delivery of the sample event to `ep`, as a worker would hold it. */
function sampleDelivery(ep: EndpointWithSecrets, type: string, body: string): ClaimedDelivery {
  return {
    id: 'dlv_sample', tenantId: ep.tenantId, eventId: 'evt_sample', eventType: type, endpointId: ep.id, attempts: 0, manual: false,
    payload: body, tenantEnvelope: null, wantsDelivered: false, wantsFailed: false, endpointDisabled: false, endpointUnhealthy: false,
    rateLimitPerSecond: null, leaseToken: '', url: ep.url, headers: ep.headers, signature: ep.signature, retry: ep.retry,
    timeoutMs: ep.timeoutMs, secret: ep.secret, oldSecrets: ep.oldSecrets, transformation: ep.transformation,
    // the request an HTTP send would make (a broker endpoint's message carries the same body and headers)
    destination: null, sendTraceContext: false,
  };
}
