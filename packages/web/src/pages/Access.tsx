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

/** Admin: who can reach this tenant with an API token; revoke one. (Portal links: PortalLinkList.) */
export function AccessCards({ tenantId }: { tenantId: string }) {
  const { client } = useSession();
  const tokens = useApi<{ data: TokenInfo[] }>(tenantPath(tenantId, '/tokens'));
  const [confirm, setConfirm] = useState<TokenInfo | null>(null);
  const revokeToken = useAction(async (id: string) => client.delete(tenantPath(tenantId, `/tokens/${encodeURIComponent(id)}`)));

  const onConfirm = async () => {
    if (!confirm) return;
    await revokeToken.run(confirm.id);
    tokens.reload();
    setConfirm(null);
  };

  return (
    <>
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
                    <button type="button" className="btn btn-small btn-danger" aria-label={`Revoke ${t.name || t.id}`} onClick={() => setConfirm(t)}>
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
        title="Revoke this token?"
        confirmLabel="Revoke token"
        danger
        pending={revokeToken.pending}
        onCancel={() => setConfirm(null)}
        onConfirm={() => void onConfirm()}
      >
        <p>{confirm ? `Requests with the token ${confirm.name || confirm.id} will be refused from now on. This cannot be undone.` : null}</p>
      </ConfirmDialog>
    </>
  );
}
