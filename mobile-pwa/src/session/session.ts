// The sign-in kept across restarts. The token lives in localStorage, beside (not in) the
// offline data; sign-out removes both.
import type { LoginResult, Role } from '../generated/schema';

export interface Session {
  token: string;
  username: string;
  roles: Role[];
  /** When the session ends at the latest (ISO 8601). */
  expiresAt?: string;
  /** Opened with a sealed emergency code: short, and shown as such on every screen. */
  breakGlass?: boolean;
  /** The role needs a second factor this session has not proved: enrol before anything else. */
  mustEnrol?: boolean;
}

export type SignedIn = Pick<LoginResult, 'token' | 'expiresAt'> & {
  me: { username: string; roles: Array<{ role: Role }>; breakGlass: boolean; mustEnrolSecondFactor: boolean };
};

export function sessionOf(result: SignedIn): Session {
  return {
    token: result.token,
    username: result.me.username,
    roles: result.me.roles.map((r) => r.role),
    expiresAt: result.expiresAt,
    breakGlass: result.me.breakGlass,
    mustEnrol: result.me.mustEnrolSecondFactor,
  };
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
