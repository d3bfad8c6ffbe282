import type { Delivery } from '../api';
import { Link, path } from '../router';
import { HttpStatus, StatusBadge, TableWrap, Time } from './ui';

/**
 * Every list of deliveries (Overview, Events, an event, an endpoint) draws
 * this one table, so each answers the same questions at a glance: what
 * failed (status, HTTP status or network error code), where (the endpoint,
 * linked), how often it was tried, and when it is tried next.
 */
export function DeliveryTable({ tenantId, rows }: { tenantId: string; rows: Delivery[] }) {
  return (
    <TableWrap>
      <table className="table delivery-table">
        <thead>
          <tr>
            <th>Status</th>
            <th>Endpoint</th>
            <th>Answer</th>
            <th>Event</th>
            <th className="hide-sm">Attempts</th>
            <th className="hide-sm">Next attempt</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <DeliveryRow key={d.id} tenantId={tenantId} d={d} />
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function DeliveryRow({ tenantId, d }: { tenantId: string; d: Delivery }) {
  const delivery = path('t', tenantId, 'deliveries', d.id);
  return (
    <tr>
      <td>
        <div className="stack">
          <Link to={delivery} aria-label={`Delivery ${d.id}: ${d.status}`}>
            <StatusBadge status={d.status} />
          </Link>
          <Link className="mono id-link hide-sm" to={delivery} title={d.id}>
            {d.id}
          </Link>
        </div>
      </td>
      <td className="mono truncate endpoint-cell">
        <Link to={path('t', tenantId, 'endpoints', d.endpointId)} title={d.endpointUrl ?? d.endpointId}>
          {d.endpointUrl ?? d.endpointId}
        </Link>
      </td>
      <td>
        <DeliveryAnswer d={d} />
      </td>
      <td>
        <div className="stack">
          <span className="mono">{d.eventType}</span>
          <Link className="mono id-link" to={path('t', tenantId, 'events', d.eventId)} title={d.eventId}>
            {d.eventId}
          </Link>
        </div>
      </td>
      <td className="hide-sm num">{d.attempts}</td>
      <td className="hide-sm">
        <NextAttempt d={d} />
      </td>
      <td>
        <Time iso={d.createdAt} />
      </td>
    </tr>
  );
}

/** The last answer: its HTTP status, else the network error code (connect_refused, timeout, …), with the message on hover. */
export function DeliveryAnswer({ d }: { d: Pick<Delivery, 'lastStatus' | 'lastErrorCode' | 'lastError'> }) {
  if (d.lastStatus !== null) return <HttpStatus status={d.lastStatus} />;
  if (d.lastErrorCode || d.lastError) {
    return (
      <span className="badge badge-bad" title={d.lastError ?? undefined}>
        {d.lastErrorCode ?? 'error'}
      </span>
    );
  }
  return <span className="muted">—</span>;
}

function NextAttempt({ d }: { d: Delivery }) {
  if (d.status !== 'pending') return <span className="muted">—</span>;
  if (!d.nextAttemptAt) return <span>in progress</span>;
  return <Time iso={d.nextAttemptAt} />;
}
