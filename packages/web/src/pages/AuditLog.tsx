import { useState } from 'react';
import { qs, tenantPath, type AuditEntry } from '../api';
import { Card, Empty, JsonView, Live, PageHead, PagedTable, Time } from '../components/ui';
import { LIVE_MS, usePagedList } from '../hooks';
import { Link, path, useUrlFilters } from '../router';
import { useSession } from '../session';

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
          className="table audit-table"
          empty={<Empty title={applied ? 'No entries for this action' : 'No entries yet'}>{applied ? 'Clear the filter to see every entry.' : 'Changes to endpoints, tokens and deliveries appear here.'}</Empty>}
          head={
            <>
              <th>When</th>
              <th>Action</th>
              <th>Target</th>
              <th>What changed</th>
            </>
          }
          row={(a) => (
            <tr key={a.id}>
              <td>
                <Time iso={a.createdAt} />
              </td>
              <td>
                <div className="mono">{a.action}</div>
                <div className="mono small muted">{a.actor}</div>
              </td>
              <td className="mono small">
                <AuditTarget tenantId={tenantId} entry={a} />
              </td>
              <td className="audit-details">
                <AuditDetails entry={a} />
              </td>
            </tr>
          )}
        />
      </Card>
    </>
  );
}

/** The entry's target as a link to its page, where it has one this session may open. */
function AuditTarget({ tenantId, entry: a }: { tenantId: string; entry: AuditEntry }) {
  const s = useSession();
  if (!a.targetId) return <span className="muted">—</span>;
  const to =
    a.targetType === 'endpoint'
      ? path('t', tenantId, 'endpoints', a.targetId)
      : a.targetType === 'delivery'
        ? path('t', tenantId, 'deliveries', a.targetId)
        : a.targetType === 'event'
          ? path('t', tenantId, 'events', a.targetId)
          : (a.targetType === 'token' || a.targetType === 'portal_link') && s.kind === 'admin'
            ? path('t', tenantId, 'portal-links')
            : null;
  const label = (
    <>
      <span className="muted">{a.targetType ?? ''}</span> {a.targetId}
    </>
  );
  return to ? <Link to={to}>{label}</Link> : <span>{label}</span>;
}

interface Change {
  from: unknown;
  to: unknown;
}

function isChanges(v: unknown): v is Record<string, Change> {
  return v !== null && typeof v === 'object' && Object.values(v).every((c) => c !== null && typeof c === 'object' && 'from' in c && 'to' in c);
}

/** A value in a line: short JSON, cut at 80 characters (the full one is under "Details"). */
function short(v: unknown): string {
  const text = JSON.stringify(v) ?? 'undefined';
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Only what changed, field by field (before → after), then every detail on demand. */
function AuditDetails({ entry: a }: { entry: AuditEntry }) {
  const changes = isChanges(a.details.changes) ? Object.entries(a.details.changes) : null;
  const rest = Object.entries(a.details).filter(([k]) => k !== 'changes' && k !== 'changed');
  if (!changes && !rest.length) return <span className="muted">—</span>;
  return (
    <div>
      {changes ? (
        changes.length ? (
          <ul className="changes">
            {changes.map(([field, c]) => (
              <li key={field}>
                <span className="change-field">{field}</span> <span className="change-from mono">{short(c.from)}</span> → <span className="change-to mono">{short(c.to)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted">saved without changes</span>
        )
      ) : (
        <ul className="changes">
          {rest.map(([k, v]) => (
            <li key={k}>
              <span className="change-field">{k}</span> <span className="mono">{short(v)}</span>
            </li>
          ))}
        </ul>
      )}
      <details className="audit-json">
        <summary>Details</summary>
        <JsonView value={a.details} />
      </details>
    </div>
  );
}
