import { tenantPath, type Delivery, type HeraldEvent } from '../api';
import { DeliveryTable } from '../components/DeliveryTable';
import { PageNotReady, StateView } from '../components/StateView';
import { Card, CopyButton, Empty, JsonView, Live, PageHead } from '../components/ui';
import { formatTime } from '../format';
import { LIVE_MS, useApi } from '../hooks';
import { Link, path } from '../router';
import { viewState } from '../state';

/** One event: its payload, formatted, and its delivery to each endpoint, live while any is pending. */
export function EventPage({ tenantId, eventId }: { tenantId: string; eventId: string }) {
  const base = tenantPath(tenantId, `/events/${encodeURIComponent(eventId)}`);
  const ev = useApi<HeraldEvent>(base);
  const deliveries = useApi<{ data: Delivery[] }>(ev.data ? `${base}/deliveries` : null, { pollMs: LIVE_MS });

  const state = viewState(ev);
  if (state.kind !== 'data') return <PageNotReady state={state} title="Event not available" back={<Link to={path('t', tenantId, 'events')}>The event log</Link>} onRetry={ev.reload} />;
  const e = state.data;
  const raw = JSON.stringify(e.payload);
  return (
    <>
      <PageHead title={<span className="mono">{e.type}</span>} sub={<><span className="mono">{e.id}</span> · published {formatTime(e.createdAt)}</>} />
      <Card title="Payload" actions={<CopyButton text={raw} label="Copy JSON" />}>
        <JsonView value={e.payload} />
        <div className="muted small">{new TextEncoder().encode(raw).length.toLocaleString()} bytes</div>
      </Card>
      <Card title="Deliveries" actions={<Live updatedAt={deliveries.updatedAt} />}>
        <StateView
          state={viewState(deliveries, (d) => d.data.length === 0)}
          onRetry={deliveries.reload}
          empty={<Empty title="Delivered nowhere">No endpoint of this tenant subscribed to {e.type} when it was published.</Empty>}
        >
          {(d) => <DeliveryTable tenantId={tenantId} rows={d.data} />}
        </StateView>
      </Card>
    </>
  );
}
