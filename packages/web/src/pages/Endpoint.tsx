import { useState } from 'react';
import { tenantPath, type Delivery, type DeliveryStatus, type Endpoint, type EndpointStats } from '../api';
import { DeliveryTable } from '../components/DeliveryTable';
import { RangePicker, StatsPanel, statsQuery, useRange } from '../components/charts';
import { PageNotReady, StateView } from '../components/StateView';
import { Card, ConfirmDialog, Empty, ErrorBox, HeadersTable, HttpStatus, Live, PageHead, PagedTable, StatusBadge, Time } from '../components/ui';
import { count, fromLocalInput, ms, retryText, signatureText, toLocalInput } from '../format';
import { LIVE_MS, useAction, useApi, usePagedList } from '../hooks';
import { Link, navigate, path, useUrlFilters } from '../router';
import { useCanWrite, useSession } from '../session';
import { viewState } from '../state';
import { TypeChips } from './Endpoints';
import { SecretCard } from './SecretCard';
import { TestEvent } from './TestEvent';

/** One endpoint: health charts, test events, secret, settings, recovery and its deliveries, live. */
export function EndpointPage({ tenantId, endpointId }: { tenantId: string; endpointId: string }) {
  const { client } = useSession();
  const base = tenantPath(tenantId, `/endpoints/${encodeURIComponent(endpointId)}`);
  const ep = useApi<Endpoint>(base, { pollMs: LIVE_MS * 5 });
  const [range, setRange] = useRange();
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

  const state = viewState(ep);
  if (state.kind !== 'data') return <PageNotReady state={state} title="Endpoint not available" back={<Link to={path('t', tenantId, 'endpoints')}>All endpoints</Link>} onRetry={ep.reload} />;
  const e = state.data;

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
        <StateView state={viewState(stats)} empty={null} onRetry={stats.reload}>
          {(data) => (
            <>
              <div className="muted small last-attempt">
                Last attempt:{' '}
                {data.lastAttempt ? (
                  <>
                    <HttpStatus status={data.lastAttempt.status} error={data.lastAttempt.errorCode} /> <Time iso={data.lastAttempt.at} />
                  </>
                ) : (
                  'never'
                )}
              </div>
              <StatsPanel stats={data} />
            </>
          )}
        </StateView>
      </Card>

      <div className="grid-2 cards">
        <SecretCard base={base} endpoint={e} onRotated={ep.reload} />
        <Card title="Settings">
          <dl className="dl">
            <dt>Delivers to</dt>
            <dd className="break" data-testid="endpoint-destination">{destinationText(e)}</dd>
            <dt>Events</dt>
            <dd>
              <TypeChips types={e.eventTypes} />
            </dd>
            <dt>Payload filter</dt>
            <dd>{e.filter ? <code className="mono break" data-testid="endpoint-filter">{JSON.stringify(e.filter)}</code> : <span className="muted">none</span>}</dd>
            <dt>Transformation</dt>
            <dd>{e.transformation ? <pre className="mono break small" data-testid="endpoint-transformation">{e.transformation}</pre> : <span className="muted">none</span>}</dd>
            <dt>Signature</dt>
            <dd>{signatureText(e.signature)}</dd>
            <dt>Retries</dt>
            <dd>{retryText(e.retry)}</dd>
            <dt>Timeout</dt>
            <dd>{ms(e.timeoutMs)}</dd>
            <dt>Order</dt>
            <dd>{e.ordered ? 'one at a time, in publish order' : 'in parallel (no order kept)'}</dd>
            <dt>Rate limit</dt>
            <dd>{e.rateLimitPerSecond === null ? <span className="muted">no limit</span> : `${e.rateLimitPerSecond} per second`}</dd>
            <dt>Trace context</dt>
            <dd>{e.sendTraceContext ? 'traceparent sent with each request (while traces are exported)' : <span className="muted">not sent</span>}</dd>
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
      {result !== null ? <div className="notice small">{result === 0 ? 'No failed deliveries in that period.' : `${count(result, 'delivery', 'deliveries')} queued again.`}</div> : null}
      <ErrorBox error={recover.error} />
    </Card>
  );
}

function EndpointDeliveries({ tenantId, endpointId }: { tenantId: string; endpointId: string }) {
  const [filters, setFilters] = useUrlFilters(['status'] as const);
  const status = filters.status as DeliveryStatus | '';
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
          <select id="ep-status" value={status} onChange={(e) => setFilters({ status: e.target.value })}>
            <option value="">All statuses</option>
            <option value="succeeded">Succeeded</option>
            <option value="failed">Failed</option>
            <option value="pending">Pending</option>
          </select>
          <Live updatedAt={list.updatedAt} />
        </>
      }
    >
      <PagedTable
        list={list}
        empty={<Empty title={status ? `No ${status} deliveries` : 'No deliveries yet'}>{status ? 'Choose "All statuses" to see the others.' : 'Send a test event, or publish an event this endpoint subscribes to.'}</Empty>}
        table={(rows) => <DeliveryTable tenantId={tenantId} rows={rows} />}
      />
    </Card>
  );
}

/** Where the endpoint delivers, in words: an HTTP URL, a RabbitMQ exchange or a NATS subject (broker URL with its password masked). */
function destinationText(e: Endpoint): string {
  const d = e.destination;
  if (!d) return `HTTP POST to ${e.url}`;
  if (d.type === 'rabbitmq') return `RabbitMQ exchange "${d.exchange}", routing key "${d.routingKey}" at ${d.url}`;
  return `NATS JetStream subject ${d.subject} at ${d.url}`;
}
