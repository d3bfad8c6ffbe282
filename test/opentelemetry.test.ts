import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { ADMIN_TOKEN, SECRET_KEY, startHerald, type TestHerald } from './helpers/herald.js';
import { freePort, HeraldProcess } from './helpers/process.js';
import { Receiver } from './helpers/receiver.js';

/**
 * Issue 14, item 5: OpenTelemetry. A real OTLP/HTTP receiver (JSON
 * protocol) on loopback, Herald pointed at it through the standard
 * environment variables; then Herald again without them.
 */

const OTEL_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_BSP_SCHEDULE_DELAY', 'OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_SERVICE_NAME'];

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number; message?: string };
  attributes: { key: string; value: Record<string, unknown> }[];
}

let collector: Receiver;
let hooks: Receiver;

/** Every span the collector received, with the resource's service.name. */
function spans(): (OtlpSpan & { service: string })[] {
  return collector.at('/v1/traces').flatMap((r) => {
    const body = JSON.parse(r.body) as {
      resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
    };
    return body.resourceSpans.flatMap((rs) => {
      const service = String(attr({ attributes: rs.resource.attributes }, 'service.name'));
      return rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, service })));
    });
  });
}

/** An attribute's value as JSON-encoded OTLP gives it (ints come as strings). */
function attr(s: { attributes: OtlpSpan['attributes'] }, key: string): unknown {
  const v = s.attributes.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  if ('intValue' in v) return Number(v.intValue);
  if ('arrayValue' in v) return ((v.arrayValue as { values?: { stringValue: string }[] }).values ?? []).map((x) => x.stringValue);
  return Object.values(v)[0];
}

async function waitSpans(pred: (all: ReturnType<typeof spans>) => boolean, what: string): Promise<ReturnType<typeof spans>> {
  await collector.waitFor(() => pred(spans()), 10_000, what);
  return spans();
}

const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');

async function publish(h: TestHerald, path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.api.token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  collector = await new Receiver().listen();
  collector.respond = (_r, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  hooks = await new Receiver().listen();
});
afterAll(async () => {
  for (const k of OTEL_ENV) delete process.env[k];
  await collector?.close();
  await hooks?.close();
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  let herald: TestHerald;
  let T: string;
  let withContext: string;
  let without: string;
  let failing: string;

  beforeAll(async () => {
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      OTEL_SERVICE_NAME: 'herald-under-test',
    });
    // asked for a worker thread: while exporting, the worker stays on the API's thread, where the SDK is
    herald = await startHerald({ workerThread: true });
    T = await herald.api.tenant('Traced');
    withContext = (await herald.api.endpoint(T, { url: hooks.url('/with'), eventTypes: ['order.*'], sendTraceContext: true })).id;
    without = (await herald.api.endpoint(T, { url: hooks.url('/without'), eventTypes: ['order.*'] })).id;
    hooks.respond = (r, res) => void res.writeHead(r.path === '/failing' ? 500 : 200).end('ok');
    failing = (await herald.api.endpoint(T, { url: hooks.url('/failing'), eventTypes: ['refund.*'], sendTraceContext: true })).id;
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('keeps the worker on the thread of the OpenTelemetry SDK, even when a worker thread is configured', () => {
    expect(herald.running.worker).not.toBeNull();
    expect(herald.running.workerThread).toBeNull();
  });

  it('shows sendTraceContext on endpoints, false by default, and refuses a non-boolean naming the field', async () => {
    expect((await herald.api.get(`/v1/tenants/${T}/endpoints/${withContext}`)).body.sendTraceContext).toBe(true);
    expect((await herald.api.get(`/v1/tenants/${T}/endpoints/${without}`)).body.sendTraceContext).toBe(false);
    const bad = await herald.api.patch(`/v1/tenants/${T}/endpoints/${without}`, { sendTraceContext: 'yes' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('sendTraceContext');
    expect((await herald.api.get(`/v1/tenants/${T}/endpoints/${without}`)).body.sendTraceContext).toBe(false);
  });

  it('continues the caller\'s trace from publish to every attempt, and sends traceparent only where asked', async () => {
    const traceId = hex(32);
    const parent = hex(16);
    const pub = await publish(herald, `/v1/tenants/${T}/events`, { type: 'order.paid', payload: { n: 1 } }, {
      traceparent: `00-${traceId}-${parent}-01`,
      tracestate: 'acme=1',
    });
    expect(pub.status).toBe(202);
    const eventId = pub.body.id as string;
    await hooks.waitForCount('/with', 1);
    await hooks.waitForCount('/without', 1);

    const all = await waitSpans((s) => s.filter((x) => x.traceId === traceId).length >= 3, 'publish span and two attempt spans');
    const mine = all.filter((s) => s.traceId === traceId);
    const pubSpan = mine.find((s) => s.name === 'publish')!;
    expect(pubSpan).toBeDefined();
    expect(pubSpan.parentSpanId).toBe(parent);
    expect(pubSpan.kind).toBe(2); // SERVER
    expect(pubSpan.service).toBe('herald-under-test');
    expect(attr(pubSpan, 'herald.tenant.id')).toBe(T);
    expect(attr(pubSpan, 'herald.event.id')).toBe(eventId);
    expect(attr(pubSpan, 'herald.event.type')).toBe('order.paid');
    expect(attr(pubSpan, 'herald.deliveries.created')).toBe(2);
    expect(attr(pubSpan, 'http.response.status_code')).toBe(202);

    const sends = mine.filter((s) => s.name === 'webhook send');
    expect(sends).toHaveLength(2);
    for (const s of sends) {
      expect(s.parentSpanId).toBe(pubSpan.spanId);
      expect(s.kind).toBe(3); // CLIENT
      expect(attr(s, 'herald.attempt')).toBe(1);
      expect(attr(s, 'http.response.status_code')).toBe(200);
      expect(typeof attr(s, 'herald.delivery.id')).toBe('string');
      expect(attr(s, 'herald.attempt.duration_ms')).toBeGreaterThanOrEqual(0);
      expect(s.status?.code ?? 0).toBe(0);
    }
    const sendWith = sends.find((s) => attr(s, 'herald.endpoint.id') === withContext)!;
    expect(sends.map((s) => attr(s, 'herald.endpoint.id')).sort()).toEqual([withContext, without].sort());

    // the receiver that asked for it gets the attempt span's context; the other gets none
    const got = hooks.at('/with')[0]!.headers;
    expect(got.traceparent).toBe(`00-${traceId}-${sendWith.spanId}-01`);
    expect(got.tracestate).toBe('acme=1');
    expect(hooks.at('/without')[0]!.headers.traceparent).toBeUndefined();
    expect(hooks.at('/without')[0]!.headers.tracestate).toBeUndefined();

    // stored with the event: the publish span's context, for attempts in any process later
    const stored = await herald.running.db.query<{ trace_context: Record<string, string> }>(
      `select trace_context from events where tenant_id = $1 and id = $2`,
      [T, eventId],
    );
    expect(stored.rows[0]!.trace_context).toEqual({ traceparent: `00-${traceId}-${pubSpan.spanId}-01`, tracestate: 'acme=1' });
  });

  it('marks a failed attempt as an error, and a later retry joins the same trace', async () => {
    const traceId = hex(32);
    const pub = await publish(herald, `/v1/tenants/${T}/events`, { type: 'refund.issued', payload: { n: 2 } }, { traceparent: `00-${traceId}-${hex(16)}-01` });
    expect(pub.status).toBe(202);
    const ds = await herald.api.get(`/v1/tenants/${T}/events/${pub.body.id}/deliveries`);
    const d = ds.body.data[0];
    await herald.api.waitDelivery(T, d.id, (x) => x.attempts >= 1);
    // a manual retry goes through the queue and a claim: the context is read back from the event
    expect((await herald.api.post(`/v1/tenants/${T}/deliveries/${d.id}/retry`)).status).toBe(202);
    await hooks.waitForCount('/failing', 2);
    const all = await waitSpans((s) => s.filter((x) => x.traceId === traceId && x.name === 'webhook send').length >= 2, 'two attempt spans');
    const sends = all.filter((s) => s.traceId === traceId && s.name === 'webhook send');
    const pubSpan = all.find((s) => s.traceId === traceId && s.name === 'publish')!;
    expect(sends.map((s) => attr(s, 'herald.attempt')).sort()).toEqual([1, 2]);
    for (const s of sends) {
      expect(s.parentSpanId).toBe(pubSpan.spanId);
      expect(attr(s, 'herald.endpoint.id')).toBe(failing);
      expect(attr(s, 'herald.delivery.id')).toBe(d.id);
      expect(attr(s, 'http.response.status_code')).toBe(500);
      expect(attr(s, 'error.type')).toBe('500');
      expect(s.status?.code).toBe(2); // ERROR
    }
    const headers = hooks.at('/failing').map((r) => r.headers.traceparent);
    expect(headers).toHaveLength(2);
    for (const [i, h] of headers.entries()) expect(h, `attempt ${i + 1}`).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(new Set(headers).size).toBe(2); // one span per attempt
  });

  it('traces a batch publish as one span over all its events', async () => {
    const traceId = hex(32);
    const before = hooks.at('/with').length;
    const pub = await publish(
      herald,
      `/v1/tenants/${T}/events/batch`,
      { events: [{ type: 'order.paid', payload: { n: 3 } }, { type: 'order.shipped', payload: { n: 4 } }] },
      { traceparent: `00-${traceId}-${hex(16)}-01` },
    );
    expect(pub.status).toBe(202);
    await hooks.waitForCount('/with', before + 2);
    const all = await waitSpans((s) => s.filter((x) => x.traceId === traceId).length >= 5, 'batch publish span and four attempt spans');
    const pubSpan = all.find((s) => s.traceId === traceId && s.name === 'publish')!;
    expect(attr(pubSpan, 'herald.event.count')).toBe(2);
    expect(attr(pubSpan, 'herald.event.ids')).toEqual(pub.body.data.map((e: { id: string }) => e.id));
    expect(attr(pubSpan, 'herald.deliveries.created')).toBe(4);
    expect(attr(pubSpan, 'http.route')).toBe('/v1/tenants/:tenantId/events/batch');
    const sends = all.filter((s) => s.traceId === traceId && s.name === 'webhook send');
    expect(sends).toHaveLength(4);
    for (const s of sends) expect(s.parentSpanId).toBe(pubSpan.spanId);
  });

  it('starts a trace of its own for a publish without traceparent, and ends a refused publish\'s span', async () => {
    const pub = await publish(herald, `/v1/tenants/${T}/events`, { type: 'order.paid', payload: { n: 5 } }, {});
    expect(pub.status).toBe(202);
    const all = await waitSpans((s) => s.some((x) => x.name === 'publish' && attr(x, 'herald.event.id') === pub.body.id), 'root publish span');
    const root = all.find((x) => x.name === 'publish' && attr(x, 'herald.event.id') === pub.body.id)!;
    expect(root.parentSpanId ?? '').toBe('');
    await waitSpans((s) => s.filter((x) => x.traceId === root.traceId && x.name === 'webhook send').length === 2, 'its attempts in its trace');

    // a malformed traceparent is ignored, as W3C Trace Context says: a trace of its own, never a 400
    const odd = await publish(herald, `/v1/tenants/${T}/events`, { type: 'order.paid', payload: { n: 6 } }, { traceparent: '00-not-a-trace-01', tracestate: 'x' });
    expect(odd.status).toBe(202);
    const oddSpans = await waitSpans((s) => s.some((x) => x.name === 'publish' && attr(x, 'herald.event.id') === odd.body.id), 'publish span of the malformed traceparent');
    const oddSpan = oddSpans.find((x) => x.name === 'publish' && attr(x, 'herald.event.id') === odd.body.id)!;
    expect(oddSpan.parentSpanId ?? '').toBe('');
    expect(oddSpan.traceId).toMatch(/^[0-9a-f]{32}$/);

    const traceId = hex(32);
    const refused = await publish(herald, `/v1/tenants/ten_missing/events`, { type: 'order.paid', payload: {} }, { traceparent: `00-${traceId}-${hex(16)}-01` });
    expect(refused.status).toBe(404);
    const spansOf = await waitSpans((s) => s.some((x) => x.traceId === traceId), 'the refused publish span');
    const s = spansOf.find((x) => x.traceId === traceId)!;
    expect(attr(s, 'http.response.status_code')).toBe(404);
    expect(s.status?.code ?? 0).toBe(0); // a client's 4xx is no server error
  });

  it('exports the delivery metrics over OTLP', async () => {
    const metricNames = () =>
      collector.at('/v1/metrics').flatMap((r) => {
        const body = JSON.parse(r.body) as { resourceMetrics: { scopeMetrics: { metrics: Record<string, any>[] }[] }[] };
        return body.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
      });
    await collector.waitFor(
      () => metricNames().some((m) => m.name === 'herald_delivery_attempts' && m.sum.dataPoints.some((p: any) => p.attributes.some((a: any) => a.value.stringValue === 'success'))),
      10_000,
      'herald_delivery_attempts over OTLP',
    );
    const ms = metricNames();
    const attempts = ms.filter((m) => m.name === 'herald_delivery_attempts').at(-1)!;
    expect(attempts.sum.isMonotonic).toBe(true);
    const success = attempts.sum.dataPoints.find((p: any) => p.attributes.some((a: any) => a.key === 'outcome' && a.value.stringValue === 'success'));
    expect(success.asDouble).toBeGreaterThanOrEqual(1);
    const duration = ms.filter((m) => m.name === 'herald_delivery_attempt_duration_seconds').at(-1)!;
    expect(duration.unit).toBe('s');
    const point = duration.histogram.dataPoints[0];
    expect(Number(point.count)).toBeGreaterThanOrEqual(1);
    expect(point.explicitBounds).toContain(0.005);
    expect(point.bucketCounts.map(Number).reduce((a: number, b: number) => a + b, 0)).toBe(Number(point.count));
    expect(ms.some((m) => m.name === 'herald_events_published')).toBe(true);
  });
});

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let herald: TestHerald;

  beforeAll(async () => {
    for (const k of OTEL_ENV) delete process.env[k];
    herald = await startHerald();
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it('exports nothing, stores no trace context, and sends no traceparent even where the endpoint asks', async () => {
    const before = collector.received.length;
    const T = await herald.api.tenant('Untraced');
    await herald.api.endpoint(T, { url: hooks.url('/off'), sendTraceContext: true });
    const pub = await publish(herald, `/v1/tenants/${T}/events`, { type: 'order.paid', payload: { n: 6 } }, { traceparent: `00-${hex(32)}-${hex(16)}-01` });
    expect(pub.status).toBe(202);
    const batch = await publish(herald, `/v1/tenants/${T}/events/batch`, { events: [{ type: 'order.paid', payload: { n: 7 } }] }, { traceparent: `00-${hex(32)}-${hex(16)}-01` });
    expect(batch.status).toBe(202);
    await hooks.waitForCount('/off', 2);
    for (const r of hooks.at('/off')) {
      expect(r.headers.traceparent).toBeUndefined();
      expect(r.headers.tracestate).toBeUndefined();
    }
    const stored = await herald.running.db.query<{ n: number }>(`select count(*)::int as n from events where trace_context is not null`);
    expect(stored.rows[0]!.n).toBe(0);
    await new Promise((r) => setTimeout(r, 700)); // past the export intervals the other instance used
    expect(collector.received.length).toBe(before);
  });
});

describe('what a herald process loads', () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of databases) await db.drop();
  });

  /** The modules a `herald serve` (the compiled build) resolves, recorded by a module hook, with and without the variable. */
  async function modulesLoaded(env: Record<string, string>): Promise<string[]> {
    const dir = await mkdtemp(join(tmpdir(), 'herald-otel-'));
    try {
      const log = join(dir, 'resolved.log');
      await writeFile(
        join(dir, 'hooks.mjs'),
        `import { appendFileSync } from 'node:fs';
         export async function resolve(specifier, context, next) {
           const r = await next(specifier, context);
           appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
           return r;
         }`,
      );
      await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module'; register('./hooks.mjs', import.meta.url);`);
      // a migrated database (PGlite: a copy of the suite's template), so the process starts in seconds on a loaded machine
      const db = await createTestDatabase();
      databases.push(db);
      const p = await HeraldProcess.start('serve', {
        ...env,
        PORT: String(await freePort()),
        ...(db.url ? { DATABASE_URL: db.url } : { HERALD_DATA_DIR: db.dataDir! }),
        HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
        HERALD_SECRET_KEYS: SECRET_KEY,
        NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'register.mjs')).href}`,
      }, 60_000);
      p.kill('SIGTERM');
      expect(await p.wait()).toBe(0);
      return (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('loads no OpenTelemetry module unless OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const off = await modulesLoaded({});
    expect(off.some((u) => u.includes('/dist/runtime.js'))).toBe(true); // the hook saw Herald's own modules
    expect(off.filter((u) => u.includes('@opentelemetry') || u.includes('/dist/telemetry/otel-sdk.js'))).toEqual([]);
    const before = collector.at('/v1/metrics').length;
    // the specification's default protocol this time: http/protobuf
    const on = await modulesLoaded({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}` });
    expect(on.some((u) => u.includes('/@opentelemetry/sdk-trace/'))).toBe(true);
    expect(on.some((u) => u.includes('/dist/telemetry/otel-sdk.js'))).toBe(true);
    expect(on.some((u) => u.includes('/@opentelemetry/exporter-metrics-otlp-proto/'))).toBe(true);
    // stopping exported a last round of metrics, as protobuf
    const last = collector.at('/v1/metrics').slice(before);
    expect(last.length).toBeGreaterThanOrEqual(1);
    expect(last[0]!.headers['content-type']).toBe('application/x-protobuf');
  }, 180_000);
});
