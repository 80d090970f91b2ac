import type { components } from './generated/api';

export type Scope = components['schemas']['Scope'];

/** What the console keeps for one browser tab: nothing outlives the tab (sessionStorage). */
export interface Session {
  /** The API key or JWT, sent as `Authorization: Bearer …` on every call. */
  credential: string;
  /** The credential's scopes, as `POST /api/v1/auth/token` reported them at sign-in. */
  scopes: Scope[];
  /** The stream service's WebSocket URL (another port than the gateway's). */
  streamUrl: string;
}

const KEY = 'reten.console.session';

export function defaultStreamUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.hostname}:8081/events/stream`;
}

export function loadSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

/** `admin` may do everything; other scopes name one part of the API. */
export function allows(session: Session, scope: Scope): boolean {
  return session.scopes.includes('admin') || session.scopes.includes(scope);
}
