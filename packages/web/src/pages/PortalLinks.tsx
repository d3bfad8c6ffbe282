import { useState, type FormEvent } from 'react';
import { tenantPath } from '../api';
import { Card, CopyButton, ErrorBox, Field, PageHead } from '../components/ui';
import { formatTime } from '../format';
import { useAction } from '../hooks';
import { useSession } from '../session';
import { AccessCards } from './Access';
import { PortalLinkList } from './PortalLinkList';

const EXPIRIES = [
  [3600, '1 hour'],
  [86_400, '1 day'],
  [7 * 86_400, '7 days'],
  [30 * 86_400, '30 days'],
] as const;

/**
 * Admin: a customer portal link for this tenant. The platform's backend would
 * normally call POST /v1/tenants/:id/portal-links each time its customer opens
 * their webhooks page, and put the URL in an iframe.
 */
export function PortalLinksPage({ tenantId }: { tenantId: string }) {
  const { client } = useSession();
  const [platformName, setPlatformName] = useState('');
  const [color, setColor] = useState('#4f46e5');
  const [expires, setExpires] = useState<number>(3600);
  const [readOnly, setReadOnly] = useState(false);
  const [preview, setPreview] = useState(false);
  const create = useAction(async () =>
    client.post<{ id: string; url: string; expiresAt: string; role: string }>(tenantPath(tenantId, '/portal-links'), {
      expiresInSeconds: expires,
      color,
      role: readOnly ? 'read' : 'manage',
      ...(platformName.trim() ? { platformName: platformName.trim() } : {}),
      baseUrl: location.origin,
    }),
  );
  const [link, setLink] = useState<{ id: string; url: string; expiresAt: string; role: string } | null>(null);
  /** Raised after each link created, so the list shows it. */
  const [created, setCreated] = useState(0);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setPreview(false);
    const r = await create.run();
    if (r) {
      setLink(r);
      setCreated((n) => n + 1);
    }
  };

  return (
    <>
      <PageHead title="Customer portal" sub="A signed, expiring link that opens this UI limited to this tenant, for your customer or an iframe in your app." />
      <Card title="New portal link">
        <form onSubmit={(e) => void submit(e)}>
          <div className="grid-3">
            <Field label="Platform name" htmlFor="pl-name" hint="Shown in the portal's header.">
              <input id="pl-name" value={platformName} maxLength={80} onChange={(e) => setPlatformName(e.target.value)} placeholder="Acme Cloud" />
            </Field>
            <Field label="Accent colour" htmlFor="pl-color">
              <input id="pl-color" type="color" value={color} onChange={(e) => setColor(e.target.value)} />
            </Field>
            <Field label="Valid for" htmlFor="pl-expires">
              <select id="pl-expires" value={expires} onChange={(e) => setExpires(Number(e.target.value))}>
                {EXPIRIES.map(([s, label]) => (
                  <option key={s} value={s}>
                    {label}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <label className="check">
            <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.target.checked)} /> Read-only: the customer sees endpoints, events and deliveries but changes nothing
          </label>
          <ErrorBox error={create.error} />
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={create.pending}>
              Create link
            </button>
          </div>
        </form>
      </Card>
      {link ? (
        <Card title="Portal link">
          <div className="secret-row">
            <input readOnly className="mono grow" aria-label="Portal URL" value={link.url} onFocus={(e) => e.target.select()} />
            <CopyButton text={link.url} />
            <a className="btn btn-small" href={link.url} target="_blank" rel="noopener noreferrer">
              Open
            </a>
            <button type="button" className="btn btn-small" onClick={() => setPreview(!preview)}>
              {preview ? 'Hide preview' : 'Preview embedded'}
            </button>
          </div>
          <div className="muted small">
            Link <span className="mono">{link.id}</span>, valid until {formatTime(link.expiresAt)}. Copy it now: it is not shown again. Anyone holding it can {link.role === 'read' ? 'see' : 'manage'} this tenant's webhooks until then.
          </div>
          {preview ? <iframe className="portal-preview" title="Portal preview" src={link.url} /> : null}
        </Card>
      ) : null}
      <PortalLinkList tenantId={tenantId} version={created} />
      <AccessCards tenantId={tenantId} />
    </>
  );
}
