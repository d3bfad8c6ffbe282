import { useState, type FormEvent } from 'react';
import { qs, tenantPath, type Delivery, type DeliveryStatus, type EventType, type HeraldEvent } from '../api';
import { DeliveryTable } from '../components/DeliveryTable';
import { Card, Empty, Live, PageHead, PagedTable, Time } from '../components/ui';
import { fromLocalInput } from '../format';
import { LIVE_MS, useApi, usePagedList } from '../hooks';
import { Link, navigate, path } from '../router';

interface Filters {
  type: string;
  since: string;
  until: string;
  status: DeliveryStatus | '';
}

const NONE: Filters = { type: '', since: '', until: '', status: '' };

/**
 * The event log, newest first, live. Type and time range are filtered by the
 * events API; a delivery status filter lists the deliveries in that status
 * (one row per event and endpoint), as a status belongs to a delivery.
 */
export function EventsPage({ tenantId }: { tenantId: string }) {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const [eventId, setEventId] = useState('');
  const catalogue = useApi<{ data: EventType[] }>('/v1/event-types');

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const open = (e: FormEvent) => {
    e.preventDefault();
    if (eventId.trim()) navigate(path('t', tenantId, 'events', eventId.trim()));
  };

  return (
    <>
      <PageHead title="Events" sub="Everything published to this tenant, and where it was delivered." />
      <Card>
        <form className="filters" onSubmit={apply} aria-label="Filters">
          <div className="field">
            <label htmlFor="f-type">Type</label>
            <input id="f-type" list="f-types" className="mono" value={draft.type} onChange={(e) => setDraft({ ...draft, type: e.target.value })} placeholder="any" />
            <datalist id="f-types">
              {(catalogue.data?.data ?? []).map((t) => (
                <option key={t.name} value={t.name} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor="f-since">From</label>
            <input id="f-since" type="datetime-local" value={draft.since} onChange={(e) => setDraft({ ...draft, since: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor="f-until">To</label>
            <input id="f-until" type="datetime-local" value={draft.until} onChange={(e) => setDraft({ ...draft, until: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor="f-status">Delivery status</label>
            <select id="f-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value as DeliveryStatus | '' })}>
              <option value="">any</option>
              <option value="succeeded">succeeded</option>
              <option value="failed">failed</option>
              <option value="pending">pending</option>
            </select>
          </div>
          <div className="filter-actions">
            <button type="submit" className="btn btn-primary">
              Apply
            </button>
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => {
                setDraft(NONE);
                setFilters(NONE);
              }}
            >
              Clear
            </button>
          </div>
        </form>
        <form className="inline-form id-search" onSubmit={open}>
          <label htmlFor="f-id">Event id</label>
          <input id="f-id" className="mono" value={eventId} onChange={(e) => setEventId(e.target.value)} placeholder="evt_…" />
          <button type="submit" className="btn" disabled={!eventId.trim()}>
            Open
          </button>
        </form>
      </Card>
      {filters.status ? <DeliveriesByStatus tenantId={tenantId} filters={filters} /> : <EventList tenantId={tenantId} filters={filters} />}
    </>
  );
}

function EventList({ tenantId, filters }: { tenantId: string; filters: Filters }) {
  const q = qs({ limit: 50, type: filters.type.trim(), since: fromLocalInput(filters.since), until: fromLocalInput(filters.until) });
  const list = usePagedList<HeraldEvent>(tenantPath(tenantId, `/events${q}`), { pollMs: LIVE_MS });
  const filtered = filters.type || filters.since || filters.until;
  return (
    <Card title="Event log" actions={<Live updatedAt={list.updatedAt} />}>
      <PagedTable
        list={list}
        empty={
          <Empty title={filtered ? 'No events match these filters' : 'No events yet'}>
            {filtered ? 'Widen the time range or clear the type.' : 'Publish one with POST /v1/tenants/:tenantId/events, or send a test event from an endpoint.'}
          </Empty>
        }
        head={
          <>
            <th>Type</th>
            <th>Id</th>
            <th className="hide-sm">Payload</th>
            <th>Published</th>
          </>
        }
        row={(e) => (
          <tr key={e.id} className="clickable" onClick={(ev) => !(ev.target as HTMLElement).closest('a') && navigate(path('t', tenantId, 'events', e.id))}>
            <td className="mono">{e.type}</td>
            <td className="mono">
              <Link to={path('t', tenantId, 'events', e.id)}>{e.id}</Link>
            </td>
            <td className="mono hide-sm truncate muted">{JSON.stringify(e.payload).slice(0, 120)}</td>
            <td>
              <Time iso={e.createdAt} />
            </td>
          </tr>
        )}
      />
    </Card>
  );
}

function DeliveriesByStatus({ tenantId, filters }: { tenantId: string; filters: Filters }) {
  const list = usePagedList<Delivery>(tenantPath(tenantId, `/deliveries${qs({ limit: 50, status: filters.status })}`), { pollMs: LIVE_MS });
  const since = fromLocalInput(filters.since);
  const until = fromLocalInput(filters.until);
  const type = filters.type.trim();
  const rows = list.rows.filter(
    (d) => (!type || d.eventType === type) && (!since || d.createdAt >= since) && (!until || d.createdAt < until),
  );
  return (
    <Card title={`Events with a ${filters.status} delivery`} actions={<Live updatedAt={list.updatedAt} />}>
      <PagedTable
        list={list}
        rows={rows}
        empty={<Empty title={`No ${filters.status} deliveries${list.hasMore ? ' on this page' : ''}`}>{list.hasMore ? 'Load more to look further back.' : null}</Empty>}
        table={(rows) => <DeliveryTable tenantId={tenantId} rows={rows} />}
      />
    </Card>
  );
}
