import type { IncomingHttpHeaders } from 'node:http';
import type { Db } from '../db/db.js';
import type { AttemptResult, ClaimedDelivery } from '../delivery/queue/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';

/*
 * OpenTelemetry, off unless OTEL_EXPORTER_OTLP_ENDPOINT (or its traces or
 * metrics variant) is set. Off, nothing of the SDK is loaded: the API holds
 * `telemetry: null`, the worker `tracing: null`, and each hook is that one
 * null check. On, otel-sdk.ts is imported once at start.
 */

/** What a publish span learns once the events are written. */
export interface PublishedEvents {
  /** The events' ids and types, in request order. */
  events: { id: string; type: string }[];
  /** Deliveries the request created (replayed events create none). */
  deliveries: number;
}

/** The span of one publish request (single or batch). */
export interface PublishSpan {
  /**
   * The span's W3C trace context as stored with its events (events.trace_context),
   * so attempts can continue the trace later, in any process.
   */
  readonly traceContext: string;
  /** Ends the span: 202, with what was published. */
  end(published: PublishedEvents): void;
  /** Ends the span as failed (the error's HTTP status when it has one). */
  fail(err: unknown): void;
}

/** The worker's hook: one `webhook send` span around each attempt. */
export interface AttemptTracing {
  /**
   * Runs `send` for `d` inside its span, a child of the publish span stored
   * with the event; when the endpoint asks for it, `d` is given to `send`
   * with `traceparent`/`tracestate` among its headers.
   */
  traceAttempt(d: ClaimedDelivery, send: (d: ClaimedDelivery) => Promise<AttemptResult>): Promise<AttemptResult>;
}

export interface Telemetry {
  /** Starts the server span of a publish request, continuing the caller's `traceparent` when it sent one. */
  startPublish(headers: IncomingHttpHeaders, route: string, tenantId: string): PublishSpan;
  /** The attempt hook for a worker reading stored trace contexts through `db`. */
  attemptTracing(db: Db): AttemptTracing;
  /** Exports what is buffered (spans, a last round of metrics) and stops. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** Whether the environment asks for OTLP export (the standard variables; OTEL_SDK_DISABLED=true wins). */
export function telemetryWanted(env: Env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
}

/** Starts the SDK when the environment asks for it (null otherwise, and nothing is imported). */
export async function startTelemetry(env: Env, metrics: Metrics, logger: Logger): Promise<Telemetry | null> {
  if (!telemetryWanted(env)) return null;
  const { OtelTelemetry } = await import('./otel-sdk.js');
  return OtelTelemetry.start(env, metrics, logger);
}

/**
 * Runs a publish handler inside its span when telemetry is on: the span's
 * trace context goes to `run`, to be stored with the events.
 */
export async function tracePublish<T>(
  telemetry: Telemetry | null,
  span: { headers: IncomingHttpHeaders; route: string; tenantId: string },
  run: (traceContext: string | null) => Promise<{ reply: T; published: PublishedEvents }>,
): Promise<T> {
  if (telemetry === null) return (await run(null)).reply;
  const s = telemetry.startPublish(span.headers, span.route, span.tenantId);
  try {
    const out = await run(s.traceContext);
    s.end(out.published);
    return out.reply;
  } catch (err) {
    s.fail(err);
    throw err;
  }
}
