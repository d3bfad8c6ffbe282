import { tenantPath, type Endpoint, type EndpointHealth, type TenantStats } from '../api';
import { statsQuery } from '../components/charts';
import { Card, Empty, ErrorBox, HttpStatus, Live, PageHead, PagedTable, StatusBadge, Time } from '../components/ui';
import { ms, percent } from '../format';
import { LIVE_MS, useApi, usePagedList } from '../hooks';
import { Link, navigate, path } from '../router';
import { useCanWrite } from '../session';

/** Every endpoint of a tenant with its health over the last 24 hours. */
export function EndpointsPage({ tenantId }: { tenantId: string }) {
  const list = usePagedList<Endpoint>(tenantPath(tenantId, '/endpoints?limit=50'), { pollMs: LIVE_MS * 5 });
  const stats = useApi<TenantStats>(tenantPath(tenantId, `/stats${statsQuery('24h')}`), { pollMs: LIVE_MS * 2, keepPrevious: true });
  const canWrite = useCanWrite();
  const health = new Map<string, EndpointHealth>((stats.data?.endpoints ?? []).map((h) => [h.endpointId, h]));

  return (
    <>
      <PageHead
        title="Endpoints"
        sub="Where events are delivered. Health is over the last 24 hours."
        actions={
          canWrite ? (
            <Link className="btn btn-primary" to={path('t', tenantId, 'endpoints', 'new')}>
              Add endpoint
            </Link>
          ) : null
        }
      />
      <Card actions={<Live updatedAt={stats.updatedAt} />}>
        {/* the list stands without its health figures: their error is a note above it, not in its place */}
        {stats.error && list.rows.length ? <ErrorBox error={stats.error} title="Health figures not available" /> : null}
        <PagedTable
          list={list}
          className="table endpoints-table"
          empty={
            <Empty title="No endpoints yet">
              An endpoint is a URL that receives this tenant's events, signed, with retries.{' '}
              {canWrite ? <Link to={path('t', tenantId, 'endpoints', 'new')}>Add the first one.</Link> : null}
            </Empty>
          }
          head={
            <>
              <th>Endpoint</th>
              <th className="hide-sm">Events</th>
              <th>Success (24 h)</th>
              <th className="hide-sm">p95</th>
              <th>Last attempt</th>
              <th>State</th>
            </>
          }
          row={(e) => {
            const h = health.get(e.id);
            const rate = h?.successRate ?? null;
            return (
              <tr key={e.id} className="clickable" onClick={(ev) => !(ev.target as HTMLElement).closest('a') && navigate(path('t', tenantId, 'endpoints', e.id))}>
                <td className="ep-cell">
                  <Link to={path('t', tenantId, 'endpoints', e.id)} className="mono break">
                    {e.url}
                  </Link>
                  {e.description ? <div className="muted small">{e.description}</div> : null}
                </td>
                <td className="hide-sm">
                  <TypeChips types={e.eventTypes} />
                </td>
                <td>
                  <span className={`rate ${rate === null ? '' : rate >= 0.99 ? 'ok-text' : rate >= 0.9 ? 'warn-text' : 'bad-text'}`}>{percent(rate)}</span>
                  {h?.attempts ? <div className="muted small">{h.attempts} attempts</div> : <div className="muted small">no traffic</div>}
                </td>
                <td className="hide-sm">{ms(h?.p95Ms)}</td>
                <td>
                  {h?.lastAttempt ? (
                    <>
                      <HttpStatus status={h.lastAttempt.status} error={h.lastAttempt.errorCode} /> <Time iso={h.lastAttempt.at} />
                    </>
                  ) : (
                    <span className="muted">never</span>
                  )}
                </td>
                <td>
                  {e.disabled ? (
                    <span title={e.disabledReason ?? undefined}>
                      <StatusBadge status="disabled">Disabled</StatusBadge>
                    </span>
                  ) : (
                    <StatusBadge status="enabled">Enabled</StatusBadge>
                  )}
                </td>
              </tr>
            );
          }}
        />
      </Card>
    </>
  );
}

export function TypeChips({ types }: { types: string[] | null }) {
  if (!types) return <span className="chip">all events</span>;
  if (!types.length) return <span className="muted">none</span>;
  return (
    <span className="chips">
      {types.slice(0, 4).map((t) => (
        <span key={t} className="chip mono">
          {t}
        </span>
      ))}
      {types.length > 4 ? <span className="chip">+{types.length - 4}</span> : null}
    </span>
  );
}
