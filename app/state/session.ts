import { create } from 'zustand';
import type { Text } from '../i18n/i18n.ts';
import { adminEnd } from './closeReasons.ts';

export interface User {
  readonly userId: number;
  readonly username: string;
  readonly role: 'admin' | 'trader' | 'viewer';
}

interface SessionResponse {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: User;
}

interface SessionState {
  user: User | undefined;
  accessToken: string | undefined;
  /** Why the last session ended when the user did not end it, for the sign-in screen. */
  notice: Text | undefined;
  signIn(username: string, password: string): Promise<void>;
  refresh(): Promise<boolean>;
  signOut(notice?: Text): Promise<void>;
  /**
   * A socket the server closed: when an admin disabled this user or signed it out, the session
   * ends with a notice; when the role changed, it is renewed. False for any other close.
   */
  closedByServer(code: number, reason: string): boolean;
}

/** What must happen while the user can still be named to the server, before a sign-out the user asked for. */
const beforeSignOut: Array<() => Promise<unknown>> = [];
/** Runs `step` (bounded to 3 s) when the user signs out, before the session's token is dropped. */
export function whenSigningOut(step: () => Promise<unknown>) {
  beforeSignOut.push(step);
}

const REFRESH_KEY = 'tape.refreshToken';
const USER_KEY = 'tape.user';

/** A refusal of the sign-in with the server's code, which the Login screen says (i18n.ts errorText). */
const refused = (code: string, message: string) => Object.assign(new Error(message), { code });

const post = (path: string, body: unknown) =>
  fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let inflight: Promise<boolean> | undefined;
/** A renewal the server did not answer (down, restarting, unreachable) is tried again. */
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let retries = 0;
const MAX_RETRY_MS = 2_000;
/**
 * Counts the sessions ended: a renewal answered after its session ended (an admin's sign-out
 * closing the sockets while a renewal was on its way) is dropped, not adopted. Without that a
 * renewal the server answered a moment before the sign-out brought the desk back without the
 * admin's notice.
 */
let ended = 0;

export const useSession = create<SessionState>((set, get) => {
  const adopt = (s: SessionResponse) => {
    localStorage.setItem(REFRESH_KEY, s.refreshToken);
    localStorage.setItem(USER_KEY, JSON.stringify(s.user));
    set({ user: s.user, accessToken: s.accessToken });
    clearTimeout(refreshTimer);
    clearTimeout(retryTimer);
    retries = 0;
    // Renew a minute before expiry so sockets and requests never carry a dead token.
    refreshTimer = setTimeout(() => void get().refresh(), Math.max(5, s.expiresIn - 60) * 1000);
  };
  return {
    // Resumed from this device before any network call: an offline cold start keeps its user.
    user: storedUser(),
    accessToken: undefined,
    notice: undefined,
    async signIn(username, password) {
      set({ notice: undefined });
      const res = await post('/api/v1/auth/login', { username, password }).catch(() => undefined);
      if (!res) throw refused('offline', 'The server cannot be reached: check your connection');
      const body = await res.json();
      if (!res.ok) throw refused(body.error ?? 'http_error', body.message ?? '');
      adopt(body as SessionResponse);
    },
    refresh() {
      inflight ??= (async () => {
        const refreshToken = localStorage.getItem(REFRESH_KEY);
        if (!refreshToken) return false;
        const session = ended;
        const res = await post('/api/v1/auth/refresh', { refreshToken }).catch(() => undefined);
        if (session !== ended) return false;
        // No answer, or the server cannot answer now (503 while its database is down, 429): the
        // session stays, and the renewal is tried again until the server is back. Without that a
        // cold start while the server was down stayed "Connecting…" until a reload.
        if (!res || res.status >= 500 || res.status === 429) {
          retryLater(() => void get().refresh());
          return false;
        }
        if (!res.ok) {
          localStorage.removeItem(REFRESH_KEY);
          localStorage.removeItem(USER_KEY);
          // An admin's reason, said by a socket's close a moment before, is kept.
          const said = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
          const notice =
            said.message === undefined ? undefined : { code: said.error ?? '', message: said.message };
          set({ user: undefined, accessToken: undefined, notice: get().notice ?? notice });
          return false;
        }
        const renewed = (await res.json()) as SessionResponse;
        if (session !== ended) return false;
        adopt(renewed);
        return true;
      })().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
    async signOut(notice) {
      // The user's own sign-out (no notice: the server did not end it) undoes this device's
      // ties to the user first: its push subscription.
      if (!notice && get().accessToken)
        await Promise.race([
          Promise.allSettled(beforeSignOut.map((step) => step())),
          new Promise((r) => setTimeout(r, 3_000)),
        ]);
      ended++;
      const refreshToken = localStorage.getItem(REFRESH_KEY);
      clearTimeout(refreshTimer);
      clearTimeout(retryTimer);
      localStorage.removeItem(REFRESH_KEY);
      localStorage.removeItem(USER_KEY);
      set({ user: undefined, accessToken: undefined, notice });
      if (refreshToken) await post('/api/v1/auth/logout', { refreshToken }).catch(() => undefined);
    },
    closedByServer(code, reason) {
      const end = adminEnd(code, reason);
      if (!end) return false;
      if (end.kind === 'renew') void get().refresh();
      else if (get().user) void get().signOut(end.notice);
      // Already ended (the second socket's close, or a renewal refused a moment before the close
      // came): the admin's reason is the one to say.
      else set({ notice: end.notice });
      return true;
    },
  };
});

/** Backoff with jitter, at most MAX_RETRY_MS apart; offline, the `online` event tries instead. */
function retryLater(again: () => void) {
  clearTimeout(retryTimer);
  if (!navigator.onLine) return;
  const delay = Math.min(MAX_RETRY_MS, 250 * 2 ** retries++) * (0.5 + Math.random() / 2);
  retryTimer = setTimeout(again, delay);
}

function storedUser(): User | undefined {
  if (typeof localStorage === 'undefined' || !localStorage.getItem(REFRESH_KEY)) return undefined;
  try {
    return JSON.parse(localStorage.getItem(USER_KEY) ?? '') as User;
  } catch {
    return undefined;
  }
}

/** On load: renew the stored session, now and whenever the network comes back without a token. */
export function resumeSession() {
  const renew = () => {
    if (!useSession.getState().accessToken && localStorage.getItem(REFRESH_KEY))
      void useSession.getState().refresh();
  };
  renew();
  window.addEventListener('online', renew);
}
