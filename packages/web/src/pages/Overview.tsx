import { tenantPath, type Delivery, type TenantStats } from '../api';
import { RangePicker, StatsPanel, statsQuery, useRange } from '../components/charts';
import { DeliveryTable } from '../components/DeliveryTable';
import { StateView } from '../components/StateView';
import { Card, Empty, Live, PageHead } from '../components/ui';
import { LIVE_MS, useApi, usePagedList } from '../hooks';
import { Link, path } from '../router';
import { viewState } from '../state';

/** A tenant at a glance: delivery and latency charts, and the latest deliveries as they happen. */
export function OverviewPage({ tenantId }: { tenantId: string }) {
  const [range, setRange] = useRange();
  const stats = useApi<TenantStats>(tenantPath(tenantId, `/stats${statsQuery(range)}`), { pollMs: 5000, keepPrevious: true });
  const recent = usePagedList<Delivery>(tenantPath(tenantId, '/deliveries?limit=10'), { pollMs: LIVE_MS });
  const recentState = viewState({ data: recent.loading ? undefined : recent.rows, error: recent.error, loading: recent.loading }, (r) => r.length === 0);

  return (
    <>
      <PageHead title="Overview" sub="Deliveries of every endpoint of this tenant." actions={<RangePicker value={range} onChange={setRange} />} />
      <Card>
        <StateView state={viewState(stats)} empty={null} onRetry={stats.reload}>
          {(data) => <StatsPanel stats={data} />}
        </StateView>
      </Card>
      <Card title="Latest deliveries" actions={<Live updatedAt={recent.updatedAt} />}>
        <StateView
          state={recentState}
          onRetry={recent.reload}
          empty={
            <Empty title="Nothing delivered yet">
              Add an <Link to={path('t', tenantId, 'endpoints', 'new')}>endpoint</Link>, then publish an event or send a test event.
            </Empty>
          }
        >
          {(rows) => <DeliveryTable tenantId={tenantId} rows={rows} />}
        </StateView>
      </Card>
    </>
  );
}
