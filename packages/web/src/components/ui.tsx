import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { ApiError, DeliveryStatus } from '../api';
import { ago, formatTime } from '../format';
import { useTick, type PagedList } from '../hooks';
import { viewState } from '../state';
import { StateView } from './StateView';

/** Small building blocks. Everything the API returns is rendered as text: React escapes it; nothing here sets HTML. */

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

export function ErrorBox({ error, title = 'Something went wrong' }: { error: ApiError | undefined; title?: string }) {
  if (!error) return null;
  const text =
    error.status === 404
      ? 'Not found: it does not exist, or this token may not see it.'
      : error.status === 0
        ? error.message
        : `${error.message} (${error.status} ${error.code})`;
  return (
    <div className="error-box" role="alert">
      <strong>{title}</strong>
      <span>{text}</span>
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <div className="empty-title">{title}</div>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

const STATUS_CLASS: Record<string, string> = { succeeded: 'ok', failed: 'bad', pending: 'warn', disabled: 'muted', enabled: 'ok' };

export function StatusBadge({ status, children }: { status: DeliveryStatus | 'disabled' | 'enabled' | string; children?: ReactNode }) {
  return <span className={`badge badge-${STATUS_CLASS[status] ?? 'muted'}`}>{children ?? status}</span>;
}

/** An HTTP status (or a network error code) coloured by outcome. */
export function HttpStatus({ status, error }: { status: number | null | undefined; error?: string | null }) {
  if (status === null || status === undefined) {
    return error ? <span className="badge badge-bad">{error}</span> : <span className="muted">—</span>;
  }
  const cls = status >= 200 && status < 300 ? 'ok' : status >= 500 || status === 0 ? 'bad' : 'warn';
  return <span className={`badge badge-${cls}`}>{status}</span>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  const now = useTick();
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatTime(iso)}>
      {ago(iso, now)}
    </time>
  );
}

/** "Live" marker on lists that refresh themselves. */
export function Live({ updatedAt }: { updatedAt: number | null }) {
  useTick(1000);
  const fresh = updatedAt !== null && Date.now() - updatedAt < 10_000;
  return (
    <span className={`live ${fresh ? 'live-on' : ''}`} title={updatedAt ? `updated ${new Date(updatedAt).toLocaleTimeString()}` : 'not loaded yet'}>
      <span className="live-dot" aria-hidden="true" /> {fresh ? 'Live' : 'Paused'}
    </span>
  );
}

export function Card({ title, actions, children, className = '', testId }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; testId?: string }) {
  return (
    <section className={`card ${className}`} data-testid={testId}>
      {title || actions ? (
        <header className="card-head">
          {title ? <h2>{title}</h2> : <span />}
          {actions ? <div className="card-actions">{actions}</div> : null}
        </header>
      ) : null}
      {children}
    </section>
  );
}

export function PageHead({ title, sub, actions }: { title: ReactNode; sub?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="page-head">
      <div className="page-title">
        <h1>{title}</h1>
        {sub ? <div className="page-sub">{sub}</div> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </div>
  );
}

/** Copies text; falls back to selecting it where the Clipboard API is refused (insecure origin, iframe). */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  useEffect(() => {
    if (!done) return;
    const t = setTimeout(() => setDone(null), 1500);
    return () => clearTimeout(t);
  }, [done]);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('copied');
    } catch {
      const ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.style.position = 'fixed';
      ta.style.opacity = '0';
      document.body.appendChild(ta);
      ta.select();
      const ok = document.execCommand('copy');
      ta.remove();
      setDone(ok ? 'copied' : 'failed');
    }
  };
  return (
    <button type="button" className="btn btn-small" onClick={() => void copy()}>
      {done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed' : label}
    </button>
  );
}

/**
 * JSON as formatted text with its tokens coloured. Values are text nodes
 * (never HTML), so a payload holding markup shows as markup, not as a page.
 */
export function JsonView({ value, raw }: { value?: unknown; raw?: string }) {
  const text = raw ?? JSON.stringify(value, null, 2) ?? 'undefined';
  const parts: ReactNode[] = [];
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  let m: RegExpExecArray | null;
  let i = 0;
  while ((m = re.exec(text))) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    if (m[1]) {
      parts.push(
        <span key={i++} className={m[2] ? 'j-key' : 'j-str'}>
          {m[1]}
        </span>,
      );
      if (m[2]) parts.push(m[2]);
    } else if (m[3]) parts.push(<span key={i++} className="j-lit">{m[3]}</span>);
    else if (m[4]) parts.push(<span key={i++} className="j-num">{m[4]}</span>);
    last = re.lastIndex;
  }
  parts.push(text.slice(last));
  return <pre className="code json">{parts}</pre>;
}

/** A response body: pretty-printed when it is JSON, otherwise shown exactly, as text. */
export function BodyView({ body, truncated }: { body: string; truncated?: boolean }) {
  let pretty: string | null = null;
  try {
    const v: unknown = JSON.parse(body);
    if (v !== null && typeof v === 'object') pretty = JSON.stringify(v, null, 2);
  } catch {
    // not JSON
  }
  return (
    <div>
      {body === '' ? <div className="muted">(empty body)</div> : pretty ? <JsonView raw={pretty} /> : <pre className="code">{body}</pre>}
      {truncated ? <div className="muted small">Truncated: Herald keeps the first bytes of each response.</div> : null}
    </div>
  );
}

export function HeadersTable({ headers }: { headers: Record<string, string> }) {
  const entries = Object.entries(headers);
  if (!entries.length) return <div className="muted">(no headers)</div>;
  return (
    <table className="kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td className="mono break">{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A confirmation dialog (native <dialog>: focus trap and Escape for free). */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  cancelLabel = 'Cancel',
  danger,
  pending,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  /** null: no second button (a dialog that only reports, closed by its confirm button). */
  cancelLabel?: string | null;
  danger?: boolean;
  pending?: boolean;
  onConfirm(): void;
  onCancel(): void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" onCancel={(e) => (e.preventDefault(), onCancel())} aria-labelledby="dialog-title">
      <h2 id="dialog-title">{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="dialog-actions">
        {cancelLabel !== null ? (
          <button type="button" className="btn" onClick={onCancel}>
            {cancelLabel}
          </button>
        ) : null}
        <button type="button" className={`btn ${danger ? 'btn-danger' : 'btn-primary'}`} onClick={onConfirm} disabled={pending}>
          {pending ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function Field({ label, hint, children, htmlFor }: { label: string; hint?: ReactNode; children: ReactNode; htmlFor?: string }) {
  return (
    <div className="field">
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint ? <div className="hint">{hint}</div> : null}
    </div>
  );
}

/** The table wrapper: scrolls sideways in a narrow window rather than squeezing. */
export function TableWrap({ children }: { children: ReactNode }) {
  return <div className="table-wrap">{children}</div>;
}

/**
 * A table that reads as one card per row on a phone (styles.css
 * `card-table`): the first cell on top, the others under it labelled with
 * their column's name, which each cell carries as `data-label`.
 */
export function CardTable({ label, columns, children }: { label: string; columns: (string | { name: string; className: string })[]; children: ReactNode }) {
  return (
    <TableWrap>
      <table className="table card-table" aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (typeof c === 'string' ? <th key={c}>{c}</th> : <th key={c.name} className={c.className}>{c.name}</th>))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </TableWrap>
  );
}

/**
 * A paged list as a table, in one state at a time (StateView): a spinner
 * while the first page loads, its error, `empty` when there are no rows,
 * or the rows with "Load more". `rows` defaults to the list's rows (pass a
 * filtered subset to show fewer); `table` draws the rows itself (a shared
 * table such as DeliveryTable), otherwise `head` and `row` make a plain one.
 */
export function PagedTable<T>({
  list,
  rows = list.rows,
  error = list.error,
  className = 'table',
  empty,
  head,
  row,
  table,
}: {
  list: PagedList<T>;
  rows?: T[];
  error?: ApiError;
  className?: string;
  empty: ReactNode;
  head?: ReactNode;
  row?(item: T): ReactNode;
  table?(rows: T[]): ReactNode;
}) {
  const state = viewState({ data: list.loading ? undefined : rows, error, loading: list.loading }, (r) => r.length === 0);
  return (
    <>
      <StateView state={state} empty={empty} onRetry={list.reload}>
        {(rs) =>
          table ? (
            table(rs)
          ) : (
            <TableWrap>
              <table className={className}>
                <thead>
                  <tr>{head}</tr>
                </thead>
                <tbody>{row ? rs.map(row) : null}</tbody>
              </table>
            </TableWrap>
          )
        }
      </StateView>
      {state.kind === 'data' || state.kind === 'empty' ? <LoadMore hasMore={list.hasMore} loading={list.loadingMore} onClick={list.loadMore} /> : null}
      <ErrorBox error={list.moreError} title="More could not be loaded" />
    </>
  );
}

export function LoadMore({ hasMore, loading, onClick }: { hasMore: boolean; loading: boolean; onClick(): void }) {
  if (!hasMore) return null;
  return (
    <div className="load-more">
      <button type="button" className="btn" onClick={onClick} disabled={loading}>
        {loading ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}
