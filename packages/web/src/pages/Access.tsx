import { useState } from 'react';
import { tenantPath } from '../api';
import { Card, ConfirmDialog, Empty, ErrorBox, CardTable, Time } from '../components/ui';
import { useAction, useApi } from '../hooks';
import { useSession } from '../session';
import { viewState } from '../state';
import { StateView } from '../components/StateView';

interface TokenInfo {
  id: string;
  name: string;
  role: 'manage' | 'read';
  createdAt: string;
  revokedAt: string | null;
}

/**
 * Admin: who can reach this tenant. Its API tokens (revoke one) and its
 * portal links (revoke every link issued so far: links are signed, not
 * stored, so they go all at once).
 */
export function AccessCards({ tenantId }: { tenantId: string }) {
  const { client } = useSession();
  const tokens = useApi<{ data: TokenInfo[] }>(tenantPath(tenantId, '/tokens'));
  const [confirm, setConfirm] = useState<{ kind: 'links' } | { kind: 'token'; token: TokenInfo } | null>(null);
  const [linksRevoked, setLinksRevoked] = useState(false);
  const revokeToken = useAction(async (id: string) => client.delete(tenantPath(tenantId, `/tokens/${encodeURIComponent(id)}`)));
  const revokeLinks = useAction(async () => client.delete(tenantPath(tenantId, '/portal-links')));

  const onConfirm = async () => {
    if (!confirm) return;
    if (confirm.kind === 'links') {
      await revokeLinks.run();
      setLinksRevoked(true);
    } else {
      await revokeToken.run(confirm.token.id);
      tokens.reload();
    }
    setConfirm(null);
  };

  return (
    <>
      <Card title="Revoke portal links">
        <p className="muted small">Every portal link of this tenant issued until now stops working at once. Links you create afterwards work.</p>
        <ErrorBox error={revokeLinks.error} />
        {linksRevoked ? <p role="status">All earlier portal links are revoked.</p> : null}
        <div className="form-actions">
          <button type="button" className="btn btn-danger" onClick={() => setConfirm({ kind: 'links' })}>
            Revoke all portal links
          </button>
        </div>
      </Card>
      <Card title="API tokens">
        <ErrorBox error={revokeToken.error} title="Not revoked" />
        <StateView
          state={viewState(tokens, (t) => t.data.length === 0)}
          onRetry={tokens.reload}
          empty={<Empty title="No API tokens">Create one with POST /v1/tenants/{tenantId}/tokens.</Empty>}
        >
          {(list) => (
          <CardTable label="API tokens" columns={['Name', 'Role', 'Created', 'Status', '']}>
            {list.data.map((t) => (
              <tr key={t.id}>
                <td>
                  {t.name || <span className="muted">unnamed</span>} <span className="mono muted small">{t.id}</span>
                </td>
                <td data-label="Role">{t.role}</td>
                <td data-label="Created">
                  <Time iso={t.createdAt} />
                </td>
                <td data-label="Status">{t.revokedAt ? <>revoked <Time iso={t.revokedAt} /></> : 'active'}</td>
                <td>
                  {t.revokedAt ? null : (
                    <button type="button" className="btn btn-small btn-danger" aria-label={`Revoke ${t.name || t.id}`} onClick={() => setConfirm({ kind: 'token', token: t })}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </CardTable>
        )}
        </StateView>
      </Card>
      <ConfirmDialog
        open={confirm !== null}
        title={confirm?.kind === 'links' ? 'Revoke every portal link?' : 'Revoke this token?'}
        confirmLabel={confirm?.kind === 'links' ? 'Revoke links' : 'Revoke token'}
        danger
        pending={revokeLinks.pending || revokeToken.pending}
        onCancel={() => setConfirm(null)}
        onConfirm={() => void onConfirm()}
      >
        <p>
          {confirm?.kind === 'token'
            ? `Requests with the token ${confirm.token.name || confirm.token.id} will be refused from now on. This cannot be undone.`
            : 'Everyone holding a portal link of this tenant loses access now. This cannot be undone.'}
        </p>
      </ConfirmDialog>
    </>
  );
}
