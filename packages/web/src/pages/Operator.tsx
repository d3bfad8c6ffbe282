import type { AlertEntry, AlertsState, FailingEndpoint, OperatorOverview } from '../api';
import { AttemptsPerMinuteChart } from '../components/AttemptsPerMinuteChart';
import { StateView } from '../components/StateView';
import { Card, CardTable, Empty, HttpStatus, Live, PageHead, StatusBadge, Time } from '../components/ui';
import { seconds } from '../format';
import { useApi } from '../hooks';
import { viewState } from '../state';
import { Link, path } from '../router';

/** How often the operator view refreshes itself, in milliseconds. */
const REFRESH_MS = 5000;

/**
 * Admin: the whole installation at a glance — endpoints failing now (every
 * tenant), the oldest due delivery, open circuits, and attempts per minute.
 */
export function OperatorPage() {
  const overview = useApi<OperatorOverview>('/v1/operator/overview', { pollMs: REFRESH_MS });
  const state = viewState(overview);
  return (
    <>
      <PageHead title="Operator" sub="Every tenant: what fails now, how far the queue is behind, how much goes out." actions={<Live updatedAt={overview.updatedAt} />} />
      <StateView state={state} empty={null} onRetry={overview.reload} errorTitle="The operator view could not be loaded">
        {(o) => (
          <>
            <Card>
              <Figures o={o} />
            </Card>
            <Card>
              <AttemptsPerMinuteChart minutes={o.perMinute} />
            </Card>
            <Card title={`Failing endpoints${o.failingTruncated ? ` (latest ${o.failing.length} of ${o.endpointsFailing})` : ''}`}>
              <FailingTable rows={o.failing} />
            </Card>
            <Card title="Alerts">
              <Alerts a={o.alerts} />
            </Card>
          </>
        )}
      </StateView>
    </>
  );
}

function Figures({ o }: { o: OperatorOverview }) {
  const perMinute = o.perMinute.slice(-5);
  const recent = perMinute.reduce((n, m) => n + m.attempts, 0) / Math.max(1, perMinute.length);
  return (
    <div className="tiles tiles-4" data-testid="operator-figures">
      <div className="tile" data-testid="figure-failing">
        <div className="tile-label">Endpoints failing</div>
        <div className={`tile-value ${o.endpointsFailing ? 'bad-text' : ''}`}>{o.endpointsFailing.toLocaleString()}</div>
        <div className="tile-sub">across all tenants</div>
      </div>
      <div className="tile" data-testid="figure-circuits">
        <div className="tile-label">Circuits open</div>
        <div className="tile-value">{o.circuitsOpen.toLocaleString()}</div>
        <div className="tile-sub">endpoints Herald pauses</div>
      </div>
      <div className="tile" data-testid="figure-oldest">
        <div className="tile-label">Oldest due delivery</div>
        <div className="tile-value">{o.oldestDue ? seconds(Math.round(o.oldestDue.ageSeconds)) : '—'}</div>
        <div className="tile-sub">
          {o.oldestDue ? <OldestDueLink due={o.oldestDue} /> : 'nothing waiting'}
        </div>
      </div>
      <div className="tile" data-testid="figure-rate">
        <div className="tile-label">Attempts per minute</div>
        <div className="tile-value">{Math.round(recent).toLocaleString()}</div>
        <div className="tile-sub">average of the last 5 minutes</div>
      </div>
    </div>
  );
}

/**
 * The oldest due delivery, linked to its page; while it waits in a batch no
 * worker has written out, it has no page yet, so its event is linked instead.
 */
function OldestDueLink({ due }: { due: NonNullable<OperatorOverview['oldestDue']> }) {
  if (due.writtenOut) return <Link to={path('t', due.tenantId, 'deliveries', due.deliveryId)}>{due.deliveryId}</Link>;
  return (
    <>
      event <Link to={path('t', due.tenantId, 'events', due.eventId)}>{due.eventId}</Link>, in a batch no worker has written out yet
    </>
  );
}

function FailingTable({ rows }: { rows: FailingEndpoint[] }) {
  if (rows.length === 0) return <Empty title="No endpoint is failing">Every endpoint's latest attempt succeeded.</Empty>;
  return (
    <CardTable
      label="Failing endpoints"
      columns={['Endpoint', 'Tenant', 'Failing since', 'Last error', { name: 'Failures', className: 'hide-sm' }, { name: 'Circuit', className: 'hide-sm' }]}
    >
      {rows.map((f) => (
        <tr key={f.endpointId}>
          <td className="url-cell">
            <Link to={path('t', f.tenantId, 'endpoints', f.endpointId)}>{f.url}</Link>
            {f.disabled ? <span className="badge badge-bad">disabled</span> : null}
          </td>
          <TenantCell tenantId={f.tenantId} name={f.tenantName} />
          <td data-label="Failing since">
            <Time iso={f.failingSince ?? f.lastAttemptAt} />
          </td>
          <td data-label="Last error" className="error-cell">
            <HttpStatus status={f.lastStatus} error={f.lastErrorCode} /> <span className="small muted">{f.lastError}</span>
          </td>
          <td data-label="Failures" className="hide-sm">{f.consecutiveFailures}</td>
          <td data-label="Circuit" className="hide-sm">{f.circuitOpenUntil ? <>open, closes <Time iso={f.circuitOpenUntil} /></> : 'closed'}</td>
        </tr>
      ))}
    </CardTable>
  );
}

/** A tenant's name, linked to its overview, with its id on hover. */
function TenantCell({ tenantId, name }: { tenantId: string; name: string }) {
  return (
    <td data-label="Tenant">
      <Link to={path('t', tenantId, 'overview')} title={tenantId}>
        {name}
      </Link>
    </td>
  );
}

const KIND_BADGE: Record<AlertEntry['kind'], string> = { failing: 'failed', disabled: 'failed', recovered: 'succeeded' };
const STATUS_BADGE: Record<AlertEntry['status'], string> = { sent: 'succeeded', pending: 'pending', dropped: 'failed' };

/** Whether alerts are configured (HERALD_ALERT_WEBHOOK_URL), how, and the latest ones with whether they went out. */
function Alerts({ a }: { a: AlertsState }) {
  return (
    <div data-testid="alerts">
      {a.configured ? (
        <p className="alerts-config">
          Alerts go to <span className="mono">{a.target}</span> (a Slack-compatible incoming webhook) when an endpoint fails {a.afterFailures} times in a row or its
          circuit opens, when Herald disables it, and when it recovers; checked every {seconds(a.intervalSeconds)}.{' '}
          {a.pending ? <strong>{a.pending} waiting to be sent.</strong> : null}
        </p>
      ) : (
        <p className="alerts-config muted">
          Alerts are off. Set <span className="mono">HERALD_ALERT_WEBHOOK_URL</span> to a Slack-compatible incoming webhook to be told when an endpoint starts
          failing, is disabled, or recovers.
        </p>
      )}
      {a.recent.length === 0 ? (
        a.configured ? <Empty title="No alerts yet">Every endpoint has been healthy since alerts were turned on.</Empty> : null
      ) : (
        <CardTable label="Recent alerts" columns={['Endpoint', 'Change', 'Tenant', 'When', 'Sent']}>
          {a.recent.map((x) => (
            <tr key={x.id}>
              <td className="url-cell">
                <Link to={path('t', x.tenantId, 'endpoints', x.endpointId)}>{x.url}</Link>
              </td>
              <td data-label="Change">
                <StatusBadge status={KIND_BADGE[x.kind]}>{x.kind}</StatusBadge>
              </td>
              <TenantCell tenantId={x.tenantId} name={x.tenantName} />
              <td data-label="When">
                <Time iso={x.createdAt} />
              </td>
              <td data-label="Sent">
                <StatusBadge status={STATUS_BADGE[x.status]}>{x.status}</StatusBadge>
                {x.lastError ? <span className="small muted"> {x.lastError}</span> : null}
              </td>
            </tr>
          ))}
        </CardTable>
      )}
    </div>
  );
}
