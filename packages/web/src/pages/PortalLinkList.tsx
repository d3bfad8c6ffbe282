import { useEffect, useState } from 'react';
import { tenantPath } from '../api';
import { Card, ConfirmDialog, Empty, ErrorBox, CardTable, Time } from '../components/ui';
import { useAction, useApi } from '../hooks';
import { useSession } from '../session';
import { viewState } from '../state';
import { StateView } from '../components/StateView';

interface PortalLinkInfo {
  id: string;
  createdAt: string;
  expiresAt: string;
  role: 'manage' | 'read';
  platformName: string | null;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

const PAGE = 100;

/**
 * Admin: the tenant's portal links (never their URLs, shown once at
 * creation), each revocable, and "revoke all". `version` changes when the
 * page created a link, to list it.
 */
export function PortalLinkList({ tenantId, version }: { tenantId: string; version: number }) {
  const { client } = useSession();
  const links = useApi<{ data: PortalLinkInfo[]; nextCursor: string | null }>(tenantPath(tenantId, `/portal-links?limit=${PAGE}`));
  const [confirm, setConfirm] = useState<{ kind: 'all' } | { kind: 'one'; link: PortalLinkInfo } | null>(null);
  const [allRevoked, setAllRevoked] = useState(false);
  const revokeOne = useAction(async (id: string) => client.delete(tenantPath(tenantId, `/portal-links/${encodeURIComponent(id)}`)));
  const revokeAll = useAction(async () => client.delete(tenantPath(tenantId, '/portal-links')));
  const { reload } = links;
  useEffect(() => {
    if (version > 0) reload();
  }, [version, reload]);

  const onConfirm = async () => {
    if (!confirm) return;
    if (confirm.kind === 'all') {
      await revokeAll.run();
      setAllRevoked(true);
    } else {
      await revokeOne.run(confirm.link.id);
    }
    reload();
    setConfirm(null);
  };

  return (
    <Card title="Portal links">
      <ErrorBox error={revokeOne.error ?? revokeAll.error} title="Not revoked" />
      <StateView
        state={viewState(links, (l) => l.data.length === 0)}
        onRetry={reload}
        empty={<Empty title="No portal links">Create one above; it is listed here, without its URL.</Empty>}
      >
        {(list) => (
          <>
            <CardTable label="Portal links" columns={['Link', 'Role', 'Created', 'Expires', 'Status', '']}>
              {list.data.map((l) => (
                <tr key={l.id}>
                  <td>
                    {l.platformName ?? <span className="muted">no name</span>} <span className="mono muted small">{l.id}</span>
                  </td>
                  <td data-label="Role">{l.role}</td>
                  <td data-label="Created">
                    <Time iso={l.createdAt} />
                  </td>
                  <td data-label="Expires">
                    <Time iso={l.expiresAt} />
                  </td>
                  <td data-label="Status">{l.revokedAt ? <>revoked <Time iso={l.revokedAt} /></> : l.status}</td>
                  <td>
                    {l.status === 'active' ? (
                      <button type="button" className="btn btn-small btn-danger" aria-label={`Revoke ${l.id}`} onClick={() => setConfirm({ kind: 'one', link: l })}>
                        Revoke
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </CardTable>
            {list.nextCursor ? <p className="muted small">The newest {PAGE} links are shown; GET /v1/tenants/{'{tenantId}'}/portal-links pages through the rest.</p> : null}
          </>
        )}
      </StateView>
      <p className="muted small">Revoking all stops every link of this tenant issued until now, including links from before they were listed. Links you create afterwards work.</p>
      {allRevoked ? <p role="status">All earlier portal links are revoked.</p> : null}
      <div className="form-actions">
        <button type="button" className="btn btn-danger" onClick={() => setConfirm({ kind: 'all' })}>
          Revoke all portal links
        </button>
      </div>
      <ConfirmDialog
        open={confirm !== null}
        title={confirm?.kind === 'all' ? 'Revoke every portal link?' : 'Revoke this portal link?'}
        confirmLabel={confirm?.kind === 'all' ? 'Revoke links' : 'Revoke link'}
        danger
        pending={revokeOne.pending || revokeAll.pending}
        onCancel={() => setConfirm(null)}
        onConfirm={() => void onConfirm()}
      >
        <p>
          {confirm?.kind === 'one'
            ? `Whoever holds the link ${confirm.link.id} loses access now. This cannot be undone.`
            : 'Everyone holding a portal link of this tenant loses access now. This cannot be undone.'}
        </p>
      </ConfirmDialog>
    </Card>
  );
}
