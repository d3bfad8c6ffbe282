import { useState, type FormEvent, type ReactNode } from 'react';
import { qs, tenantPath, type Delivery, type DeliveryStatus, type Endpoint, type EventType, type HeraldEvent, type Page } from '../api';
import { BulkRetry } from '../components/BulkRetry';
import { DeliveryTable } from '../components/DeliveryTable';
import { Card, Empty, Live, PageHead, PagedTable, Time } from '../components/ui';
import { fromLocalInput, toLocalInput } from '../format';
import { LIVE_MS, useApi, usePagedList } from '../hooks';
import { Link, navigate, path, useSearch, useUrlFilters } from '../router';
import { useCanWrite } from '../session';
import { patternsOf } from '../type-patterns';

/** The Events page's filters, as kept in the address: times are ISO instants, `q` an event id or `field=value`. */
const KEYS = ['type', 'endpoint', 'status', 'since', 'until', 'q'] as const;
type Filters = Record<(typeof KEYS)[number], string>;

/**
 * The event log, newest first, live. Every filter lives in the address, so
 * a filtered view can be shared and reloaded. Type (an exact name or a
 * pattern such as `campaign.*`) and time filter both lists; a delivery
 * status or an endpoint lists deliveries instead (one row per event and
 * endpoint), as those belong to a delivery; the search finds an event by
 * its id or by a payload field.
 */
export function EventsPage({ tenantId }: { tenantId: string }) {
  const [filters, setFilters] = useUrlFilters(KEYS);
  const search = useSearch();
  const byDelivery = Boolean(filters.status || filters.endpoint);
  return (
    <>
      <PageHead title="Events" sub="Everything published to this tenant, and where it was delivered." />
      <Card>
        <FilterPanel active={KEYS.filter((k) => filters[k]).length}>
          {/* keyed by the address: Back, Forward and a pasted link refill the form */}
          <FilterForm key={search} tenantId={tenantId} filters={filters} onApply={setFilters} />
          <SearchForm key={`q${filters.q}`} q={filters.q} onSearch={(q) => setFilters({ q })} disabled={byDelivery} />
        </FilterPanel>
      </Card>
      {byDelivery ? <DeliveryList tenantId={tenantId} filters={filters} /> : <EventList tenantId={tenantId} filters={filters} onClear={() => setFilters(blank())} />}
    </>
  );
}

/** The filters, open on a wide screen and folded on a phone (where they would fill the screen above the list). */
function FilterPanel({ active, children }: { active: number; children: ReactNode }) {
  const [open] = useState(() => window.innerWidth > 760);
  return (
    <details className="filter-panel" open={open}>
      <summary>
        Filters and search{active ? <span className="chip">{active} active</span> : null}
      </summary>
      {children}
    </details>
  );
}

const blank = (): Filters => ({ type: '', endpoint: '', status: '', since: '', until: '', q: '' });

function FilterForm({ tenantId, filters, onApply }: { tenantId: string; filters: Filters; onApply(f: Partial<Filters>): void }) {
  const catalogue = useApi<{ data: EventType[] }>('/v1/event-types');
  const endpoints = useApi<Page<Endpoint>>(tenantPath(tenantId, '/endpoints?limit=250'));
  const local = (iso: string) => (iso ? toLocalInput(new Date(iso)) : '');
  const [draft, setDraft] = useState({ ...filters, since: local(filters.since), until: local(filters.until) });
  const set = (k: keyof Filters, v: string) => setDraft({ ...draft, [k]: v });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    onApply({ ...draft, type: draft.type.trim(), since: fromLocalInput(draft.since) ?? '', until: fromLocalInput(draft.until) ?? '' });
  };
  const names = (catalogue.data?.data ?? []).map((t) => t.name);
  return (
    <form className="filters" onSubmit={apply} aria-label="Filters">
      <div className="field">
        <label htmlFor="f-type">Type</label>
        <input id="f-type" list="f-types" className="mono" value={draft.type} onChange={(e) => set('type', e.target.value)} placeholder="any, or e.g. invoice.*" />
        <datalist id="f-types">
          {[...patternsOf(names), ...names].map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor="f-endpoint">Endpoint</label>
        <select id="f-endpoint" value={draft.endpoint} onChange={(e) => set('endpoint', e.target.value)}>
          <option value="">any</option>
          {(endpoints.data?.data ?? []).map((ep) => (
            <option key={ep.id} value={ep.id}>
              {ep.url}
            </option>
          ))}
          {draft.endpoint && !endpoints.data?.data.some((ep) => ep.id === draft.endpoint) ? <option value={draft.endpoint}>{draft.endpoint}</option> : null}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-status">Delivery status</label>
        <select id="f-status" value={draft.status} onChange={(e) => set('status', e.target.value)}>
          <option value="">any</option>
          <option value="succeeded">succeeded</option>
          <option value="failed">failed</option>
          <option value="pending">pending</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-since">From</label>
        <input id="f-since" type="datetime-local" value={draft.since} onChange={(e) => set('since', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="f-until">To</label>
        <input id="f-until" type="datetime-local" value={draft.until} onChange={(e) => set('until', e.target.value)} />
      </div>
      <div className="filter-actions">
        <button type="submit" className="btn btn-primary">
          Apply
        </button>
        <button type="button" className="btn btn-ghost" onClick={() => onApply(blank())}>
          Clear
        </button>
      </div>
    </form>
  );
}

function SearchForm({ q, onSearch, disabled }: { q: string; onSearch(q: string): void; disabled: boolean }) {
  const [text, setText] = useState(q);
  return (
    <form
      className="inline-form id-search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch(text.trim());
      }}
    >
      <label htmlFor="f-q">Search</label>
      <input id="f-q" className="mono grow" value={text} onChange={(e) => setText(e.target.value)} placeholder="evt_… or a payload field: customer.id=cus_42" disabled={disabled} />
      <button type="submit" className="btn" disabled={disabled}>
        Search
      </button>
      {disabled ? <span className="muted small">Search looks through events; clear the endpoint and status filters to use it.</span> : null}
    </form>
  );
}

/** The API's query for a search: `field=value` is a payload search, anything else an event id. */
function searchQuery(q: string): Record<string, string> {
  if (!q) return {};
  const eq = q.indexOf('=');
  if (eq < 0) return { id: q };
  return { payloadField: q.slice(0, eq).trim(), payloadValue: q.slice(eq + 1).trim() };
}

function EventList({ tenantId, filters, onClear }: { tenantId: string; filters: Filters; onClear(): void }) {
  const q = qs({ limit: 50, type: filters.type, since: filters.since, until: filters.until, ...searchQuery(filters.q) });
  const list = usePagedList<HeraldEvent>(tenantPath(tenantId, `/events${q}`), { pollMs: LIVE_MS });
  const filtered = Boolean(filters.type || filters.since || filters.until || filters.q);
  const payloadSearch = filters.q.includes('=');
  return (
    <Card title={filters.q ? `Events matching ${filters.q}` : 'Event log'} actions={<Live updatedAt={list.updatedAt} />}>
      <PagedTable
        list={list}
        empty={
          <Empty title={filtered ? 'No events match these filters' : 'No events yet'}>
            {filtered ? (
              <>
                {payloadSearch && list.hasMore ? 'None among the newest events searched; Load more searches further back. ' : 'Widen the time range or the type, or '}
                <button type="button" className="link-btn" onClick={onClear}>
                  clear the filters
                </button>
                .
              </>
            ) : (
              'Publish one with POST /v1/tenants/:tenantId/events, or send a test event from an endpoint.'
            )}
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

function DeliveryList({ tenantId, filters }: { tenantId: string; filters: Filters }) {
  const q = qs({ limit: 50, status: filters.status, endpointId: filters.endpoint, eventType: filters.type, since: filters.since, until: filters.until });
  const list = usePagedList<Delivery>(tenantPath(tenantId, `/deliveries${q}`), { pollMs: LIVE_MS });
  const status = filters.status as DeliveryStatus | '';
  const canWrite = useCanWrite();
  return (
    <Card
      title={status ? `Events with a ${status} delivery` : 'Deliveries to this endpoint'}
      actions={
        <>
          {status === 'failed' && canWrite ? (
            <BulkRetry
              tenantId={tenantId}
              filter={{ endpointId: filters.endpoint || undefined, eventType: filters.type || undefined, since: filters.since || undefined, until: filters.until || undefined }}
              onRetried={list.reload}
            />
          ) : null}
          <Live updatedAt={list.updatedAt} />
        </>
      }
    >
      <PagedTable
        list={list}
        empty={<Empty title={`No ${status ? `${status} ` : ''}deliveries match these filters`}>Widen the time range or the type, or choose another status.</Empty>}
        table={(rows) => <DeliveryTable tenantId={tenantId} rows={rows} />}
      />
    </Card>
  );
}
