import { useState } from 'react';
import type { Endpoint } from '../api';
import { Card, ConfirmDialog, CopyButton, ErrorBox, Field, Time } from '../components/ui';
import { formatTime } from '../format';
import { useAction } from '../hooks';
import { useCanWrite, useSession } from '../session';

/** How long a rotated-out secret may keep signing (the API's graceSeconds; its default is a day). */
const GRACE = [
  [0, 'None: the old secret stops now'],
  [3600, '1 hour'],
  [86_400, '24 hours'],
  [7 * 86_400, '7 days'],
] as const;

/**
 * The signing secret: hidden until asked for. Rotation takes a grace period
 * (the old secret keeps signing beside the new one meanwhile) and,
 * optionally, a secret of the caller's own. An ed25519 endpoint shows its
 * public key (what receivers verify with) openly, and its private key like
 * a secret.
 */
export function SecretCard({ base, endpoint, onRotated }: { base: string; endpoint: Endpoint; onRotated(): void }) {
  const { client } = useSession();
  const canWrite = useCanWrite();
  const [secret, setSecret] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [grace, setGrace] = useState<number>(86_400);
  const [custom, setCustom] = useState('');
  const reveal = useAction(async () => setSecret((await client.get<{ secret: string }>(`${base}/secret`)).secret));
  const [shownKey, setShownKey] = useState<string | null>(null);
  const rotate = useAction(async () => {
    const r = await client.post<{ secret: string; publicKey: string | null }>(`${base}/secret/rotate`, {
      graceSeconds: grace,
      ...(custom.trim() ? { secret: custom.trim() } : {}),
    });
    setSecret(r.secret);
    setShownKey(r.publicKey);
    setConfirm(false);
    setCustom('');
    onRotated();
  });
  const until = endpoint.previousSecretExpiresAt;
  const key = shownKey ?? endpoint.publicKey;
  return (
    <Card title={key ? 'Signing key (ed25519)' : 'Signing secret'}>
      {key ? (
        <>
          <p className="muted small">Your receiver verifies each delivery's v1a signature with this public key.</p>
          <div className="secret-row">
            <code className="secret mono" data-testid="public-key">
              {key}
            </code>
            <CopyButton text={key} />
          </div>
          <p className="muted small">The private key below signs; only Herald needs it.</p>
        </>
      ) : (
        <p className="muted small">Your receiver verifies each delivery's signature with this secret.</p>
      )}
      <div className="secret-row">
        <code className="secret mono" data-testid="secret">
          {secret ?? (key ? 'whsk_' : 'whsec_') + '•'.repeat(24)}
        </code>
        {!canWrite ? (
          <span className="muted small">Read-only access cannot reveal the secret.</span>
        ) : secret ? (
          <>
            <CopyButton text={secret} />
            <button type="button" className="btn btn-small" onClick={() => setSecret(null)}>
              Hide
            </button>
          </>
        ) : (
          <button type="button" className="btn btn-small" disabled={reveal.pending} onClick={() => void reveal.run()}>
            Reveal
          </button>
        )}
        {canWrite ? (
          <button type="button" className="btn btn-small" onClick={() => setConfirm(true)}>
            Rotate
          </button>
        ) : null}
      </div>
      {until ? (
        <div className="notice small" data-testid="grace">
          Rotated. The previous secret keeps signing beside the current one until <span title={formatTime(until)}>{formatTime(until)}</span> (<Time iso={until} />), so
          receivers can switch over.
        </div>
      ) : null}
      <ErrorBox error={reveal.error} />
      <ConfirmDialog
        open={confirm}
        title="Rotate the signing secret?"
        confirmLabel="Rotate secret"
        pending={rotate.pending}
        onCancel={() => setConfirm(false)}
        onConfirm={() => void rotate.run()}
      >
        <p>A new secret signs every delivery from now on. During the grace period the current one also keeps signing, so your receiver can switch without missing a delivery.</p>
        <Field label="Grace period" htmlFor="rotate-grace">
          <select id="rotate-grace" value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
            {GRACE.map(([s, label]) => (
              <option key={s} value={s}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="New secret (optional)" htmlFor="rotate-secret" hint="Empty: Herald generates one.">
          <input id="rotate-secret" className="mono" autoComplete="off" value={custom} onChange={(e) => setCustom(e.target.value)} placeholder="generated" />
        </Field>
        <ErrorBox error={rotate.error} title="Not rotated" />
      </ConfirmDialog>
    </Card>
  );
}
