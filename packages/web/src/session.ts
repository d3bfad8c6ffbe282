import { createContext, useContext } from 'react';
import type { Client, SessionInfo } from './api';

/**
 * Where the token lives: sessionStorage, so it goes with the tab and never
 * reaches another site or a later visitor of the machine. The dashboard and
 * the portal keep theirs under different keys, so an admin previewing a
 * portal link in an iframe keeps their own sign-in.
 */
export const PORTAL = location.pathname === '/portal' || location.pathname.startsWith('/portal/');
const KEY = PORTAL ? 'herald.portal.token' : 'herald.token';

// Storage can be refused (a third-party iframe with storage blocked): fall back to memory.
let memory: string | null = null;

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(KEY) ?? memory;
  } catch {
    return memory;
  }
}

export function saveToken(token: string | null): void {
  memory = token;
  try {
    if (token === null) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // memory only
  }
}

/**
 * A portal link is `/portal#token=...`: the token is in the fragment, which
 * the browser never sends to a server. Take it, keep it, and drop it from the
 * address bar so it is not bookmarked or shared by accident.
 */
export function takeTokenFromFragment(): void {
  if (!PORTAL) return;
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m?.[1]) return;
  saveToken(decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

export interface Session extends SessionInfo {
  client: Client;
  signOut(): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionContext');
  return s;
}

/** May this session change anything? (The API enforces it; the UI only hides what would be refused.) */
export function useCanWrite(): boolean {
  return useSession().role !== 'read';
}
