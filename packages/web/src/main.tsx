import { StrictMode, useCallback, useEffect, useMemo, useState, type JSX } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, Client, type SessionInfo } from './api';
import { Layout } from './components/Layout';
import { ErrorBox, Spinner } from './components/ui';
import { AuditLogPage } from './pages/AuditLog';
import { DeliveryPage } from './pages/Delivery';
import { EndpointPage } from './pages/Endpoint';
import { EndpointFormPage } from './pages/EndpointForm';
import { EndpointsPage } from './pages/Endpoints';
import { EventPage } from './pages/Event';
import { EventsPage } from './pages/Events';
import { EventTypesPage } from './pages/EventTypes';
import { OperatorPage } from './pages/Operator';
import { OverviewPage } from './pages/Overview';
import { PortalLinksPage } from './pages/PortalLinks';
import { SignInPage } from './pages/SignIn';
import { TenantsPage } from './pages/Tenants';
import { match, navigate, path, usePath } from './router';
import { PORTAL, SessionContext, loadToken, saveToken, takeTokenFromFragment, useSession, type Session } from './session';
import './styles.css';

takeTokenFromFragment();

type Boot = { state: 'checking' } | { state: 'signed-out'; reason?: string } | { state: 'signed-in'; token: string; info: SessionInfo };

function App() {
  const [boot, setBoot] = useState<Boot>(() => (loadToken() ? { state: 'checking' } : { state: 'signed-out' }));

  const signOut = useCallback((reason?: string) => {
    saveToken(null);
    setBoot({ state: 'signed-out', reason });
  }, []);

  const signIn = useCallback(
    async (token: string): Promise<ApiError | null> => {
      try {
        const info = await new Client(token).get<SessionInfo>('/v1/session');
        saveToken(token);
        setBoot({ state: 'signed-in', token, info });
        return null;
      } catch (err) {
        return err instanceof ApiError ? err : new ApiError(0, 'client', String(err));
      }
    },
    [],
  );

  useEffect(() => {
    if (boot.state !== 'checking') return;
    const token = loadToken();
    if (!token) return setBoot({ state: 'signed-out' });
    void signIn(token).then((err) => {
      if (err) signOut(err.status === 401 ? (PORTAL ? 'expired' : 'The saved token is no longer valid.') : err.message);
    });
  }, [boot.state, signIn, signOut]);

  const session = useMemo<Session | null>(() => {
    if (boot.state !== 'signed-in') return null;
    const client = new Client(boot.token, () => signOut(PORTAL ? 'expired' : 'Your token was refused (expired or revoked). Sign in again.'));
    return { ...boot.info, client, signOut: () => signOut() };
  }, [boot, signOut]);

  useEffect(() => {
    // The portal takes the platform's colour and name.
    const color = session?.portal?.color;
    if (color) document.documentElement.style.setProperty('--accent', color);
    document.title = session?.portal?.platformName ? `${session.portal.platformName} · Webhooks` : 'Herald';
  }, [session]);

  if (boot.state === 'checking') return <Spinner label="Signing in…" />;
  if (boot.state === 'signed-out') {
    if (PORTAL) return <PortalSignedOut reason={boot.reason} />;
    return <SignInPage onSignIn={signIn} notice={boot.reason} />;
  }
  return (
    <SessionContext.Provider value={session}>
      <Routes />
    </SessionContext.Provider>
  );
}

function PortalSignedOut({ reason }: { reason?: string }) {
  return (
    <div className="center-page">
      <div className="card narrow">
        <h1>{reason === 'expired' ? 'This link is no longer valid' : 'No access'}</h1>
        <p>
          {reason === 'expired'
            ? 'Portal links are valid for a limited time. Open the webhooks page again from the application that sent you here to get a fresh one.'
            : 'Open this page from the link your platform gave you.'}
        </p>
        {reason && reason !== 'expired' ? <ErrorBox error={new ApiError(0, 'client', reason)} /> : null}
      </div>
    </div>
  );
}

const TENANT_ROUTES: [string, (p: Record<string, string>) => JSX.Element][] = [
  ['/t/:tenantId/overview', (p) => <OverviewPage tenantId={p.tenantId!} />],
  ['/t/:tenantId/endpoints', (p) => <EndpointsPage tenantId={p.tenantId!} />],
  ['/t/:tenantId/endpoints/new', (p) => <EndpointFormPage tenantId={p.tenantId!} />],
  ['/t/:tenantId/endpoints/:endpointId', (p) => <EndpointPage key={p.endpointId} tenantId={p.tenantId!} endpointId={p.endpointId!} />],
  ['/t/:tenantId/endpoints/:endpointId/edit', (p) => <EndpointFormPage tenantId={p.tenantId!} endpointId={p.endpointId!} />],
  ['/t/:tenantId/events', (p) => <EventsPage tenantId={p.tenantId!} />],
  ['/t/:tenantId/events/:eventId', (p) => <EventPage key={p.eventId} tenantId={p.tenantId!} eventId={p.eventId!} />],
  ['/t/:tenantId/deliveries/:deliveryId', (p) => <DeliveryPage key={p.deliveryId} tenantId={p.tenantId!} deliveryId={p.deliveryId!} />],
  ['/t/:tenantId/event-types', (p) => <EventTypesPage tenantId={p.tenantId!} />],
  ['/t/:tenantId/audit-log', (p) => <AuditLogPage tenantId={p.tenantId!} />],
  ['/t/:tenantId/portal-links', (p) => <PortalLinksPage tenantId={p.tenantId!} />],
];

function Routes() {
  const here = usePath();
  const s = useSession();
  const home = s.kind === 'admin' ? '/tenants' : path('t', s.tenantId ?? '', 'overview');

  useEffect(() => {
    if (here === '/' || here === '/sign-in') navigate(home, { replace: true });
  }, [here, home]);

  // The operator view reads every tenant: the admin's only, never in the customer portal.
  if (here === '/operator' && s.kind === 'admin' && !PORTAL) {
    return (
      <Layout tenantId={null}>
        <OperatorPage />
      </Layout>
    );
  }
  if (here === '/tenants' && s.kind === 'admin') {
    return (
      <Layout tenantId={null}>
        <TenantsPage />
      </Layout>
    );
  }
  for (const [pattern, render] of TENANT_ROUTES) {
    const params = match(pattern, here);
    if (params) {
      return (
        <Layout tenantId={params.tenantId!}>
          {/* keyed by tenant so nothing of one tenant's page survives a switch */}
          <div key={params.tenantId}>{render(params)}</div>
        </Layout>
      );
    }
  }
  return (
    <Layout tenantId={s.tenantId}>
      <div className="empty">
        <div className="empty-title">Page not found</div>
        <div className="empty-body">
          <a href="#" onClick={(e) => (e.preventDefault(), navigate(home))}>
            Go to the start page
          </a>
        </div>
      </div>
    </Layout>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
