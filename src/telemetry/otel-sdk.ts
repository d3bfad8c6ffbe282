import type { IncomingHttpHeaders } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { Db } from '../db/db.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { VERSION } from '../version.js';
import { AttemptSpans } from './attempt-spans.js';
import { PrometheusProducer } from './prometheus-producer.js';
import type { AttemptTracing, PublishSpan, PublishedEvents, Telemetry } from './telemetry.js';
import { fromCarrier, toCarrier } from './trace-carrier.js';

type Env = Record<string, string | undefined>;

/**
 * The OpenTelemetry SDK as Herald runs it: traces through a
 * BatchSpanProcessor, and the Prometheus registry of metrics.ts exported
 * over OTLP as it is (no second set of instruments on the hot path). Only
 * the standard environment variables configure it; the exporters read
 * their endpoint, headers and timeout themselves. Providers are Herald's
 * own, never registered globally, so two Herald instances in one process
 * (the tests) keep their telemetry apart.
 */
export class OtelTelemetry implements Telemetry {
  private readonly propagator = new W3CTraceContextPropagator();

  private constructor(
    private readonly tracer: Tracer,
    private readonly tracerProvider: TracerProvider,
    private readonly meterProvider: MeterProvider | null,
    private readonly logger: Logger,
  ) {}

  static async start(env: Env, metrics: Metrics, logger: Logger): Promise<OtelTelemetry> {
    const resource = defaultResource()
      .merge(resourceFromAttributes({ 'service.name': 'herald', 'service.version': VERSION }))
      .merge(detectResources({ detectors: [envDetector] }));
    const tracerProvider = new TracerProvider({
      resource,
      sampler: samplerFromEnv(env, logger),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: await spanExporter(env, logger),
          scheduledDelayMillis: numberFrom(env, 'OTEL_BSP_SCHEDULE_DELAY'),
          exportTimeoutMillis: numberFrom(env, 'OTEL_BSP_EXPORT_TIMEOUT'),
          maxQueueSize: numberFrom(env, 'OTEL_BSP_MAX_QUEUE_SIZE'),
          maxExportBatchSize: numberFrom(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
        }),
      ],
    });
    const meterProvider = wantsMetrics(env) ? await meterProviderFor(env, resource, metrics, logger) : null;
    logger.info({ protocol: protocolOf(env, 'TRACES'), metrics: meterProvider !== null }, 'OpenTelemetry export on');
    return new OtelTelemetry(tracerProvider.getTracer('herald', VERSION), tracerProvider, meterProvider, logger);
  }

  startPublish(headers: IncomingHttpHeaders, route: string, tenantId: string): PublishSpan {
    const parent = this.propagator.extract(ROOT_CONTEXT, headers, fromCarrier);
    const span = this.tracer.startSpan(
      'publish',
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': 'POST', 'http.route': route, 'herald.tenant.id': tenantId },
      },
      parent,
    );
    return new RequestSpan(span, this.contextOf(trace.setSpan(parent, span)));
  }

  /** The trace context of `ctx`'s span as stored in events.trace_context (JSON). */
  private contextOf(ctx: Context): string {
    const carrier: Record<string, string> = {};
    this.propagator.inject(ctx, carrier, toCarrier);
    return JSON.stringify(carrier);
  }

  attemptTracing(db: Db): AttemptTracing {
    return new AttemptSpans(db, this.tracer, this.propagator, this.logger);
  }

  async shutdown(): Promise<void> {
    const results = await Promise.allSettled([this.tracerProvider.shutdown(), this.meterProvider?.shutdown()]);
    for (const r of results) if (r.status === 'rejected') this.logger.warn({ err: String(r.reason) }, 'OpenTelemetry: last export failed');
  }
}

/** A publish request's span: attributes once the events are written, the HTTP status either way. */
class RequestSpan implements PublishSpan {
  constructor(
    private readonly span: Span,
    readonly traceContext: string,
  ) {}

  end(published: PublishedEvents): void {
    const { events } = published;
    this.span.setAttributes({
      'http.response.status_code': 202,
      'herald.deliveries.created': published.deliveries,
      'herald.event.count': events.length,
      // a batch: every id, and the distinct types (a single publish: its id and type)
      ...(events.length === 1
        ? { 'herald.event.id': events[0]!.id, 'herald.event.type': events[0]!.type }
        : { 'herald.event.ids': events.map((e) => e.id), 'herald.event.types': [...new Set(events.map((e) => e.type))] }),
    });
    this.span.end();
  }

  fail(err: unknown): void {
    const status = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
    const code = typeof status === 'number' ? status : 500;
    this.span.setAttribute('http.response.status_code', code);
    // OpenTelemetry's HTTP conventions: a server span is an error for 5xx, not for the client's 4xx
    if (code >= 500) {
      this.span.recordException(err instanceof Error ? err : String(err));
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    }
    this.span.setAttribute('error.type', (err as { code?: unknown }).code !== undefined ? String((err as { code?: unknown }).code) : String(code));
    this.span.end();
  }
}

/**
 * OTEL_EXPORTER_OTLP_PROTOCOL (or its _TRACES_/_METRICS_ form): http/protobuf
 * by default, as the specification says; http/json as asked. gRPC would need
 * @grpc/grpc-js and its native-free but large tree for one transport the
 * collector also offers over HTTP: asked for, it falls back to http/protobuf
 * with a warning (the collector's HTTP port is 4318, gRPC's 4317).
 */
function protocolOf(env: Env, signal: 'TRACES' | 'METRICS'): 'http/json' | 'http/protobuf' | 'grpc' {
  const p = (env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  return p === 'http/json' || p === 'grpc' ? p : 'http/protobuf';
}

function httpProtocol(env: Env, signal: 'TRACES' | 'METRICS', logger: Logger): 'http/json' | 'http/protobuf' {
  const p = protocolOf(env, signal);
  if (p !== 'grpc') return p;
  logger.warn({ signal }, 'OpenTelemetry: OTLP over gRPC is not built in; exporting over http/protobuf (point the endpoint at the collector\'s HTTP port, 4318)');
  return 'http/protobuf';
}

async function spanExporter(env: Env, logger: Logger): Promise<SpanExporter> {
  if (httpProtocol(env, 'TRACES', logger) === 'http/json') return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
}

async function metricExporter(env: Env, logger: Logger): Promise<PushMetricExporter> {
  if (httpProtocol(env, 'METRICS', logger) === 'http/json') return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter();
  return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter();
}

/** OTEL_METRICS_EXPORTER=none turns metrics off (traces only); a traces-only endpoint does too. */
function wantsMetrics(env: Env): boolean {
  if (env.OTEL_METRICS_EXPORTER?.trim() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
}

/** The registry of metrics.ts, read at each export (OTEL_METRIC_EXPORT_INTERVAL, default 60 s). */
async function meterProviderFor(env: Env, resource: Resource, metrics: Metrics, logger: Logger): Promise<MeterProvider> {
  const interval = numberFrom(env, 'OTEL_METRIC_EXPORT_INTERVAL') ?? 60_000;
  const reader = new PeriodicExportingMetricReader({
    exporter: await metricExporter(env, logger),
    exportIntervalMillis: interval,
    exportTimeoutMillis: Math.min(interval, numberFrom(env, 'OTEL_METRIC_EXPORT_TIMEOUT') ?? 30_000),
    metricProducers: [new PrometheusProducer(metrics.registry)],
  });
  return new MeterProvider({ resource, readers: [reader] });
}

/**
 * OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG as the specification
 * lists them (default parentbased_always_on). The SDK package reads no
 * environment itself; sdk-node would, with two dozen instrumentations Herald does not use.
 */
function samplerFromEnv(env: Env, logger: Logger): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase();
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  const ratio = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    default:
      logger.warn({ OTEL_TRACES_SAMPLER: name }, 'OpenTelemetry: unknown sampler; using parentbased_always_on');
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** A number from the environment (undefined when unset or not a number: the SDK's default then). */
function numberFrom(env: Env, key: string): number | undefined {
  const raw = env[key]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}
