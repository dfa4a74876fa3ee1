// The sign-in kept across restarts. The token lives in localStorage, beside (not in) the
// offline data; sign-out removes both.
import type { Role } from '../generated/schema';

export interface Session {
  token: string;
  username: string;
  roles: Role[];
}

const KEY = 'reserv.session';

export function loadSession(): Session | undefined {
  try {
    const text = localStorage.getItem(KEY);
    return text ? (JSON.parse(text) as Session) : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session): void {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function forgetSession(): void {
  localStorage.removeItem(KEY);
}
