import type { ApiError } from './api';

/**
 * What a page (or a part of one) shows: exactly one of these, never two at
 * once. Data already on screen wins over a failed refresh (the Live marker
 * says "Paused" meanwhile), so a passing network blip does not blank a page.
 */
export type ViewState<T> =
  | { kind: 'loading' }
  | { kind: 'error'; error: ApiError }
  | { kind: 'empty' }
  | { kind: 'data'; data: T };

/** The state of a fetched resource; `isEmpty` says when its data has nothing to show (default: never). */
export function viewState<T>(r: { data: T | undefined; error: ApiError | undefined; loading: boolean }, isEmpty: (d: T) => boolean = () => false): ViewState<T> {
  if (r.data !== undefined && !isEmpty(r.data)) return { kind: 'data', data: r.data };
  if (r.error) return { kind: 'error', error: r.error };
  if (r.data === undefined) return { kind: 'loading' };
  return { kind: 'empty' };
}

/** What the reader can do about an error, by its kind. */
export function errorAdvice(e: ApiError): string {
  if (e.status === 0) return 'Herald could not be reached. Check that the server is running and that this browser can reach it, then retry.';
  if (e.status === 404) return 'It does not exist (it may have been deleted), or this token may not see it. Check the address.';
  if (e.status === 403) return 'This token may not do this. Sign in with a token that may.';
  if (e.status === 429) return 'Too many requests for now. Wait a few seconds and retry.';
  if (e.status === 400 || e.status === 422) return 'Correct what the message names and try again.';
  if (e.status >= 500) return 'The server failed to answer. Retry; if it keeps failing, the server log says why.';
  return 'Retry; if it keeps failing, sign in again.';
}
