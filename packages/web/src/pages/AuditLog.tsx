import { useState } from 'react';
import { qs, tenantPath, type AuditEntry } from '../api';
import { Card, Empty, Live, PageHead, PagedTable, Time } from '../components/ui';
import { LIVE_MS, usePagedList } from '../hooks';
import { useUrlFilters } from '../router';

/** Who changed what: every change to this tenant's endpoints, tokens and deliveries. */
export function AuditLogPage({ tenantId }: { tenantId: string }) {
  const [filters, setFilters] = useUrlFilters(['action'] as const);
  const applied = filters.action;
  const [action, setAction] = useState(applied);
  const list = usePagedList<AuditEntry>(tenantPath(tenantId, `/audit-log${qs({ limit: 50, action: applied })}`), { pollMs: LIVE_MS * 2 });
  return (
    <>
      <PageHead title="Audit log" sub="Every change made to this tenant, by whom." />
      <Card title="Entries" actions={<Live updatedAt={list.updatedAt} />}>
        <form
          className="inline-form filter-row"
          onSubmit={(e) => {
            e.preventDefault();
            setFilters({ action: action.trim() });
          }}
        >
          <label htmlFor="audit-action">Action</label>
          <input id="audit-action" className="mono" placeholder="e.g. endpoint.created" value={action} onChange={(e) => setAction(e.target.value)} />
          <button className="btn">Filter</button>
          {applied ? (
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => {
                setAction('');
                setFilters({ action: '' });
              }}
            >
              Clear
            </button>
          ) : null}
        </form>
        <PagedTable
          list={list}
          empty={<Empty title={applied ? 'No entries for this action' : 'No entries yet'} />}
          head={
            <>
              <th>When</th>
              <th>Action</th>
              <th>Actor</th>
              <th className="hide-sm">Target</th>
              <th className="hide-sm">Details</th>
            </>
          }
          row={(a) => (
            <tr key={a.id}>
              <td>
                <Time iso={a.createdAt} />
              </td>
              <td className="mono">{a.action}</td>
              <td className="mono small">{a.actor}</td>
              <td className="mono small hide-sm">{a.targetId ? `${a.targetType ?? ''} ${a.targetId}` : '—'}</td>
              <td className="mono small hide-sm truncate">{Object.keys(a.details).length ? JSON.stringify(a.details) : ''}</td>
            </tr>
          )}
        />
      </Card>
    </>
  );
}
