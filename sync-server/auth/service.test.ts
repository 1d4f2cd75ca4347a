import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import type { Database } from '../store/db.ts';
import { testBackends } from '../store/testing.ts';
import { UserStore } from '../store/users.ts';
import { verifyPassword } from './passwords.ts';
import { AuthService } from './service.ts';
import { AuthError, AuthFailure, TokenSigner } from './tokens.ts';

const log = createLogger('silent');
const opts = { jwtSecret: undefined, accessTokenTtlS: 60, refreshTokenTtlS: 3600, adminPassword: undefined };

describe.each(testBackends())('AuthService on $name', (backend) => {
  let db: Database;
  let auth: AuthService;
  beforeAll(async () => {
    db = await backend.open();
    auth = await AuthService.create(new UserStore(db.sql), opts);
  });
  afterAll(() => db?.close());

  it('creates the first admin once, with a generated one-time password stored only as a hash', async () => {
    const first = await auth.bootstrapAdmin(log);
    expect(first?.generatedPassword).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(await auth.bootstrapAdmin(log)).toBeUndefined();
    const [row] = await db.sql<
      { password_hash: string }[]
    >`select password_hash from users where username = 'admin'`;
    expect(row?.password_hash).not.toContain(first?.generatedPassword);
    expect(await verifyPassword(first?.generatedPassword as string, row?.password_hash as string)).toBe(true);
    const session = await auth.login('admin', first?.generatedPassword as string);
    expect(session.user.role).toBe('admin');
  });

  it('signs in and verifies the access token', async () => {
    await auth.createUser({ username: 'maria', password: 'correct horse', role: 'trader' });
    const s = await auth.login('maria', 'correct horse');
    const p = await auth.verify(s.accessToken);
    expect(p).toMatchObject({ username: 'maria', role: 'trader' });
    expect(p.expiresAt).toBeGreaterThan(Date.now());
  });

  it('rejects a wrong password and an unknown user with the same reason', async () => {
    await expect(auth.login('maria', 'wrong horse')).rejects.toMatchObject({
      code: AuthFailure.badCredentials,
    });
    await expect(auth.login('nobody', 'whatever')).rejects.toMatchObject({
      code: AuthFailure.badCredentials,
    });
  });

  it('rejects a forged token, a token signed with another key, and no token', async () => {
    const s = await auth.login('maria', 'correct horse');
    const [h, , sig] = s.accessToken.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ sub: '1', role: 'admin', name: 'maria', scope: 'api' }),
    ).toString('base64url');
    const failure = (token: string | undefined) => {
      try {
        auth.verify(token);
      } catch (err) {
        return err;
      }
    };
    expect(failure(`${h}.${forgedPayload}.${sig}`)).toMatchObject({ code: AuthFailure.invalid });
    const other = new TokenSigner('x'.repeat(48), 60);
    expect(failure(await other.sign({ userId: 1, username: 'maria', role: 'admin' }))).toMatchObject({
      code: AuthFailure.invalid,
    });
    expect(failure(undefined)).toMatchObject({ code: AuthFailure.missing });
  });

  it('rejects an expired token as expired', async () => {
    const secret = (await db.sql<{ value: string }[]>`select value from server_secrets where name = 'jwt'`)[0]
      ?.value as string;
    const expired = await new SignJWT({ role: 'trader', name: 'maria', scope: 'api' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('2')
      .setIssuer('tape')
      .setAudience('tape')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(secret));
    expect(() => auth.verify(expired)).toThrow(AuthError);
    expect(() => auth.verify(expired)).toThrow(expect.objectContaining({ code: AuthFailure.expired }));
  });

  it('rotates refresh tokens: each works once, and logout revokes', async () => {
    const s = await auth.login('maria', 'correct horse');
    const next = await auth.refresh(s.refreshToken);
    expect(next.refreshToken).not.toBe(s.refreshToken);
    await expect(auth.refresh(s.refreshToken)).rejects.toMatchObject({ code: AuthFailure.refreshInvalid });
    await auth.logout(next.refreshToken);
    await expect(auth.refresh(next.refreshToken)).rejects.toMatchObject({ code: AuthFailure.refreshInvalid });
  });

  it('keeps the generated signing key across restarts', async () => {
    const s = await auth.login('maria', 'correct horse');
    const again = await AuthService.create(new UserStore(db.sql), opts);
    expect(again.verify(s.accessToken)).toMatchObject({ username: 'maria' });
  });

  it('refuses a taken username and a short password', async () => {
    await expect(
      auth.createUser({ username: 'maria', password: 'another pass', role: 'viewer' }),
    ).rejects.toMatchObject({ code: 'username_taken', message: expect.stringMatching(/already taken/) });
    // MIN_PASSWORD (10) since the admin screens: 9 characters are refused, 10 taken.
    await expect(
      auth.createUser({ username: 'joao', password: 'short-pw!', role: 'viewer' }),
    ).rejects.toMatchObject({ code: 'weak_password', message: expect.stringMatching(/at least 10/) });
    expect(
      (await auth.createUser({ username: 'joao', password: '10-chars!!', role: 'viewer' })).password,
    ).toBe(undefined);
  });
});
