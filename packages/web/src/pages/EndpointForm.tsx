import { useEffect, useState, type FormEvent } from 'react';
import { tenantPath, type Endpoint, type EventType, type Retry, type Signature } from '../api';
import { PageNotReady } from '../components/StateView';
import { Card, ErrorBox, Field, PageHead } from '../components/ui';
import { useAction, useApi } from '../hooks';
import { Link, navigate, path } from '../router';
import { useSession } from '../session';
import { viewState } from '../state';
import { patternsOf } from '../type-patterns';
import { FilterCard, filterText, parseFilterText } from './FilterCard';
import { TransformationCard } from './TransformationCard';

type RetryMode = 'default' | 'schedule' | 'exponential';
/** Where the endpoint delivers: an HTTP URL, or a broker (the API's `destination`). */
type Kind = 'http' | 'rabbitmq' | 'nats';
interface HeaderRow {
  key: number;
  name: string;
  value: string;
}

interface FormState {
  kind: Kind;
  url: string;
  /** The broker URL; when editing, as the API shows it (password masked), which keeps the stored one. */
  brokerUrl: string;
  exchange: string;
  routingKey: string;
  subject: string;
  description: string;
  allEvents: boolean;
  types: string[];
  scheme: Signature['scheme'];
  sigHeader: string;
  encoding: 'hex' | 'base64';
  retryMode: RetryMode;
  schedule: string;
  initialSeconds: string;
  maxSeconds: string;
  maxRetries: string;
  factor: string;
  /** Random spread of each retry delay, 0 to 1 (0.1 = ±10 %); empty = none. */
  jitter: string;
  timeoutMs: string;
  headers: HeaderRow[];
  ordered: boolean;
  sendTraceContext: boolean;
  /** Deliveries per second at most; empty = no limit. */
  rateLimit: string;
  /** A secret of the caller's own (new endpoints only; a later change is a rotation). Empty = generated. */
  secret: string;
  /** The payload filter as JSON text; empty for none. */
  filter: string;
  /** The transformation's JavaScript source; empty for none. */
  transformation: string;
}

const EMPTY: FormState = {
  kind: 'http',
  url: '',
  brokerUrl: '',
  exchange: '',
  routingKey: '',
  subject: '',
  description: '',
  allEvents: true,
  types: [],
  scheme: 'standard',
  sigHeader: 'X-Signature',
  encoding: 'hex',
  retryMode: 'default',
  schedule: '5, 300, 1800, 7200, 18000, 36000, 36000',
  initialSeconds: '5',
  maxSeconds: '3600',
  maxRetries: '8',
  factor: '2',
  jitter: '0.1',
  timeoutMs: '',
  headers: [],
  ordered: false,
  sendTraceContext: false,
  rateLimit: '',
  secret: '',
  filter: '',
  transformation: '',
};

let rowKey = 1;

function fromEndpoint(e: Endpoint): FormState {
  const r = e.retry;
  return {
    ...EMPTY,
    kind: e.destination?.type ?? 'http',
    url: e.destination ? '' : e.url,
    brokerUrl: e.destination?.url ?? '',
    exchange: e.destination?.type === 'rabbitmq' ? e.destination.exchange : '',
    routingKey: e.destination?.type === 'rabbitmq' ? e.destination.routingKey : '',
    subject: e.destination?.type === 'nats' ? e.destination.subject : '',
    description: e.description,
    allEvents: e.eventTypes === null,
    types: e.eventTypes ?? [],
    scheme: e.signature.scheme,
    sigHeader: e.signature.scheme === 'hmac-sha256' ? e.signature.header : EMPTY.sigHeader,
    encoding: e.signature.scheme === 'hmac-sha256' ? (e.signature.encoding ?? 'hex') : 'hex',
    retryMode: 'schedule' in r ? 'schedule' : 'exponential',
    schedule: 'schedule' in r ? r.schedule.join(', ') : EMPTY.schedule,
    initialSeconds: 'backoff' in r ? String(r.initialSeconds) : EMPTY.initialSeconds,
    maxSeconds: 'backoff' in r ? String(r.maxSeconds) : EMPTY.maxSeconds,
    maxRetries: 'backoff' in r ? String(r.maxRetries) : EMPTY.maxRetries,
    factor: 'backoff' in r ? (r.factor === undefined ? '' : String(r.factor)) : EMPTY.factor,
    jitter: r.jitter === undefined ? '' : String(r.jitter),
    timeoutMs: String(e.timeoutMs),
    headers: Object.entries(e.headers).map(([name, value]) => ({ key: rowKey++, name, value })),
    ordered: e.ordered,
    sendTraceContext: e.sendTraceContext,
    rateLimit: e.rateLimitPerSecond === null ? '' : String(e.rateLimitPerSecond),
    filter: filterText(e.filter),
    transformation: e.transformation ?? '',
  };
}

/** The request body; problems the browser can see are reported before sending. */
function toBody(f: FormState, editing: boolean): { body?: Record<string, unknown>; problem?: string } {
  const body: Record<string, unknown> = { description: f.description };
  const brokerUrl = f.brokerUrl.trim();
  if (f.kind === 'http') body.url = f.url.trim();
  else if (f.kind === 'rabbitmq') body.destination = { type: 'rabbitmq', url: brokerUrl, exchange: f.exchange.trim(), routingKey: f.routingKey.trim() };
  else body.destination = { type: 'nats', url: brokerUrl, subject: f.subject.trim() };
  body.eventTypes = f.allEvents ? null : f.types;
  if (!f.allEvents && !f.types.length) return { problem: 'Choose at least one event type, or "All event types".' };
  body.signature = f.scheme === 'hmac-sha256' ? { scheme: 'hmac-sha256', header: f.sigHeader.trim(), encoding: f.encoding } : { scheme: f.scheme };
  // Optional parts are sent only when set, so saving an untouched form changes nothing (the audit log would say so).
  const jitter = f.jitter.trim() ? { jitter: Number(f.jitter) } : {};
  if (f.jitter.trim() && !(Number(f.jitter) >= 0 && Number(f.jitter) <= 1)) return { problem: 'Jitter: a fraction from 0 to 1 (0.1 spreads each delay by ±10 %), or empty.' };
  if (f.retryMode === 'schedule') {
    const parts = f.schedule.split(/[\s,]+/).filter(Boolean).map(Number);
    if (parts.some((n) => !Number.isFinite(n) || n < 0)) return { problem: 'Retry schedule: seconds separated by commas, e.g. 5, 60, 600.' };
    body.retry = { schedule: parts, ...jitter } satisfies Retry;
  } else if (f.retryMode === 'exponential') {
    body.retry = {
      backoff: 'exponential',
      initialSeconds: Number(f.initialSeconds),
      maxSeconds: Number(f.maxSeconds),
      maxRetries: Number(f.maxRetries),
      ...(f.factor.trim() ? { factor: Number(f.factor) } : {}),
      ...jitter,
    } satisfies Retry;
  }
  if (f.timeoutMs.trim()) body.timeoutMs = Number(f.timeoutMs);
  const headers: Record<string, string> = {};
  for (const h of f.headers) if (h.name.trim()) headers[h.name.trim()] = h.value;
  body.headers = headers;
  body.ordered = f.ordered;
  body.sendTraceContext = f.sendTraceContext;
  const rate = f.rateLimit.trim();
  if (rate && !(Number(rate) > 0)) return { problem: 'Rate limit: a number of deliveries per second above 0, or empty for no limit.' };
  body.rateLimitPerSecond = rate ? Number(rate) : null;
  if (!editing && f.secret.trim()) body.secret = f.secret.trim();
  const filter = parseFilterText(f.filter);
  if (filter.problem) return { problem: filter.problem };
  body.filter = filter.filter;
  body.transformation = f.transformation.trim() ? f.transformation : null;
  return { body };
}

export function EndpointFormPage({ tenantId, endpointId }: { tenantId: string; endpointId?: string }) {
  const { client } = useSession();
  const editing = endpointId !== undefined;
  const existing = useApi<Endpoint>(editing ? tenantPath(tenantId, `/endpoints/${encodeURIComponent(endpointId)}`) : null);
  const catalogue = useApi<{ data: EventType[] }>('/v1/event-types');
  const [f, setF] = useState<FormState>(EMPTY);
  const [loaded, setLoaded] = useState(!editing);
  const [problem, setProblem] = useState<string>();
  const [custom, setCustom] = useState('');

  useEffect(() => {
    if (existing.data && !loaded) {
      setF(fromEndpoint(existing.data));
      setLoaded(true);
    }
  }, [existing.data, loaded]);

  const save = useAction(async (body: Record<string, unknown>) =>
    editing
      ? client.patch<Endpoint>(tenantPath(tenantId, `/endpoints/${encodeURIComponent(endpointId)}`), body)
      : client.post<Endpoint & { secret: string }>(tenantPath(tenantId, '/endpoints'), body),
  );

  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setF((s) => ({ ...s, [k]: v }));
  const toggleType = (t: string) => set('types', f.types.includes(t) ? f.types.filter((x) => x !== t) : [...f.types, t]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { body, problem: p } = toBody(f, editing);
    setProblem(p);
    if (!body) return;
    const saved = await save.run(body);
    if (saved) navigate(path('t', tenantId, 'endpoints', saved.id));
  };

  if (editing && !loaded) {
    const state = viewState(existing);
    // loaded but not yet in the form: one render away, still "loading"
    return <PageNotReady state={state.kind === 'data' ? { kind: 'loading' } : state} title="Endpoint not available" back={<Link to={path('t', tenantId, 'endpoints')}>All endpoints</Link>} onRetry={existing.reload} />;
  }

  const names = (catalogue.data?.data ?? []).map((t) => t.name);
  const patterns = ['*', ...patternsOf(names)];
  const extra = f.types.filter((t) => !names.includes(t) && !patterns.includes(t));

  return (
    <>
      <PageHead
        title={editing ? 'Edit endpoint' : 'Add endpoint'}
        sub={editing ? <span className="mono">{endpointId}</span> : 'Herald sends each matching event here (an HTTP POST, or a message to your RabbitMQ or NATS), signed, and retries on failure.'}
      />
      <form onSubmit={(e) => void submit(e)} className="form">
        <Card title="Destination">
          <Field label="Delivers to" htmlFor="ep-kind">
            <select id="ep-kind" value={f.kind} onChange={(e) => set('kind', e.target.value as Kind)}>
              <option value="http">HTTP: POST to a URL</option>
              <option value="rabbitmq">RabbitMQ: publish to an exchange</option>
              <option value="nats">NATS JetStream: publish to a subject</option>
            </select>
          </Field>
          {f.kind === 'http' ? (
            <Field label="URL" htmlFor="ep-url" hint="HTTPS on a public address in production (http:// and private addresses only in dev mode).">
              <input id="ep-url" type="url" required value={f.url} onChange={(e) => set('url', e.target.value)} placeholder="https://example.com/webhooks" />
            </Field>
          ) : (
            <>
              <Field
                label="Broker URL"
                htmlFor="ep-broker-url"
                hint={`Stored encrypted; shown with the password masked (leave *** as it is to keep it). ${f.kind === 'rabbitmq' ? 'amqps://' : 'tls://'} in production (${f.kind === 'rabbitmq' ? 'amqp://' : 'nats://'} only in dev mode).`}
              >
                <input
                  id="ep-broker-url"
                  className="mono"
                  required
                  autoComplete="off"
                  value={f.brokerUrl}
                  onChange={(e) => set('brokerUrl', e.target.value)}
                  placeholder={f.kind === 'rabbitmq' ? 'amqps://user:password@rabbit.example.com:5671/vhost' : 'tls://user:password@nats.example.com:4222'}
                />
              </Field>
              {f.kind === 'rabbitmq' ? (
                <div className="grid-2">
                  <Field label="Exchange" htmlFor="ep-exchange" hint="Empty: the default exchange, which routes by queue name.">
                    <input id="ep-exchange" className="mono" value={f.exchange} onChange={(e) => set('exchange', e.target.value)} placeholder="webhooks" />
                  </Field>
                  <Field label="Routing key" htmlFor="ep-routing-key">
                    <input id="ep-routing-key" className="mono" value={f.routingKey} onChange={(e) => set('routingKey', e.target.value)} placeholder="billing" />
                  </Field>
                </div>
              ) : (
                <Field label="Subject" htmlFor="ep-subject" hint="A JetStream stream must capture it; the stream's acknowledgement is what counts as delivered.">
                  <input id="ep-subject" className="mono" required value={f.subject} onChange={(e) => set('subject', e.target.value)} placeholder="webhooks.billing" />
                </Field>
              )}
            </>
          )}
          <Field label="Description" htmlFor="ep-desc">
            <input id="ep-desc" value={f.description} onChange={(e) => set('description', e.target.value)} maxLength={2000} placeholder="What this endpoint is for" />
          </Field>
        </Card>

        <Card title="Events">
          <label className="check">
            <input type="checkbox" checked={f.allEvents} onChange={(e) => set('allEvents', e.target.checked)} /> All event types
          </label>
          {!f.allEvents ? (
            <div className="type-picker">
              {names.length ? (
                <fieldset>
                  <legend>From the catalogue</legend>
                  {names.map((t) => (
                    <label key={t} className="check">
                      <input type="checkbox" checked={f.types.includes(t)} onChange={() => toggleType(t)} /> <span className="mono">{t}</span>
                    </label>
                  ))}
                </fieldset>
              ) : (
                <div className="muted small">The catalogue has no event types yet; add names or patterns below.</div>
              )}
              <fieldset>
                <legend>Wildcards</legend>
                {patterns.map((t) => (
                  <label key={t} className="check">
                    <input type="checkbox" checked={f.types.includes(t)} onChange={() => toggleType(t)} /> <span className="mono">{t}</span>
                  </label>
                ))}
                {extra.map((t) => (
                  <label key={t} className="check">
                    <input type="checkbox" checked onChange={() => toggleType(t)} /> <span className="mono">{t}</span>
                  </label>
                ))}
              </fieldset>
              <div className="inline-form">
                <label className="sr-only" htmlFor="ep-pattern">
                  Event type or pattern
                </label>
                <input id="ep-pattern" className="mono" value={custom} onChange={(e) => setCustom(e.target.value)} placeholder="order.created or order.*" />
                <button
                  type="button"
                  className="btn"
                  disabled={!custom.trim()}
                  onClick={() => {
                    const t = custom.trim();
                    if (t && !f.types.includes(t)) set('types', [...f.types, t]);
                    setCustom('');
                  }}
                >
                  Add
                </button>
              </div>
            </div>
          ) : null}
        </Card>

        <FilterCard tenantId={tenantId} endpointId={endpointId} value={f.filter} onChange={(v) => set('filter', v)} />

        <TransformationCard tenantId={tenantId} endpointId={endpointId} value={f.transformation} onChange={(v) => set('transformation', v)} />

        <Card title="Signature">
          <div className="grid-2">
            <Field label="Scheme" htmlFor="ep-scheme">
              <select id="ep-scheme" value={f.scheme} onChange={(e) => set('scheme', e.target.value as Signature['scheme'])}>
                <option value="standard">Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)</option>
                <option value="ed25519">Standard Webhooks, ed25519 (v1a: receivers verify with a public key)</option>
                <option value="hmac-sha256">HMAC-SHA256 of the body in a header of your choice</option>
              </select>
            </Field>
            {f.scheme === 'hmac-sha256' ? (
              <>
                <Field label="Signature header" htmlFor="ep-sig-header">
                  <input id="ep-sig-header" className="mono" value={f.sigHeader} onChange={(e) => set('sigHeader', e.target.value)} />
                </Field>
                <Field label="Encoding" htmlFor="ep-encoding">
                  <select id="ep-encoding" value={f.encoding} onChange={(e) => set('encoding', e.target.value as 'hex' | 'base64')}>
                    <option value="hex">hex</option>
                    <option value="base64">base64</option>
                  </select>
                </Field>
              </>
            ) : null}
          </div>
          {editing && existing.data && (existing.data.signature.scheme === 'ed25519') !== (f.scheme === 'ed25519') ? (
            <div className="notice small">Changing between ed25519 and the HMAC schemes replaces the signing secret: receivers need the new one.</div>
          ) : null}
        </Card>

        <Card title="Retries and timeout">
          <div className="grid-2">
            <Field label="Retry policy" htmlFor="ep-retry">
              <select id="ep-retry" value={f.retryMode} onChange={(e) => set('retryMode', e.target.value as RetryMode)}>
                {!editing ? <option value="default">Default (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)</option> : null}
                <option value="schedule">Fixed schedule</option>
                <option value="exponential">Exponential backoff</option>
              </select>
            </Field>
            <Field label="Timeout (ms)" htmlFor="ep-timeout" hint="Empty: the server's default.">
              <input id="ep-timeout" type="number" min={100} max={300000} value={f.timeoutMs} onChange={(e) => set('timeoutMs', e.target.value)} placeholder="10000" />
            </Field>
            {f.retryMode !== 'default' ? (
              <Field label="Jitter (0 to 1)" htmlFor="ep-jitter" hint="Spreads each delay at random: 0.1 = ±10 %. Empty: none.">
                <input id="ep-jitter" type="number" min={0} max={1} step="0.05" value={f.jitter} onChange={(e) => set('jitter', e.target.value)} placeholder="none" />
              </Field>
            ) : null}
            {f.retryMode === 'schedule' ? (
              <Field label="Delays before each retry (seconds)" htmlFor="ep-schedule" hint="Comma-separated; an empty list means no retries.">
                <input id="ep-schedule" className="mono" value={f.schedule} onChange={(e) => set('schedule', e.target.value)} />
              </Field>
            ) : null}
            {f.retryMode === 'exponential' ? (
              <>
                <Field label="First delay (s)" htmlFor="ep-initial">
                  <input id="ep-initial" type="number" min={0} value={f.initialSeconds} onChange={(e) => set('initialSeconds', e.target.value)} />
                </Field>
                <Field label="Longest delay (s)" htmlFor="ep-max">
                  <input id="ep-max" type="number" min={0} value={f.maxSeconds} onChange={(e) => set('maxSeconds', e.target.value)} />
                </Field>
                <Field label="Retries" htmlFor="ep-retries">
                  <input id="ep-retries" type="number" min={0} max={50} value={f.maxRetries} onChange={(e) => set('maxRetries', e.target.value)} />
                </Field>
                <Field label="Factor" htmlFor="ep-factor">
                  <input id="ep-factor" type="number" min={1} max={10} step="0.1" value={f.factor} onChange={(e) => set('factor', e.target.value)} />
                </Field>
              </>
            ) : null}
          </div>
        </Card>

        <Card title="Ordering and rate">
          <label className="check">
            <input type="checkbox" checked={f.ordered} onChange={(e) => set('ordered', e.target.checked)} /> Ordered: deliver one event at a time, in publish order
          </label>
          <div className="hint">A failing delivery then holds back the ones after it until it succeeds or gives up.</div>
          <div className="grid-2">
            <Field label="Rate limit (deliveries per second)" htmlFor="ep-rate" hint="Empty: no limit. Shared by every worker.">
              <input id="ep-rate" type="number" min={0} step="any" value={f.rateLimit} onChange={(e) => set('rateLimit', e.target.value)} placeholder="no limit" />
            </Field>
          </div>
          <label className="check">
            <input type="checkbox" checked={f.sendTraceContext} onChange={(e) => set('sendTraceContext', e.target.checked)} /> Send trace context: a W3C{' '}
            <code>traceparent</code> header with each request
          </label>
          <div className="hint">Only while Herald exports OpenTelemetry traces (OTEL_EXPORTER_OTLP_ENDPOINT); the receiver's spans then join the publisher's trace.</div>
        </Card>

        {!editing ? (
          <Card title="Signing secret">
            <Field
              label="Secret (optional)"
              htmlFor="ep-secret"
              hint="Empty: Herald generates one (whsec_…). Your own: whsec_ and base64 of 24+ bytes, or 32+ characters (base64 for the Standard Webhooks scheme). To change it later, rotate it on the endpoint's page."
            >
              <input id="ep-secret" className="mono" autoComplete="off" value={f.secret} onChange={(e) => set('secret', e.target.value)} placeholder="generated" />
            </Field>
          </Card>
        ) : null}

        <Card title="Static headers" actions={<button type="button" className="btn btn-small" onClick={() => set('headers', [...f.headers, { key: rowKey++, name: '', value: '' }])}>Add header</button>}>
          {!f.headers.length ? <div className="muted small">Headers sent with every delivery, e.g. an API key your receiver expects.</div> : null}
          {f.headers.map((h, i) => (
            <div className="header-row" key={h.key}>
              <input
                aria-label={`Header ${i + 1} name`}
                className="mono"
                placeholder="X-Api-Key"
                value={h.name}
                onChange={(e) => set('headers', f.headers.map((x) => (x.key === h.key ? { ...x, name: e.target.value } : x)))}
              />
              <input
                aria-label={`Header ${i + 1} value`}
                className="mono"
                placeholder="value"
                value={h.value}
                onChange={(e) => set('headers', f.headers.map((x) => (x.key === h.key ? { ...x, value: e.target.value } : x)))}
              />
              <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove header ${i + 1}`} onClick={() => set('headers', f.headers.filter((x) => x.key !== h.key))}>
                Remove
              </button>
            </div>
          ))}
        </Card>

        {problem ? <div className="error-box" role="alert">{problem}</div> : null}
        <ErrorBox error={save.error} title="Not saved" />
        <div className="form-actions">
          <Link className="btn" to={editing ? path('t', tenantId, 'endpoints', endpointId) : path('t', tenantId, 'endpoints')}>
            Cancel
          </Link>
          <button type="submit" className="btn btn-primary" disabled={save.pending}>
            {save.pending ? 'Saving…' : editing ? 'Save changes' : 'Create endpoint'}
          </button>
        </div>
      </form>
    </>
  );
}
