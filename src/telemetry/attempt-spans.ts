import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Db } from '../db/db.js';
import type { AttemptResult, ClaimedDelivery } from '../delivery/queue/types.js';
import type { Logger } from '../logger.js';
import type { AttemptTracing } from './telemetry.js';
import { fromCarrier, toCarrier } from './trace-carrier.js';
import { TraceContexts } from './trace-contexts.js';

/**
 * A `webhook send` client span per attempt, a child of the publish span
 * whose context was stored with the event.
 *
 * Child rather than link: an attempt exists only because of that publish,
 * and the point is one trace from the publish request to every attempt,
 * retries hours later included, which a trace backend shows as one tree
 * (a link would put each attempt in a trace of its own, found only by
 * following the link). The publish span has ended by then; OpenTelemetry
 * allows children of ended spans, and the long tail is what a retry is.
 */
export class AttemptSpans implements AttemptTracing {
  private readonly contexts: TraceContexts;

  constructor(
    db: Db,
    private readonly tracer: Tracer,
    private readonly propagator: W3CTraceContextPropagator,
    logger: Logger,
  ) {
    this.contexts = new TraceContexts(db, logger);
  }

  async traceAttempt(d: ClaimedDelivery, send: (d: ClaimedDelivery) => Promise<AttemptResult>): Promise<AttemptResult> {
    if (d.endpointDisabled) return send(d); // no request is made: no span
    const stored = await this.contexts.get(d.tenantId, d.eventId);
    const parent = stored ? this.propagator.extract(ROOT_CONTEXT, stored, fromCarrier) : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      'webhook send',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': 'POST',
          'server.address': hostOf(d.url),
          'herald.tenant.id': d.tenantId,
          'herald.event.id': d.eventId,
          'herald.event.type': d.eventType,
          'herald.endpoint.id': d.endpointId,
          'herald.delivery.id': d.id,
          'herald.attempt': d.attempts + 1,
        },
      },
      parent,
    );
    let sent = d;
    if (d.sendTraceContext) {
      const headers: Record<string, string> = {};
      this.propagator.inject(trace.setSpan(parent, span), headers, toCarrier);
      sent = { ...d, headers: { ...d.headers, ...headers } };
    }
    try {
      const r = await send(sent);
      if (r.responseStatus !== null) span.setAttribute('http.response.status_code', r.responseStatus);
      span.setAttribute('herald.attempt.duration_ms', r.durationMs);
      const failed = r.errorCode !== null || r.responseStatus === null || r.responseStatus < 200 || r.responseStatus > 299;
      if (failed) {
        span.setAttribute('error.type', r.errorCode ?? String(r.responseStatus));
        span.setStatus({ code: SpanStatusCode.ERROR, message: r.errorMessage ?? `HTTP ${r.responseStatus}` });
      }
      span.setAttribute('herald.delivery.status', r.status);
      return r;
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  }
}

/** The endpoint's host, not its URL: a query string may carry a credential. */
function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}
