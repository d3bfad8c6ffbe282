import { useState, type ReactNode } from 'react';
import { tenantPath, type Page, type Tenant } from '../api';
import { useApi, type Resource } from '../hooks';
import { viewState } from '../state';
import { PageNotReady } from './StateView';
import { Link, navigate, path as p, usePath } from '../router';
import { PORTAL, useSession } from '../session';

/** The frame of every signed-in page: brand, tenant, navigation, sign-out. */
export function Layout({ tenantId: routeTenant, children }: { tenantId: string | null; children: ReactNode }) {
  const s = useSession();
  // A tenant token's navigation always leads to its own tenant, whatever the address says.
  const tenantId = s.kind === 'admin' ? routeTenant : s.tenantId;
  const here = usePath();
  const [menu, setMenu] = useState(false);
  const tenant = useApi<Tenant>(tenantId ? tenantPath(tenantId) : null);
  const brand = s.portal?.platformName ?? 'Herald';

  const items = tenantId
    ? [
        ['Overview', p('t', tenantId, 'overview')],
        ['Endpoints', p('t', tenantId, 'endpoints')],
        ['Events', p('t', tenantId, 'events')],
        ['Event types', p('t', tenantId, 'event-types')],
        ['Audit log', p('t', tenantId, 'audit-log')],
        ...(s.kind === 'admin' ? [['Portal links', p('t', tenantId, 'portal-links')]] : []),
      ]
    : [];

  return (
    <div className={`shell ${menu ? 'menu-open' : ''}`}>
      <aside className="side">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            {brand.slice(0, 1).toUpperCase()}
          </span>
          <div className="brand-text">
            <span className="brand-name">{brand}</span>
            <span className="brand-sub">
              {s.kind === 'admin' ? 'Admin dashboard' : 'Webhooks'}
              {s.role === 'read' ? ' · read-only' : ''}
            </span>
          </div>
          <button type="button" className="menu-btn" aria-label="Menu" aria-expanded={menu} onClick={() => setMenu(!menu)}>
            ☰
          </button>
        </div>
        {s.kind === 'admin' ? <TenantPicker tenantId={tenantId} /> : null}
        {tenantId && s.kind !== 'admin' ? (
          <div className="tenant-name" title={tenantId}>
            {tenant.data?.name ?? tenantId}
          </div>
        ) : null}
        <nav className="nav" aria-label="Main" onClick={() => setMenu(false)}>
          {items.map(([label, to]) => (
            <Link key={to} to={to!} className={here === to || here.startsWith(`${to}/`) ? 'active' : ''} aria-current={here === to ? 'page' : undefined}>
              {label}
            </Link>
          ))}
          {s.kind === 'admin' ? (
            <Link to="/tenants" className={here === '/tenants' ? 'active' : ''}>
              All tenants
            </Link>
          ) : null}
          {s.kind === 'admin' && !PORTAL ? (
            <Link to="/operator" className={here === '/operator' ? 'active' : ''} aria-current={here === '/operator' ? 'page' : undefined}>
              Operator
            </Link>
          ) : null}
        </nav>
        <div className="side-foot">
          {!PORTAL ? (
            <a className="small" href="/docs" target="_blank" rel="noopener">
              API reference
            </a>
          ) : null}
          {s.portal ? <div className="small muted">Link valid until {new Date(s.portal.expiresAt).toLocaleString()}</div> : null}
          {!PORTAL ? (
            <button type="button" className="btn btn-small btn-ghost" onClick={s.signOut}>
              Sign out
            </button>
          ) : null}
        </div>
      </aside>
      <main className="main">
        <TenantGate tenantId={tenantId} tenant={tenant} admin={s.kind === 'admin'}>
          {children}
        </TenantGate>
      </main>
    </div>
  );
}

/**
 * A tenant's pages appear once the tenant is known to exist: an unknown
 * tenant is one "not found" with a way out, not an error on every card
 * above an invitation to add its first endpoint.
 */
function TenantGate({ tenantId, tenant, admin, children }: { tenantId: string | null; tenant: Resource<Tenant>; admin: boolean; children: ReactNode }) {
  if (tenantId === null) return <>{children}</>;
  const state = viewState(tenant);
  if (state.kind === 'data') return <>{children}</>;
  return (
    <PageNotReady
      state={state}
      title={tenant.error?.status === 404 ? `No tenant "${tenantId}"` : 'This tenant could not be loaded'}
      back={admin ? <Link to="/tenants">Choose a tenant</Link> : null}
      onRetry={tenant.reload}
    />
  );
}

function TenantPicker({ tenantId }: { tenantId: string | null }) {
  const tenants = useApi<Page<Tenant>>('/v1/tenants?limit=250');
  const list = tenants.data?.data ?? [];
  const known = tenantId === null || list.some((t) => t.id === tenantId);
  return (
    <div className="tenant-picker">
      <label htmlFor="tenant-picker">Tenant</label>
      <select
        id="tenant-picker"
        value={tenantId ?? ''}
        onChange={(e) => {
          if (e.target.value) navigate(p('t', e.target.value, 'overview'));
        }}
      >
        <option value="" disabled>
          {tenants.loading ? 'Loading…' : list.length ? 'Choose a tenant' : 'No tenants yet'}
        </option>
        {!known && tenantId ? <option value={tenantId}>{tenantId}</option> : null}
        {list.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name} ({t.id})
          </option>
        ))}
      </select>
    </div>
  );
}
