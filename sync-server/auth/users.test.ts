import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../store/db.ts';
import { testBackends } from '../store/testing.ts';
import { UserStore } from '../store/users.ts';
import { AuthService, SocketsClosed, type SocketsClosedReason } from './service.ts';
import { AuthFailure } from './tokens.ts';

// Users as admins manage them, on the service and its SQL repository (PGlite, and PostgreSQL
// with DATABASE_URL): the last-admin rule (concurrent demotions too), passwords, revocation of
// refresh tokens, access tokens and socket tickets, the sockets closed, and the audit trail.

const opts = { jwtSecret: undefined, accessTokenTtlS: 60, refreshTokenTtlS: 3600, adminPassword: undefined };
const PASSWORD = 'users-test-password';

const failure = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'accepted';
};

describe.each(testBackends())('user admin on $name', (backend) => {
  let db: Database;
  let auth: AuthService;
  const closed: [number, SocketsClosedReason][] = [];
  let adminId: number;

  const create = async (username: string, role: 'admin' | 'trader' | 'viewer' = 'trader') =>
    (await auth.createUser({ username, role, password: PASSWORD }, adminId)).user.id;
  const audit = async (id: number) =>
    (
      await db.sql<{ action: string; actor_id: string | null; before: unknown; after: unknown }[]>`
        select action, actor_id, before, after from audit_log where target = ${`user:${id}`} order by id`
    ).map((r) => ({ ...r, actor_id: r.actor_id === null ? null : Number(r.actor_id) }));
  const roleOf = async (id: number) => (await auth.listUsers()).find((u) => u.id === id)?.role;

  beforeAll(async () => {
    db = await backend.open();
    auth = await AuthService.create(new UserStore(db.sql), opts, (id, reason) => closed.push([id, reason]));
    adminId = (await auth.createUser({ username: 'root', role: 'admin', password: PASSWORD })).user.id;
  });
  afterAll(() => db?.close());

  it('creates a user with a generated password shown once, or the typed one; names and passwords checked', async () => {
    const made = await auth.createUser({ username: 'gen.user', role: 'viewer' }, adminId);
    expect(made.password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(made.user).toMatchObject({
      username: 'gen.user',
      role: 'viewer',
      disabled: false,
      lastLoginAt: null,
    });
    expect((await auth.login('gen.user', made.password as string)).user.username).toBe('gen.user');
    const [row] = await db.sql<
      { password_hash: string }[]
    >`select password_hash from users where id = ${made.user.id}`;
    expect(row?.password_hash).not.toContain(made.password);

    const typed = await auth.createUser(
      { username: 'typed.user', role: 'trader', password: PASSWORD },
      adminId,
    );
    expect(typed.password).toBeUndefined();
    const before = (await auth.listUsers()).length;
    for (const [input, code] of [
      [{ username: 'Upper', role: 'viewer' }, 'invalid_username'],
      [{ username: 'ab', role: 'viewer' }, 'invalid_username'],
      [{ username: 'typed.user', role: 'admin', password: PASSWORD }, 'username_taken'],
      [{ username: 'weak.user', role: 'viewer', password: '123456789' }, 'weak_password'],
    ] as const) {
      await expect(auth.createUser(input, adminId), JSON.stringify(input)).rejects.toMatchObject({ code });
    }
    expect((await auth.listUsers()).length).toBe(before);
    expect(await audit(typed.user.id)).toEqual([
      {
        action: 'user.create',
        actor_id: adminId,
        before: null,
        after: { username: 'typed.user', role: 'trader' },
      },
    ]);
  });

  it('refuses any change that leaves no enabled admin, writing nothing', async () => {
    const entries = (await audit(adminId)).length;
    await expect(auth.changeUser(adminId, adminId, { role: 'trader' })).rejects.toMatchObject({
      code: 'last_admin',
      message: expect.stringMatching(/no enabled admin/),
    });
    await expect(auth.changeUser(adminId, adminId, { disabled: true })).rejects.toMatchObject({
      code: 'last_admin',
    });
    expect(await roleOf(adminId)).toBe('admin');
    expect((await auth.listUsers()).find((u) => u.id === adminId)?.disabled).toBe(false);
    expect((await audit(adminId)).length).toBe(entries);
    expect(closed).toEqual([]);
    // A disabled admin does not count: with the only other admin disabled, root is still the last.
    const other = await create('other.admin', 'admin');
    await auth.changeUser(adminId, other, { disabled: true });
    await expect(auth.changeUser(adminId, adminId, { role: 'viewer' })).rejects.toMatchObject({
      code: 'last_admin',
    });
    // Enabled again, it is another admin: root may step down (and back up through it).
    await auth.changeUser(adminId, other, { disabled: false });
    expect((await auth.changeUser(adminId, adminId, { role: 'trader' })).role).toBe('trader');
    expect((await auth.changeUser(other, adminId, { role: 'admin' })).role).toBe('admin');
    await expect(auth.changeUser(adminId, 999_999, { role: 'viewer' })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('lets exactly one of two concurrent demotions through, over many rounds', async () => {
    for (const u of await auth.listUsers()) {
      if (u.role === 'admin' && u.id !== adminId) await auth.changeUser(adminId, u.id, { disabled: true });
    }
    for (let round = 0; round < 15; round++) {
      const a = await create(`race.a${round}`, 'admin');
      const b = await create(`race.b${round}`, 'admin');
      // Only a and b are enabled admins: root steps aside for the round (disabled).
      await auth.changeUser(a, adminId, { disabled: true });
      const [x, y] = await Promise.allSettled([
        auth.changeUser(a, b, round % 2 ? { role: 'viewer' } : { disabled: true }),
        auth.changeUser(b, a, { role: 'trader' }),
      ]);
      const outcomes = [x, y].map((r) =>
        r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code,
      );
      expect(outcomes.sort(), `round ${round}`).toEqual(['last_admin', 'ok']);
      const [admins] = await db.sql<{ n: string }[]>`
        select count(*) as n from users where role = 'admin' and disabled_at is null`;
      expect(Number(admins?.n), `round ${round}`).toBe(1);
      const survivor = (await roleOf(a)) === 'admin' ? a : b;
      await auth.changeUser(survivor, adminId, { disabled: false });
      await auth.changeUser(adminId, survivor, { disabled: true });
    }
  }, 60_000);

  it('disables a user: refresh, access token and ticket refused at once, sockets closed; enable lets it sign in anew', async () => {
    const id = await create('dora');
    const s = await auth.login('dora', PASSWORD);
    const ticket = auth.tickets.mint({ ...auth.verify(s.accessToken) }).ticket;
    closed.length = 0;
    const user = await auth.changeUser(adminId, id, { disabled: true });
    expect(user.disabled).toBe(true);
    expect(closed).toEqual([[id, SocketsClosed.disabled]]);
    expect(SocketsClosed.disabled).toMatch(/^account_disabled: /);
    expect(failure(() => auth.verify(s.accessToken))).toBe(AuthFailure.accountDisabled);
    expect(failure(() => auth.authenticateSocket(new URLSearchParams({ ticket })))).toBe(
      AuthFailure.accountDisabled,
    );
    expect(failure(() => auth.authenticateSocket(new URLSearchParams({ token: s.accessToken })))).toBe(
      AuthFailure.accountDisabled,
    );
    await expect(auth.refresh(s.refreshToken)).rejects.toMatchObject({ code: AuthFailure.refreshInvalid });
    await expect(auth.login('dora', PASSWORD)).rejects.toMatchObject({ code: AuthFailure.accountDisabled });
    // The wrong password still says only that: a guesser learns nothing of the account.
    await expect(auth.login('dora', 'not-her-password')).rejects.toMatchObject({
      code: AuthFailure.badCredentials,
    });
    // A restarted process loads who is disabled.
    const again = await AuthService.create(new UserStore(db.sql), opts);
    expect(failure(() => again.verify(s.accessToken))).toBe(AuthFailure.accountDisabled);

    await auth.changeUser(adminId, id, { disabled: false });
    // What it held before the disable stays refused; a new sign-in works, at once.
    expect(failure(() => auth.verify(s.accessToken))).toBe(AuthFailure.revoked);
    const fresh = await auth.login('dora', PASSWORD);
    expect(auth.verify(fresh.accessToken).username).toBe('dora');
    expect((await audit(id)).map((e) => e.action)).toEqual([
      'user.create',
      'auth.login',
      'user.disable',
      'auth.login_refused',
      'auth.login_refused',
      'user.enable',
      'auth.login',
    ]);
    const refused = (await audit(id)).filter((e) => e.action === 'auth.login_refused').map((e) => e.after);
    expect(refused).toEqual([
      { reason: 'account_disabled', from: null },
      { reason: 'wrong_password', from: null },
    ]);
  });

  it('signs a user out everywhere: refresh tokens revoked, older access tokens and tickets refused, a new sign-in works', async () => {
    const id = await create('sven');
    const one = await auth.login('sven', PASSWORD);
    const two = await auth.login('sven', PASSWORD);
    const ticket = auth.tickets.mint(auth.verify(one.accessToken)).ticket;
    closed.length = 0;
    await auth.signOut(adminId, id);
    expect(closed).toEqual([[id, SocketsClosed.signedOut]]);
    for (const s of [one, two]) {
      expect(failure(() => auth.verify(s.accessToken))).toBe(AuthFailure.revoked);
      await expect(auth.refresh(s.refreshToken)).rejects.toMatchObject({ code: AuthFailure.refreshInvalid });
    }
    expect(failure(() => auth.authenticateSocket(new URLSearchParams({ ticket })))).toBe(AuthFailure.revoked);
    const fresh = await auth.login('sven', PASSWORD);
    expect(auth.verify(fresh.accessToken).userId).toBe(id);
    const { ticket: next } = auth.tickets.mint(auth.verify(fresh.accessToken));
    expect(auth.authenticateSocket(new URLSearchParams({ ticket: next })).userId).toBe(id);
    expect((await auth.refresh(fresh.refreshToken)).user.userId).toBe(id);
    const entry = (await audit(id)).find((e) => e.action === 'user.sign_out');
    expect(entry).toEqual({
      action: 'user.sign_out',
      actor_id: adminId,
      before: null,
      after: { refreshTokensRevoked: 2 },
    });
    await expect(auth.signOut(adminId, 999_999)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('changes a role: the old role’s tokens refused, sockets closed, the refresh token gives the new role', async () => {
    const id = await create('rita', 'viewer');
    const s = await auth.login('rita', PASSWORD);
    closed.length = 0;
    expect((await auth.changeUser(adminId, id, { role: 'trader' })).role).toBe('trader');
    expect(closed).toEqual([[id, SocketsClosed.roleChanged]]);
    expect(failure(() => auth.verify(s.accessToken))).toBe(AuthFailure.revoked);
    const next = await auth.refresh(s.refreshToken);
    expect(next.user.role).toBe('trader');
    expect(auth.verify(next.accessToken).role).toBe('trader');
    // The same role again is no change: nothing audited, nothing closed.
    closed.length = 0;
    await auth.changeUser(adminId, id, { role: 'trader' });
    expect(closed).toEqual([]);
    expect((await audit(id)).filter((e) => e.action === 'user.role')).toEqual([
      { action: 'user.role', actor_id: adminId, before: { role: 'viewer' }, after: { role: 'trader' } },
    ]);
  });

  it('resets a password: the old one refused, refresh tokens revoked; generated when none is typed', async () => {
    const id = await create('paulo');
    const s = await auth.login('paulo', PASSWORD);
    await expect(auth.resetPassword(adminId, id, 'too-short')).rejects.toMatchObject({
      code: 'weak_password',
    });
    const { password } = await auth.resetPassword(adminId, id);
    expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    await expect(auth.refresh(s.refreshToken)).rejects.toMatchObject({ code: AuthFailure.refreshInvalid });
    await expect(auth.login('paulo', PASSWORD)).rejects.toMatchObject({ code: AuthFailure.badCredentials });
    await auth.login('paulo', password as string);
    expect((await auth.resetPassword(adminId, id, 'a-typed-password')).password).toBeUndefined();
    await auth.login('paulo', 'a-typed-password');
    await expect(auth.resetPassword(adminId, 999_999)).rejects.toMatchObject({ code: 'not_found' });
    // No password, typed or generated, reaches the audit trail.
    const all = JSON.stringify(await db.sql`select * from audit_log`);
    for (const secret of [PASSWORD, password as string, 'a-typed-password'])
      expect(all).not.toContain(secret);
  });

  it('records the last sign-in and audits it with the address', async () => {
    const id = await create('lena');
    expect((await auth.listUsers()).find((u) => u.id === id)?.lastLoginAt).toBeNull();
    const t0 = Date.now();
    await auth.login('lena', PASSWORD, '10.1.2.3');
    const last = (await auth.listUsers()).find((u) => u.id === id)?.lastLoginAt;
    expect(Math.abs((last?.getTime() ?? 0) - t0)).toBeLessThan(60_000);
    expect((await audit(id)).at(-1)).toEqual({
      action: 'auth.login',
      actor_id: id,
      before: null,
      after: { from: '10.1.2.3' },
    });
  });
});
