import { useState, type FormEvent } from 'react';
import type { ApiError } from '../api';
import { ErrorBox } from '../components/ui';

/** Sign-in with an API token: the admin token `herald serve` prints, or a tenant's token. */
export function SignInPage({ onSignIn, notice }: { onSignIn(token: string): Promise<ApiError | null>; notice?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [pending, setPending] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) return;
    setPending(true);
    setError(await onSignIn(token.trim()));
    setPending(false);
  };

  return (
    <div className="center-page">
      <form className="card narrow sign-in" onSubmit={(e) => void submit(e)}>
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true">
            H
          </span>
          <div className="brand-text">
            <span className="brand-name">Herald</span>
            <span className="brand-sub">Webhook delivery</span>
          </div>
        </div>
        <h1>Sign in</h1>
        <p className="muted">
          Paste the admin token (printed by <code>herald serve</code> on first start) or a tenant token. It is kept in this tab only.
        </p>
        {notice ? <div className="notice">{notice}</div> : null}
        <label htmlFor="token">API token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          placeholder="hrl_…"
          autoFocus
        />
        {error ? <ErrorBox error={error} title={error.status === 401 ? 'That token was not accepted' : 'Could not sign in'} /> : null}
        <button type="submit" className="btn btn-primary" disabled={pending || !token.trim()}>
          {pending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
