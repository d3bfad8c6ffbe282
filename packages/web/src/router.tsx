import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';
import { PORTAL } from './session';

/**
 * A small history router: the UI has a dozen routes and needs nothing more
 * than paths with parameters. In the customer portal every path lives under
 * `/portal`, so a reload inside the platform's iframe stays in the portal
 * (and keeps the portal's framing headers).
 */
export const BASE = PORTAL ? '/portal' : '';

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** The current path without the base, e.g. `/t/acme/endpoints`. */
export function currentPath(): string {
  const p = location.pathname.slice(BASE.length) || '/';
  return p.startsWith('/') ? p : `/${p}`;
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, currentPath);
}

export function navigate(to: string, opts: { replace?: boolean; keepScroll?: boolean } = {}): void {
  const url = BASE + to;
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  if (!opts.keepScroll) window.scrollTo(0, 0);
  listeners.forEach((l) => l());
}

/** The query string of the address (`?status=failed&type=campaign.*`), the state of a page's filters. */
export function useSearch(): string {
  return useSyncExternalStore(subscribe, () => location.search);
}

/**
 * A page's filters kept in the address, so a filtered view can be shared
 * and reloaded: the values of `keys` ('' when absent), and a setter that
 * writes the non-empty ones as a new history entry (Back undoes a filter),
 * or in place of the current one.
 */
export function useUrlFilters<K extends string>(
  keys: readonly K[],
): [Record<K, string>, (next: Partial<Record<K, string>>, opts?: { replace?: boolean }) => void] {
  const search = useSearch();
  const params = new URLSearchParams(search);
  const values = Object.fromEntries(keys.map((k) => [k, params.get(k) ?? ''])) as Record<K, string>;
  // `replace` for a filter applied as one types, so Back does not step through every keystroke
  const set = (next: Partial<Record<K, string>>, opts: { replace?: boolean } = {}) => {
    const merged = new URLSearchParams(location.search);
    for (const k of keys) {
      const v = k in next ? next[k] : values[k];
      if (v) merged.set(k, v);
      else merged.delete(k);
    }
    const q = merged.toString();
    navigate(`${currentPath()}${q ? `?${q}` : ''}`, { keepScroll: true, replace: opts.replace });
  };
  return [values, set];
}

/** Matches `/t/:tenantId/endpoints/:endpointId` against a path; parameters come back decoded. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const ps = pattern.split('/').filter(Boolean);
  const xs = path.split('/').filter(Boolean);
  if (ps.length !== xs.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i]!;
    const x = xs[i]!;
    if (p.startsWith(':')) {
      try {
        out[p.slice(1)] = decodeURIComponent(x);
      } catch {
        return null;
      }
    } else if (p !== x) return null;
  }
  return out;
}

/** Builds a path from segments, escaping each (ids may hold ':' or '.'). */
export function path(...segments: string[]): string {
  return '/' + segments.map((s) => encodeURIComponent(s)).join('/');
}

export function Link({ to, onClick, ...rest }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={BASE + to} onClick={handle} {...rest} />;
}
