import type { ReactNode } from 'react';
import type { ApiError } from '../api';
import { errorAdvice, type ViewState } from '../state';
import { Spinner } from './ui';

/**
 * Draws one ViewState: a spinner, an error with what to do about it, the
 * empty state (with the first action to take), or the data. Every page and
 * card goes through this, so an error is never drawn over an empty list.
 */
export function StateView<T>({
  state,
  empty,
  onRetry,
  errorTitle,
  errorAction,
  children,
}: {
  state: ViewState<T>;
  empty: ReactNode;
  onRetry?(): void;
  errorTitle?: string;
  errorAction?: ReactNode;
  children(data: T): ReactNode;
}) {
  switch (state.kind) {
    case 'loading':
      return <Spinner />;
    case 'error':
      return <ErrorState error={state.error} title={errorTitle} action={errorAction} onRetry={onRetry} />;
    case 'empty':
      return <>{empty}</>;
    case 'data':
      return <>{children(state.data)}</>;
  }
}

/** An error that stops a page or a card from showing anything: what happened, what to do, and a way to do it. */
export function ErrorState({ error, title, action, onRetry }: { error: ApiError; title?: string; action?: ReactNode; onRetry?(): void }) {
  const what = error.status === 404 ? 'Not found' : error.status === 0 ? 'Herald could not be reached' : error.message;
  return (
    <div className="error-state" role="alert">
      <div className="error-state-title">{title ?? what}</div>
      {title ? <div className="error-state-what">{error.status === 0 || error.status === 404 ? what : `${what} (${error.status} ${error.code})`}</div> : null}
      <div className="error-state-advice">{errorAdvice(error)}</div>
      {action || onRetry ? (
        <div className="error-state-actions">
          {onRetry ? (
            <button type="button" className="btn btn-small" onClick={onRetry}>
              Retry
            </button>
          ) : null}
          {action}
        </div>
      ) : null}
    </div>
  );
}

/** A whole page before its data: the spinner, or the error with a link to where the reader can go instead. */
export function PageNotReady({ state, title, back, onRetry }: { state: Exclude<ViewState<unknown>, { kind: 'data' }>; title: string; back: ReactNode; onRetry(): void }) {
  return (
    <StateView state={state} empty={null} onRetry={onRetry} errorTitle={title} errorAction={back}>
      {() => null}
    </StateView>
  );
}
