import { tenantPath, type Delivery, type HeraldEvent } from '../api';
import { DeliveryTable } from '../components/DeliveryTable';
import { Card, CopyButton, Empty, ErrorBox, JsonView, Live, PageHead, Spinner } from '../components/ui';
import { formatTime } from '../format';
import { LIVE_MS, useApi } from '../hooks';

/** One event: its payload, formatted, and its delivery to each endpoint, live while any is pending. */
export function EventPage({ tenantId, eventId }: { tenantId: string; eventId: string }) {
  const base = tenantPath(tenantId, `/events/${encodeURIComponent(eventId)}`);
  const ev = useApi<HeraldEvent>(base);
  const deliveries = useApi<{ data: Delivery[] }>(ev.data ? `${base}/deliveries` : null, { pollMs: LIVE_MS });

  if (!ev.data) return ev.error ? <ErrorBox error={ev.error} title="Event not available" /> : <Spinner />;
  const e = ev.data;
  const raw = JSON.stringify(e.payload);
  return (
    <>
      <PageHead title={<span className="mono">{e.type}</span>} sub={<><span className="mono">{e.id}</span> · published {formatTime(e.createdAt)}</>} />
      <Card title="Payload" actions={<CopyButton text={raw} label="Copy JSON" />}>
        <JsonView value={e.payload} />
        <div className="muted small">{new TextEncoder().encode(raw).length.toLocaleString()} bytes</div>
      </Card>
      <Card title="Deliveries" actions={<Live updatedAt={deliveries.updatedAt} />}>
        <ErrorBox error={deliveries.error} />
        {!deliveries.data ? (
          <Spinner />
        ) : !deliveries.data.data.length ? (
          <Empty title="Delivered nowhere">No endpoint of this tenant subscribed to {e.type} when it was published.</Empty>
        ) : (
          <DeliveryTable tenantId={tenantId} rows={deliveries.data.data} />
        )}
      </Card>
    </>
  );
}
