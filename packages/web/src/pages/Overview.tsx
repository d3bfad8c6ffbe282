import { useState } from 'react';
import { tenantPath, type Delivery, type TenantStats } from '../api';
import { RangePicker, StatsPanel, statsQuery, type RangeKey } from '../components/charts';
import { Card, Empty, ErrorBox, HttpStatus, Live, PageHead, Spinner, StatusBadge, TableWrap, Time } from '../components/ui';
import { LIVE_MS, useApi, usePagedList } from '../hooks';
import { Link, path } from '../router';

/** A tenant at a glance: delivery and latency charts, and the latest deliveries as they happen. */
export function OverviewPage({ tenantId }: { tenantId: string }) {
  const [range, setRange] = useState<RangeKey>('24h');
  const stats = useApi<TenantStats>(tenantPath(tenantId, `/stats${statsQuery(range)}`), { pollMs: 5000, keepPrevious: true });
  const recent = usePagedList<Delivery>(tenantPath(tenantId, '/deliveries?limit=10'), { pollMs: LIVE_MS });

  return (
    <>
      <PageHead title="Overview" sub="Deliveries of every endpoint of this tenant." actions={<RangePicker value={range} onChange={setRange} />} />
      <Card>
        <ErrorBox error={stats.error} />
        {stats.data ? <StatsPanel stats={stats.data} /> : stats.loading ? <Spinner /> : null}
      </Card>
      <Card title="Latest deliveries" actions={<Live updatedAt={recent.updatedAt} />}>
        <ErrorBox error={recent.error} />
        {recent.loading ? (
          <Spinner />
        ) : !recent.rows.length ? (
          <Empty title="Nothing delivered yet">
            Add an <Link to={path('t', tenantId, 'endpoints', 'new')}>endpoint</Link>, then publish an event or send a test event.
          </Empty>
        ) : (
          <DeliveryTable tenantId={tenantId} rows={recent.rows} />
        )}
      </Card>
    </>
  );
}

export function DeliveryTable({ tenantId, rows, endpointUrls }: { tenantId: string; rows: Delivery[]; endpointUrls?: Map<string, string> }) {
  return (
    <TableWrap>
      <table className="table">
        <thead>
          <tr>
            <th>Status</th>
            <th>Event type</th>
            <th className="hide-sm">{endpointUrls ? 'Endpoint' : 'Event'}</th>
            <th>Last answer</th>
            <th className="hide-sm">Attempts</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr key={d.id} className="clickable">
              <td>
                <Link to={path('t', tenantId, 'deliveries', d.id)} aria-label={`Delivery ${d.id}`}>
                  <StatusBadge status={d.status} />
                </Link>
              </td>
              <td className="mono">{d.eventType}</td>
              <td className="mono hide-sm truncate">
                {endpointUrls ? (endpointUrls.get(d.endpointId) ?? d.endpointId) : <Link to={path('t', tenantId, 'events', d.eventId)}>{d.eventId}</Link>}
              </td>
              <td>
                <HttpStatus status={d.lastStatus} error={d.lastStatus === null ? (d.lastError ? 'error' : null) : null} />
              </td>
              <td className="hide-sm">{d.attempts}</td>
              <td>
                <Link to={path('t', tenantId, 'deliveries', d.id)}>
                  <Time iso={d.createdAt} />
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}
