import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type Page } from './api';
import { useSession } from './session';

/** How often lists and details refresh themselves while the tab is visible. */
export const LIVE_MS = 2000;

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** When the data was last fetched. */
  updatedAt: number | null;
  reload(): void;
}

/**
 * GETs `path` (null = nothing to fetch) and, with `pollMs`, again every
 * `pollMs` while the tab is visible. Earlier data stays on screen while a
 * refresh runs; a response that arrives after a newer request is dropped.
 */
export function useApi<T>(path: string | null, opts: { pollMs?: number; keepPrevious?: boolean } = {}): Resource<T> {
  const { client } = useSession();
  const [state, setState] = useState<{ path: string | null; data?: T; error?: ApiError; updatedAt: number | null }>({ path, updatedAt: null });
  const [loading, setLoading] = useState(path !== null);
  const seq = useRef(0);

  const load = useCallback(async () => {
    if (path === null) return;
    const n = ++seq.current;
    setLoading(true);
    try {
      const data = await client.get<T>(path);
      if (n === seq.current) setState({ path, data, updatedAt: Date.now() });
    } catch (err) {
      if (n === seq.current) {
        const error = err instanceof ApiError ? err : new ApiError(0, 'client', String(err));
        // A failed refresh keeps the last good data beside the error.
        setState((s) => (s.path === path ? { ...s, error } : { path, error, updatedAt: null }));
      }
    } finally {
      if (n === seq.current) setLoading(false);
    }
  }, [client, path]);

  useEffect(() => {
    void load();
    if (!opts.pollMs || path === null) return;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') void load();
    }, opts.pollMs);
    return () => clearInterval(t);
  }, [load, opts.pollMs, path]);

  // keepPrevious: a query that only moves its time window (stats) keeps showing the last answer meanwhile.
  const same = state.path === path || (opts.keepPrevious === true && state.data !== undefined && path !== null);
  return { data: same ? state.data : undefined, error: same ? state.error : undefined, loading, updatedAt: same ? state.updatedAt : null, reload: load };
}

export interface PagedList<T> {
  rows: T[];
  /** The first page's error (the list cannot be shown). */
  error: ApiError | undefined;
  /** A "Load more" that failed (the rows above it stay). */
  moreError: ApiError | undefined;
  loading: boolean;
  updatedAt: number | null;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore(): void;
  reload(): void;
}

/**
 * A newest-first list: the first page is polled (new rows appear at the top
 * without a reload), further pages are fetched with the API's cursor on
 * "Load more" and kept below it. Rows are de-duplicated by id, as a page
 * boundary moves when new rows arrive.
 */
export function usePagedList<T extends { id: string }>(path: string | null, opts: { pollMs?: number } = {}): PagedList<T> {
  const { client } = useSession();
  const head = useApi<Page<T>>(path, opts);
  const [more, setMore] = useState<{ path: string | null; rows: T[]; cursor: string | null | undefined }>({ path, rows: [], cursor: undefined });
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<ApiError>();

  const extra = more.path === path ? more : { path, rows: [], cursor: undefined };
  const cursor = extra.cursor === undefined ? head.data?.nextCursor ?? null : extra.cursor;

  const loadMore = useCallback(async () => {
    if (!path || !cursor) return;
    setLoadingMore(true);
    try {
      const sep = path.includes('?') ? '&' : '?';
      const page = await client.get<Page<T>>(`${path}${sep}cursor=${encodeURIComponent(cursor)}`);
      setMore((m) => ({ path, rows: [...(m.path === path ? m.rows : []), ...page.data], cursor: page.nextCursor }));
      setMoreError(undefined);
    } catch (err) {
      setMoreError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
    } finally {
      setLoadingMore(false);
    }
  }, [client, cursor, path]);

  const seen = new Set<string>();
  const rows: T[] = [];
  for (const r of [...(head.data?.data ?? []), ...extra.rows]) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    rows.push(r);
  }
  return {
    rows,
    error: head.error,
    moreError,
    loading: head.loading && !head.data,
    updatedAt: head.updatedAt,
    hasMore: cursor !== null,
    loadingMore,
    loadMore: () => void loadMore(),
    reload: head.reload,
  };
}

/** Runs an action, keeping its pending state and error for the button that started it. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError>();
  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setPending(true);
      setError(undefined);
      try {
        return await fn(...args);
      } catch (err) {
        setError(err instanceof ApiError ? err : new ApiError(0, 'client', String(err)));
        return undefined;
      } finally {
        setPending(false);
      }
    },
    [fn],
  );
  return { run, pending, error, clearError: () => setError(undefined) };
}

/** Re-renders every `ms` so relative times ("12 s ago") stay true. */
export function useTick(ms = 5000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
