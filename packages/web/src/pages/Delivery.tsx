import { useState, type ReactNode } from 'react';
import { tenantPath, type Attempt, type DeliveryWithAttempts, type HeraldEvent, type Replay } from '../api';
import { PageNotReady } from '../components/StateView';
import { BodyView, Card, CopyButton, Empty, ErrorBox, Field, HeadersTable, HttpStatus, JsonView, Live, PageHead, Spinner, StatusBadge, Time } from '../components/ui';
import { curlCommand } from '../curl';
import { formatTime, ms } from '../format';
import { LIVE_MS, useAction, useApi } from '../hooks';
import { Link, path } from '../router';
import { useCanWrite, useSession } from '../session';
import { viewState } from '../state';

/** One delivery: every attempt's exact request and the answer (or network error), a Retry button, and replays to other URLs. */
export function DeliveryPage({ tenantId, deliveryId }: { tenantId: string; deliveryId: string }) {
  const { client } = useSession();
  const canWrite = useCanWrite();
  const base = tenantPath(tenantId, `/deliveries/${encodeURIComponent(deliveryId)}`);
  const d = useApi<DeliveryWithAttempts>(base, { pollMs: LIVE_MS });
  const ev = useApi<HeraldEvent>(d.data ? tenantPath(tenantId, `/events/${encodeURIComponent(d.data.eventId)}`) : null);
  const replays = useApi<{ data: Replay[] }>(`${base}/replays`);
  const [replaying, setReplaying] = useState(false);
  const retry = useAction(async () => {
    await client.post(`${base}/retry`, {});
    d.reload();
  });

  const state = viewState(d);
  if (state.kind !== 'data') return <PageNotReady state={state} title="Delivery not available" back={<Link to={path('t', tenantId, 'events')}>The event log</Link>} onRetry={d.reload} />;
  const x = state.data;
  // the payload: undefined while it loads, null when it is gone (retention) or cannot be read
  const body = ev.data ? JSON.stringify(ev.data.payload) : ev.error ? null : undefined;
  const attempts = [...x.attemptLog].reverse();

  return (
    <>
      <PageHead
        title={
          <>
            Delivery <StatusBadge status={x.status} />
          </>
        }
        sub={
          <>
            <span className="mono">{x.id}</span> · <span className="mono">{x.eventType}</span> to{' '}
            <Link to={path('t', tenantId, 'endpoints', x.endpointId)} className="mono">
              {x.endpointUrl ?? x.endpointId}
            </Link>
          </>
        }
        actions={
          canWrite ? (
            <>
              <button type="button" className="btn" aria-expanded={replaying} onClick={() => setReplaying(!replaying)}>
                Replay to another URL
              </button>
              <button type="button" className="btn btn-primary" disabled={retry.pending} onClick={() => void retry.run()}>
                {retry.pending ? 'Retrying…' : 'Retry'}
              </button>
            </>
          ) : null
        }
      />
      <ErrorBox error={retry.error} title="Retry refused" />
      {replaying ? <ReplayForm base={base} onDone={replays.reload} onClose={() => setReplaying(false)} /> : null}
      <Card>
        <div className="facts">
          <div>
            <span>Status</span>
            <StatusBadge status={x.status} />
          </div>
          <div>
            <span>Attempts</span>
            {x.attempts}
          </div>
          <div>
            <span>Event</span>
            <Link to={path('t', tenantId, 'events', x.eventId)} className="mono">
              {x.eventId}
            </Link>
          </div>
          <div>
            <span>Created</span>
            {formatTime(x.createdAt)}
          </div>
          <div>
            <span>Next attempt</span>
            {x.status === 'pending' ? x.nextAttemptAt ? <Time iso={x.nextAttemptAt} /> : 'in progress' : <span className="muted">none</span>}
          </div>
          <div className="facts-end">
            <Live updatedAt={d.updatedAt} />
          </div>
        </div>
      </Card>
      <h2 className="section-title">Attempts</h2>
      {!attempts.length ? (
        <Empty title={x.status === 'pending' ? 'Not attempted yet' : 'No attempts'}>{x.status === 'pending' ? 'The first attempt is on its way.' : null}</Empty>
      ) : (
        attempts.map((a) => <AttemptCard key={a.id} attempt={a} body={body} title={`Attempt ${a.attemptNumber}`} />)
      )}
      {replays.data?.data.length ? (
        <>
          <h2 className="section-title">Replays to other URLs</h2>
          <p className="muted small">Sent once each, signed as the endpoint signs; they change neither the endpoint nor this delivery.</p>
          {[...replays.data.data].reverse().map((r) => (
            <AttemptCard key={r.id} attempt={r} body={body} title={<>Replay to <span className="mono break">{r.request.url}</span></>} testId="replay" />
          ))}
        </>
      ) : null}
    </>
  );
}

/**
 * Sends the delivery once more, signed as its endpoint signs, to a URL
 * given here (a tunnel to a laptop, a staging receiver); the endpoint stays
 * as it is. The answer shows at once under "Replays to other URLs".
 */
function ReplayForm({ base, onDone, onClose }: { base: string; onDone(): void; onClose(): void }) {
  const { client } = useSession();
  const [url, setUrl] = useState('');
  const send = useAction(async () => {
    await client.post(`${base}/replay`, { url });
    onDone();
  });
  return (
    <Card title="Replay to another URL">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void send.run();
        }}
      >
        <Field label="URL" htmlFor="replay-url" hint="Sent once, signed as the endpoint signs. The endpoint and this delivery are not changed. HTTPS on a public address outside dev mode.">
          <div className="inline-form">
            <input id="replay-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.ngrok.app/webhooks" />
            <button type="submit" className="btn btn-primary" disabled={send.pending || !url}>
              {send.pending ? 'Sending…' : 'Send'}
            </button>
            <button type="button" className="btn btn-ghost" onClick={onClose}>
              Close
            </button>
          </div>
        </Field>
      </form>
      <ErrorBox error={send.error} title="Replay refused" />
    </Card>
  );
}

/** An attempt, or a replay (an attempt's shape without its number). */
function AttemptCard({ attempt: a, body, title, testId }: { attempt: Omit<Attempt, 'attemptNumber'>; body: string | null | undefined; title: ReactNode; testId?: string }) {
  const [pretty, setPretty] = useState(false);
  const ok = a.response !== null && a.response.status >= 200 && a.response.status < 300;
  return (
    <Card
      className={`attempt ${ok ? 'attempt-ok' : 'attempt-bad'}`}
      testId={testId}
      title={
        <>
          {title} {a.response ? <HttpStatus status={a.response.status} /> : <HttpStatus status={null} error={a.error?.code ?? 'error'} />}
        </>
      }
      actions={
        <>
          <span className="muted small">
            {formatTime(a.startedAt)} · {ms(a.durationMs)}
          </span>
          {body !== undefined ? <CopyButton text={curlCommand(a.request.url, a.request.headers, body)} label="Copy as cURL" /> : null}
        </>
      }
    >
      <div className="grid-2 attempt-grid">
        <div>
          <h3>Request</h3>
          <div className="mono break request-line">POST {a.request.url}</div>
          <HeadersTable headers={a.request.headers} />
          <div className="body-head">
            <h4>Body (the event's payload)</h4>
            {body ? (
              <>
                <button type="button" className="btn btn-small btn-ghost" onClick={() => setPretty(!pretty)}>
                  {pretty ? 'As sent' : 'Format'}
                </button>
                <CopyButton text={body} />
              </>
            ) : null}
          </div>
          {body === undefined ? (
            <Spinner label="Loading the payload…" />
          ) : body === null ? (
            <div className="muted small">The event's payload is no longer kept.</div>
          ) : pretty ? (
            <JsonView raw={JSON.stringify(JSON.parse(body), null, 2)} />
          ) : (
            <pre className="code">{body}</pre>
          )}
        </div>
        <div>
          <h3>Response</h3>
          {a.response ? (
            <>
              <div className="request-line">
                <HttpStatus status={a.response.status} /> in {ms(a.durationMs)}
              </div>
              <HeadersTable headers={a.response.headers} />
              <h4>Body</h4>
              <BodyView body={a.response.body} truncated={a.response.bodyTruncated} />
            </>
          ) : (
            <div className="error-box">
              <strong>{a.error?.code ?? 'error'}</strong>
              <span>{a.error?.message ?? 'No response.'}</span>
            </div>
          )}
        </div>
      </div>
    </Card>
  );
}
