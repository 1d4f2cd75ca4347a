import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The session store against a scripted server: each request waits until the test answers it,
// so the order in which the answers and a socket's close arrive is the test's to choose.

interface Pending {
  readonly path: string;
  readonly body: unknown;
  answer(status: number, body: unknown): void;
}

let requests: Pending[];

function scriptedFetch(path: string, init: { body?: string }) {
  return new Promise<Response>((resolve) => {
    requests.push({
      path,
      body: init.body === undefined ? undefined : JSON.parse(init.body),
      answer: (status, body) => resolve(new Response(JSON.stringify(body), { status })),
    });
  });
}

const session = (n: number, role = 'trader') => ({
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  expiresIn: 900,
  user: { userId: 7, username: 'moved.trader', role },
});

/** The next request to `path`, once the store has sent it. */
async function next(path: string): Promise<Pending> {
  await vi.waitFor(() => expect(requests.some((r) => r.path === path)).toBe(true));
  const i = requests.findIndex((r) => r.path === path);
  return requests.splice(i, 1)[0] as Pending;
}

const SIGNED_OUT = 'signed_out: an admin signed this user out everywhere';

async function signedIn() {
  const { useSession } = await import('./session.ts');
  const signIn = useSession.getState().signIn('moved.trader', 'pw');
  (await next('/api/v1/auth/login')).answer(200, session(1));
  await signIn;
  return useSession;
}

describe('session', () => {
  beforeEach(() => {
    vi.resetModules();
    requests = [];
    const store = new Map<string, string>();
    vi.stubGlobal('localStorage', {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => store.set(k, v),
      removeItem: (k: string) => store.delete(k),
    });
    vi.stubGlobal('navigator', { onLine: true });
    vi.stubGlobal('fetch', scriptedFetch);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('a renewal answered after an admin signed the user out does not bring the session back', async () => {
    const useSession = await signedIn();
    // A renewal is on its way (a request refused with the old token after a role change)…
    const renewal = useSession.getState().refresh();
    const refresh = await next('/api/v1/auth/refresh');
    expect(refresh.body).toEqual({ refreshToken: 'refresh-1' });
    // …the admin signs the user out: the socket closes with the reason…
    expect(useSession.getState().closedByServer(4401, SIGNED_OUT)).toBe(true);
    expect(useSession.getState().user).toBeUndefined();
    // …and the renewal the server answered just before the sign-out arrives afterwards.
    refresh.answer(200, session(2, 'viewer'));
    expect(await renewal).toBe(false);
    const after = useSession.getState();
    expect(after.user).toBeUndefined();
    expect(after.accessToken).toBeUndefined();
    expect(after.notice).toMatchObject({ id: 'session.signedOut' });
    expect(localStorage.getItem('tape.refreshToken')).toBeNull();
  });

  it("a renewal refused a moment before the socket's close: the admin's reason is the one said", async () => {
    const useSession = await signedIn();
    const renewal = useSession.getState().refresh();
    (await next('/api/v1/auth/refresh')).answer(401, { error: 'unauthorized', message: 'Session revoked' });
    expect(await renewal).toBe(false);
    expect(useSession.getState().user).toBeUndefined();
    expect(useSession.getState().closedByServer(4401, SIGNED_OUT)).toBe(true);
    expect(useSession.getState().notice).toMatchObject({ id: 'session.signedOut' });
  });

  it('a role change renews the session and keeps it', async () => {
    const useSession = await signedIn();
    expect(
      useSession.getState().closedByServer(4401, "role_changed: an admin changed this user's role"),
    ).toBe(true);
    (await next('/api/v1/auth/refresh')).answer(200, session(2, 'viewer'));
    await vi.waitFor(() => expect(useSession.getState().user?.role).toBe('viewer'));
    expect(useSession.getState().accessToken).toBe('access-2');
    expect(localStorage.getItem('tape.refreshToken')).toBe('refresh-2');
  });
});
