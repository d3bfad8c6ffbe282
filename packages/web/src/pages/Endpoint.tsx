import { useEffect, useState } from 'react';
import { tenantPath, type Delivery, type DeliveryStatus, type DeliveryWithAttempts, type Endpoint, type EndpointStats, type EventType } from '../api';
import { RangePicker, StatsPanel, statsQuery, type RangeKey } from '../components/charts';
import { BodyView, Card, ConfirmDialog, CopyButton, Empty, ErrorBox, HeadersTable, HttpStatus, Live, LoadMore, PageHead, Spinner, StatusBadge, Time } from '../components/ui';
import { fromLocalInput, ms, retryText, signatureText, toLocalInput } from '../format';
import { LIVE_MS, useAction, useApi, usePagedList } from '../hooks';
import { Link, navigate, path } from '../router';
import { useCanWrite, useSession } from '../session';
import { TypeChips } from './Endpoints';
import { DeliveryTable } from './Overview';

/** One endpoint: health charts, test events, secret, settings, recovery and its deliveries, live. */
export function EndpointPage({ tenantId, endpointId }: { tenantId: string; endpointId: string }) {
  const { client } = useSession();
  const base = tenantPath(tenantId, `/endpoints/${encodeURIComponent(endpointId)}`);
  const ep = useApi<Endpoint>(base, { pollMs: LIVE_MS * 5 });
  const [range, setRange] = useState<RangeKey>('24h');
  const stats = useApi<EndpointStats>(`${base}/stats${statsQuery(range)}`, { pollMs: 5000, keepPrevious: true });
  const [confirm, setConfirm] = useState<'delete' | null>(null);
  const canWrite = useCanWrite();

  const toggle = useAction(async (disabled: boolean) => {
    await client.patch<Endpoint>(base, { disabled });
    ep.reload();
  });
  const remove = useAction(async () => {
    await client.delete(base);
    navigate(path('t', tenantId, 'endpoints'));
  });

  if (!ep.data) return ep.error ? <ErrorBox error={ep.error} title="Endpoint not available" /> : <Spinner />;
  const e = ep.data;

  return (
    <>
      <PageHead
        title={<span className="mono break">{e.url}</span>}
        sub={
          <>
            {e.description ? <span>{e.description} · </span> : null}
            <span className="mono">{e.id}</span> · {e.disabled ? <StatusBadge status="disabled">Disabled</StatusBadge> : <StatusBadge status="enabled">Enabled</StatusBadge>}
          </>
        }
        actions={
          canWrite ? (
          <>
            <Link className="btn" to={path('t', tenantId, 'endpoints', e.id, 'edit')}>
              Edit
            </Link>
            <button type="button" className="btn" disabled={toggle.pending} onClick={() => void toggle.run(!e.disabled)}>
              {e.disabled ? 'Enable' : 'Disable'}
            </button>
            <button type="button" className="btn btn-danger" onClick={() => setConfirm('delete')}>
              Delete
            </button>
          </>
          ) : null
        }
      />
      <ErrorBox error={toggle.error ?? remove.error} />
      {e.disabled ? (
        <div className="notice">
          Disabled{e.disabledReason ? `: ${e.disabledReason}` : ''}. No deliveries are sent to it until it is enabled; they wait.
        </div>
      ) : null}

      {canWrite ? <TestEvent tenantId={tenantId} endpoint={e} /> : null}

      <Card title="Health" actions={<RangePicker value={range} onChange={setRange} />}>
        <ErrorBox error={stats.error} />
        {stats.data ? (
          <>
            <div className="muted small last-attempt">
              Last attempt:{' '}
              {stats.data.lastAttempt ? (
                <>
                  <HttpStatus status={stats.data.lastAttempt.status} error={stats.data.lastAttempt.errorCode} /> <Time iso={stats.data.lastAttempt.at} />
                </>
              ) : (
                'never'
              )}
            </div>
            <StatsPanel stats={stats.data} />
          </>
        ) : (
          <Spinner />
        )}
      </Card>

      <div className="grid-2 cards">
        <SecretCard base={base} publicKey={e.publicKey} />
        <Card title="Settings">
          <dl className="dl">
            <dt>Events</dt>
            <dd>
              <TypeChips types={e.eventTypes} />
            </dd>
            <dt>Payload filter</dt>
            <dd>{e.filter ? <code className="mono break" data-testid="endpoint-filter">{JSON.stringify(e.filter)}</code> : <span className="muted">none</span>}</dd>
            <dt>Signature</dt>
            <dd>{signatureText(e.signature)}</dd>
            <dt>Retries</dt>
            <dd>{retryText(e.retry)}</dd>
            <dt>Timeout</dt>
            <dd>{ms(e.timeoutMs)}</dd>
            <dt>Static headers</dt>
            <dd>{Object.keys(e.headers).length ? <HeadersTable headers={e.headers} /> : <span className="muted">none</span>}</dd>
          </dl>
        </Card>
      </div>

      {canWrite ? <RecoverCard base={base} /> : null}
      <EndpointDeliveries tenantId={tenantId} endpointId={e.id} />

      <ConfirmDialog
        open={confirm === 'delete'}
        title="Delete this endpoint?"
        confirmLabel="Delete endpoint"
        danger
        pending={remove.pending}
        onCancel={() => setConfirm(null)}
        onConfirm={() => void remove.run().then(() => setConfirm(null))}
      >
        <p>
          <span className="mono break">{e.url}</span> will stop receiving events, and its deliveries and their attempts are deleted with it. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}

/** "Send test event": publishes to this endpoint alone and follows the delivery until its first answer. */
function TestEvent({ tenantId, endpoint }: { tenantId: string; endpoint: Endpoint }) {
  const { client } = useSession();
  const catalogue = useApi<{ data: EventType[] }>('/v1/event-types');
  const [type, setType] = useState('herald.test');
  const [sent, setSent] = useState<{ eventId: string; deliveryId: string } | null>(null);
  const send = useAction(async () => {
    setSent(null);
    const r = await client.post<{ eventId: string; deliveryId: string }>(
      tenantPath(tenantId, `/endpoints/${encodeURIComponent(endpoint.id)}/test`),
      type === 'herald.test' ? {} : { eventType: type },
    );
    setSent(r);
  });
  return (
    <Card title="Send test event">
      <div className="inline-form">
        <label className="sr-only" htmlFor="test-type">
          Event type
        </label>
        <select id="test-type" value={type} onChange={(e) => setType(e.target.value)}>
          <option value="herald.test">herald.test</option>
          {(catalogue.data?.data ?? []).map((t) => (
            <option key={t.name} value={t.name}>
              {t.name}
            </option>
          ))}
        </select>
        <button type="button" className="btn btn-primary" disabled={send.pending || endpoint.disabled} onClick={() => void send.run()}>
          {send.pending ? 'Sending…' : 'Send test event'}
        </button>
        {endpoint.disabled ? <span className="muted small">Enable the endpoint to send a test event.</span> : null}
      </div>
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

/**
 * The signing secret: hidden until asked for; rotation keeps the old one
 * signing for a grace period. An ed25519 endpoint's public key is no
 * secret: shown to everyone who sees the endpoint, portal readers included.
 */
function SecretCard({ base, publicKey }: { base: string; publicKey: string | null }) {
  const { client } = useSession();
  const canWrite = useCanWrite();
  const [secret, setSecret] = useState<string | null>(null);
  const [rotated, setRotated] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [shownKey, setShownKey] = useState<string | null>(null);
  const reveal = useAction(async () => setSecret((await client.get<{ secret: string }>(`${base}/secret`)).secret));
  const rotate = useAction(async () => {
    const r = await client.post<{ secret: string; publicKey: string | null }>(`${base}/secret/rotate`, {});
    setSecret(r.secret);
    setShownKey(r.publicKey);
    setRotated(true);
    setConfirm(false);
  });
  const key = shownKey ?? publicKey;
  return (
    <Card title={key ? 'Signing key (ed25519)' : 'Signing secret'}>
      {key ? (
        <>
          <p className="muted small">Your receiver verifies each delivery's v1a signature with this public key.</p>
          <div className="secret-row">
            <code className="secret mono" data-testid="public-key">
              {key}
            </code>
            <CopyButton text={key} />
          </div>
          <p className="muted small">The private key below signs; only Herald needs it.</p>
        </>
      ) : (
        <p className="muted small">Your receiver verifies each delivery's signature with this secret.</p>
      )}
      <div className="secret-row">
        <code className="secret mono" data-testid="secret">
          {secret ?? (key ? 'whsk_' : 'whsec_') + '•'.repeat(24)}
        </code>
        {!canWrite ? (
          <span className="muted small">Read-only access cannot reveal the secret.</span>
        ) : secret ? (
          <>
            <CopyButton text={secret} />
            <button type="button" className="btn btn-small" onClick={() => setSecret(null)}>
              Hide
            </button>
          </>
        ) : (
          <button type="button" className="btn btn-small" disabled={reveal.pending} onClick={() => void reveal.run()}>
            Reveal
          </button>
        )}
        {canWrite ? (
          <button type="button" className="btn btn-small" onClick={() => setConfirm(true)}>
            Rotate
          </button>
        ) : null}
      </div>
      {rotated ? <div className="notice small">Rotated. The previous secret keeps signing beside the new one for 24 hours, so receivers can switch over.</div> : null}
      <ErrorBox error={reveal.error ?? rotate.error} />
      <ConfirmDialog
        open={confirm}
        title="Rotate the signing secret?"
        confirmLabel="Rotate secret"
        pending={rotate.pending}
        onCancel={() => setConfirm(false)}
        onConfirm={() => void rotate.run()}
      >
        <p>A new secret signs every delivery from now on. The current one also keeps signing for 24 hours, so your receiver can switch without missing a delivery.</p>
      </ConfirmDialog>
    </Card>
  );
}

/** Re-queues the failed deliveries of this endpoint since a chosen time. */
function RecoverCard({ base }: { base: string }) {
  const { client } = useSession();
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - 24 * 3600 * 1000)));
  const [result, setResult] = useState<number | null>(null);
  const recover = useAction(async () => {
    const iso = fromLocalInput(since);
    if (!iso) return;
    const r = await client.post<{ recovered: number }>(`${base}/recover`, { since: iso });
    setResult(r.recovered);
  });
  return (
    <Card title="Recover failed deliveries">
      <p className="muted small">Sends again every delivery to this endpoint that failed for good since the time you choose, for instance after an outage of your receiver.</p>
      <div className="inline-form">
        <label htmlFor="recover-since">Since</label>
        <input id="recover-since" type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
        <button type="button" className="btn" disabled={recover.pending || !fromLocalInput(since)} onClick={() => void recover.run()}>
          {recover.pending ? 'Recovering…' : 'Recover'}
        </button>
      </div>
      {result !== null ? <div className="notice small">{result === 0 ? 'No failed deliveries in that period.' : `${result} deliveries queued again.`}</div> : null}
      <ErrorBox error={recover.error} />
    </Card>
  );
}

function EndpointDeliveries({ tenantId, endpointId }: { tenantId: string; endpointId: string }) {
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const q = `/deliveries?limit=25&endpointId=${encodeURIComponent(endpointId)}${status ? `&status=${status}` : ''}`;
  const list = usePagedList<Delivery>(tenantPath(tenantId, q), { pollMs: LIVE_MS });
  return (
    <Card
      title="Deliveries"
      actions={
        <>
          <label className="sr-only" htmlFor="ep-status">
            Status
          </label>
          <select id="ep-status" value={status} onChange={(e) => setStatus(e.target.value as DeliveryStatus | '')}>
            <option value="">All statuses</option>
            <option value="succeeded">Succeeded</option>
            <option value="failed">Failed</option>
            <option value="pending">Pending</option>
          </select>
          <Live updatedAt={list.updatedAt} />
        </>
      }
    >
      <ErrorBox error={list.error} />
      {list.loading ? <Spinner /> : !list.rows.length ? <Empty title="No deliveries">Send a test event, or publish an event this endpoint subscribes to.</Empty> : <DeliveryTable tenantId={tenantId} rows={list.rows} />}
      <LoadMore hasMore={list.hasMore} loading={list.loadingMore} onClick={list.loadMore} />
    </Card>
  );
}
