import { useState } from 'react';
import { tenantPath, type Delivery, type TenantStats } from '../api';
import { RangePicker, StatsPanel, statsQuery, type RangeKey } from '../components/charts';
import { DeliveryTable } from '../components/DeliveryTable';
import { Card, Empty, ErrorBox, Live, PageHead, Spinner } from '../components/ui';
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
