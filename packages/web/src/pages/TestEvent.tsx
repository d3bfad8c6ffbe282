import { useEffect, useState } from 'react';
import { tenantPath, type DeliveryWithAttempts, type Endpoint, type EventType } from '../api';
import { BodyView, Card, ErrorBox, HttpStatus, Spinner, StatusBadge, Time } from '../components/ui';
import { exampleOf } from '../example';
import { ms } from '../format';
import { useAction, useApi } from '../hooks';
import { Link, path } from '../router';
import { useSession } from '../session';

const BUILT_IN = 'herald.test';

/** The payload a test event of `type` starts from: the catalogue's example for its schema, or Herald's own sample. */
function examplePayload(type: string, catalogue: EventType[]): string {
  const t = catalogue.find((x) => x.name === type);
  const example = t?.schema ? exampleOf(t.schema) : { type, test: true, message: 'Test event sent from Herald' };
  return JSON.stringify(example, null, 2);
}

/** The payload text as the API wants it (a JSON object), or what is wrong with it. */
function parsePayload(text: string): { payload?: Record<string, unknown>; problem?: string } {
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { problem: 'The payload must be a JSON object ({…}).' };
    return { payload: v as Record<string, unknown> };
  } catch (err) {
    return { problem: `The payload is not valid JSON: ${(err as Error).message}` };
  }
}

/**
 * "Send test event": publishes to this endpoint alone, with a payload that
 * starts as the event type's example (so it passes the type's schema) and
 * can be edited first, then follows the delivery until its first answer.
 */
export function TestEvent({ tenantId, endpoint }: { tenantId: string; endpoint: Endpoint }) {
  const { client } = useSession();
  const catalogue = useApi<{ data: EventType[] }>('/v1/event-types');
  const types = catalogue.data?.data ?? [];
  const [type, setType] = useState(BUILT_IN);
  const [text, setText] = useState(() => examplePayload(BUILT_IN, []));
  const [problem, setProblem] = useState<string>();
  const [sent, setSent] = useState<{ eventId: string; deliveryId: string } | null>(null);
  const send = useAction(async (payload: Record<string, unknown>) => {
    setSent(null);
    const r = await client.post<{ eventId: string; deliveryId: string }>(tenantPath(tenantId, `/endpoints/${encodeURIComponent(endpoint.id)}/test`), {
      eventType: type,
      payload,
    });
    setSent(r);
  });
  const choose = (t: string) => {
    setType(t);
    setText(examplePayload(t, types));
    setProblem(undefined);
  };
  const submit = () => {
    const { payload, problem: p } = parsePayload(text);
    setProblem(p);
    if (payload) void send.run(payload);
  };
  return (
    <Card title="Send test event">
      <div className="inline-form">
        <label htmlFor="test-type">Event type</label>
        <select id="test-type" value={type} onChange={(e) => choose(e.target.value)}>
          <option value={BUILT_IN}>{BUILT_IN}</option>
          {types.map((t) => (
            <option key={t.name} value={t.name}>
              {t.name}
            </option>
          ))}
        </select>
        <button type="button" className="btn btn-primary" disabled={send.pending || endpoint.disabled} onClick={submit}>
          {send.pending ? 'Sending…' : 'Send test event'}
        </button>
        {endpoint.disabled ? <span className="muted small">Enable the endpoint to send a test event.</span> : null}
      </div>
      <details className="test-payload" open>
        <summary>Payload {text === examplePayload(type, types) ? <span className="muted small">(the example of {type})</span> : <span className="muted small">(edited)</span>}</summary>
        <label className="sr-only" htmlFor="test-payload">
          Payload
        </label>
        <textarea id="test-payload" className="mono" rows={Math.min(16, text.split('\n').length + 1)} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
        <button type="button" className="btn btn-small btn-ghost" onClick={() => choose(type)}>
          Reset to the example
        </button>
      </details>
      {problem ? (
        <div className="error-box" role="alert">
          {problem}
        </div>
      ) : null}
      <ErrorBox error={send.error} title="Test event not sent" />
      {sent ? <TestResult key={sent.deliveryId} tenantId={tenantId} deliveryId={sent.deliveryId} /> : null}
    </Card>
  );
}

function TestResult({ tenantId, deliveryId }: { tenantId: string; deliveryId: string }) {
  const [polling, setPolling] = useState(true);
  const d = useApi<DeliveryWithAttempts>(polling ? tenantPath(tenantId, `/deliveries/${encodeURIComponent(deliveryId)}`) : null, { pollMs: 700 });
  const [last, setLast] = useState<DeliveryWithAttempts>();
  useEffect(() => {
    if (!d.data) return;
    setLast(d.data);
    if (d.data.status !== 'pending') setPolling(false);
  }, [d.data]);
  useEffect(() => {
    const t = setTimeout(() => setPolling(false), 60_000);
    return () => clearTimeout(t);
  }, []);
  const data = last;
  const attempt = data?.attemptLog[data.attemptLog.length - 1];
  return (
    <div className="test-result" aria-live="polite" data-testid="test-result">
      {!data || !attempt ? (
        <Spinner label="Sent; waiting for the endpoint's answer…" />
      ) : (
        <>
          <div className="test-line">
            <StatusBadge status={data.status} />
            <span>
              Attempt {attempt.attemptNumber}: {attempt.response ? <HttpStatus status={attempt.response.status} /> : <HttpStatus status={null} error={attempt.error?.code} />} in{' '}
              {ms(attempt.durationMs)}
            </span>
            {data.status === 'pending' && data.nextAttemptAt ? (
              <span className="muted">
                next retry <Time iso={data.nextAttemptAt} />
              </span>
            ) : null}
            <Link to={path('t', tenantId, 'deliveries', data.id)}>Open delivery</Link>
          </div>
          {attempt.response ? <BodyView body={attempt.response.body} truncated={attempt.response.bodyTruncated} /> : null}
          {attempt.error ? <div className="error-box">{attempt.error.message}</div> : null}
        </>
      )}
      {d.error ? <ErrorBox error={d.error} /> : null}
    </div>
  );
}

