import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import { MIN_PASSWORD, type Role, USERNAME } from '../shared/admin.ts';
import { generatePassword, hashPassword, verifyPassword } from './passwords.ts';
import { notBeforeSecond, Revocations } from './revocations.ts';
import { SocketTickets, type TicketPrincipal } from './tickets.ts';
import { AuthError, AuthFailure, type Principal, TokenSigner } from './tokens.ts';
import {
  type ChangeContext,
  toRevocation,
  type UserChange,
  UserChangeRefused,
  type UserRepository,
  type UserRow,
} from './users.ts';

export interface Session {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
  readonly user: Principal;
}

export interface AuthOptions {
  readonly jwtSecret: string | undefined;
  readonly accessTokenTtlS: number;
  readonly refreshTokenTtlS: number;
  readonly adminPassword: string | undefined;
}

/**
 * Why the server closes a user's open sockets (market /ws and /yjs rooms): the close reason,
 * sent with 4401 (protocol.md). A code, then a sentence to show.
 */
export const SocketsClosed = {
  disabled: 'account_disabled: an admin disabled this account',
  signedOut: 'signed_out: an admin signed this user out everywhere',
  roleChanged: "role_changed: an admin changed this user's role; connect again",
  accountChanged: "account_changed: an admin changed this user's trading account; connect again",
  passwordReset: 'password_reset: an admin reset this password; sign in with the new one',
} as const;
export type SocketsClosedReason = (typeof SocketsClosed)[keyof typeof SocketsClosed];

/** Closes every open socket of the user on this process (http/uws.ts closeSockets). */
export type SocketCloser = (userId: number, reason: SocketsClosedReason) => void;

/** A user just created or given a new password, with the password when the server made it up. */
export interface WithPassword {
  readonly user: UserRow;
  readonly password?: string;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const principal = (u: UserRow): Principal => ({ userId: u.id, username: u.username, role: u.role });

export class AuthService {
  private constructor(
    private readonly users: UserRepository,
    readonly tokens: TokenSigner,
    readonly tickets: SocketTickets,
    private readonly opts: AuthOptions,
    private readonly revocations: Revocations,
    private readonly closeSockets: SocketCloser,
  ) {}

  /**
   * Loads (or, in embedded mode, creates and keeps) the signing key, and the users whose
   * credentials are refused before they expire. `closeSockets` is how a disable, a sign-out or a
   * role change closes the user's open sockets.
   */
  static async create(
    users: UserRepository,
    opts: AuthOptions,
    closeSockets: SocketCloser = () => {},
  ): Promise<AuthService> {
    const secret = opts.jwtSecret ?? (await users.secret('jwt', () => randomBytes(48).toString('base64url')));
    return new AuthService(
      users,
      new TokenSigner(secret, opts.accessTokenTtlS),
      new SocketTickets(secret),
      opts,
      new Revocations(await users.revocations()),
      closeSockets,
    );
  }

  /**
   * On an empty database, creates the first admin. Its password comes from TAPE_ADMIN_PASSWORD or
   * is generated and returned once so the caller can print it; it is never stored in clear.
   */
  async bootstrapAdmin(log: Logger): Promise<{ username: string; generatedPassword?: string } | undefined> {
    if ((await this.users.count()) > 0) return undefined;
    const generated = this.opts.adminPassword ? undefined : generatePassword();
    const password = this.opts.adminPassword ?? (generated as string);
    const created = await this.users.create('admin', await hashPassword(password), 'admin', {
      actorId: null,
      at: new Date(),
    });
    if (!created) return undefined; // another process won the race
    log.info({ username: 'admin' }, 'created the first admin user');
    return generated ? { username: 'admin', generatedPassword: generated } : { username: 'admin' };
  }

  /**
   * A sign-in, audited with `from` (the client's address): refused ones of a known user too (a
   * typed unknown name is not kept: it may be a password typed in the wrong field).
   */
  async login(username: string, password: string, from?: string): Promise<Session> {
    const user = await this.users.byUsername(username.toLowerCase());
    // Hash even for unknown users so response time does not reveal which usernames exist.
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      if (user) await this.users.recordLoginRefused(user.id, 'wrong_password', from);
      throw new AuthError(AuthFailure.badCredentials, 'Wrong username or password');
    }
    // Said only to whoever knows the password: it tells nothing to a guesser.
    if (user.disabled) {
      await this.users.recordLoginRefused(user.id, AuthFailure.accountDisabled, from);
      throw new AuthError(AuthFailure.accountDisabled, 'This account is disabled: ask an admin');
    }
    const session = await this.issue(user);
    await this.users.recordLogin(user.id, from);
    return session;
  }

  async refresh(refreshToken: string): Promise<Session> {
    const userId = await this.users.consumeRefreshToken(sha256(refreshToken));
    const user = userId === undefined ? undefined : await this.users.byId(userId);
    if (!user || user.disabled) {
      throw new AuthError(
        AuthFailure.refreshInvalid,
        'The session has expired or was signed out: sign in again',
      );
    }
    return this.issue(user);
  }

  async logout(refreshToken: string): Promise<void> {
    await this.users.consumeRefreshToken(sha256(refreshToken));
  }

  /**
   * A new user with the password typed (at least MIN_PASSWORD characters) or, without one, a
   * generated one returned this once. Throws UserChangeRefused.
   */
  async createUser(
    input: { readonly username: string; readonly role: Role; readonly password?: string | undefined },
    actorId: number | null = null,
  ): Promise<WithPassword> {
    const { username, role } = input;
    if (!USERNAME.test(username)) {
      throw new UserChangeRefused(
        'invalid_username',
        'username: 3-40 characters of a-z, 0-9, dot, dash, underscore',
      );
    }
    const { password, generated } = this.newPassword(input.password);
    const user = await this.users.create(username, await hashPassword(password), role, this.ctx(actorId));
    if (!user) throw new UserChangeRefused('username_taken', `username: ${username} is already taken`);
    return generated ? { user, password } : { user };
  }

  async listUsers(): Promise<UserRow[]> {
    return this.users.list();
  }

  /**
   * Changes a user's role or disables/enables it. No change may leave no enabled admin. A
   * disable revokes the user's refresh tokens and, like a role change, refuses its access
   * tokens and tickets issued before and closes its open sockets at once. Throws UserChangeRefused.
   */
  async changeUser(actorId: number, id: number, change: UserChange): Promise<UserRow> {
    const outcome = await this.users.update(id, change, this.ctx(actorId));
    if (outcome === 'not_found') throw noSuchUser(id);
    if (outcome === 'last_admin') {
      throw new UserChangeRefused(
        'last_admin',
        'This would leave no enabled admin: make another user an admin first',
      );
    }
    const { user, before } = outcome;
    this.revocations.set(toRevocation(user));
    if (user.disabled && !before.disabled) this.closeSockets(id, SocketsClosed.disabled);
    else if (user.role !== before.role) this.closeSockets(id, SocketsClosed.roleChanged);
    return user;
  }

  /**
   * A new password (typed, or generated and returned once). It signs the user out everywhere:
   * refresh tokens revoked, access tokens and tickets issued before refused, sockets closed.
   */
  async resetPassword(actorId: number, id: number, typed?: string): Promise<WithPassword> {
    const { password, generated } = this.newPassword(typed);
    const user = await this.users.setPassword(id, await hashPassword(password), this.ctx(actorId));
    if (!user) throw noSuchUser(id);
    this.revocations.set(toRevocation(user));
    this.closeSockets(id, SocketsClosed.passwordReset);
    return generated ? { user, password } : { user };
  }

  /**
   * The trading account a user trades (null: none). The user's open sockets close, so that its
   * next /ws joins the pushes of the new account and no longer those of the old one.
   */
  async setAccount(actorId: number, id: number, accountId: string | null): Promise<UserRow> {
    const outcome = await this.users.setAccount(id, accountId, this.ctx(actorId));
    if (outcome === 'not_found') throw noSuchUser(id);
    if (outcome === 'unknown_account')
      throw new UserChangeRefused('unknown_account', `No account ${accountId}: create it first`);
    if (outcome.user.accountId !== outcome.before.accountId)
      this.closeSockets(id, SocketsClosed.accountChanged);
    return outcome.user;
  }

  /**
   * Signs the user out everywhere: its refresh tokens revoked, its access tokens and tickets
   * refused, its open sockets closed.
   */
  async signOut(actorId: number, id: number): Promise<UserRow> {
    const user = await this.users.signOut(id, this.ctx(actorId));
    if (!user) throw noSuchUser(id);
    this.revocations.set(toRevocation(user));
    this.closeSockets(id, SocketsClosed.signedOut);
    return user;
  }

  /** The token's principal; a disabled user's, or one issued before a sign-out, throws AuthError. */
  /** Whether an admin disabled the user. */
  isDisabled(userId: number): boolean {
    return this.revocations.disabled(userId);
  }

  verify(token: string | undefined, scope?: string) {
    return this.tokens.verify(token, scope, this.revocations.check);
  }

  /**
   * Who opens a WebSocket, from its URL's query: a one-time `ticket` (the app: tickets.ts), or an
   * access `token` (tools: tests, benches, the soak; an app never puts a token in a URL).
   * Synchronous, as the upgrade must be (tokens.ts).
   */
  authenticateSocket(query: URLSearchParams): TicketPrincipal {
    const ticket = query.get('ticket');
    return ticket === null
      ? this.verify(query.get('token') ?? undefined)
      : this.tickets.redeem(ticket, this.revocations.check);
  }

  private ctx(actorId: number | null): ChangeContext {
    return { actorId, at: new Date() };
  }

  private newPassword(typed: string | undefined): { password: string; generated: boolean } {
    if (typed === undefined) return { password: generatePassword(), generated: true };
    if (typed.length < MIN_PASSWORD) {
      throw new UserChangeRefused('weak_password', `password: at least ${MIN_PASSWORD} characters`);
    }
    return { password: typed, generated: false };
  }

  private async issue(user: UserRow): Promise<Session> {
    const p = principal(user);
    const refreshToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.opts.refreshTokenTtlS * 1000);
    await this.users.storeRefreshToken(sha256(refreshToken), user.id, expiresAt);
    return {
      // After the user's last sign-out, even within its second (revocations.ts).
      accessToken: await this.tokens.sign(
        p,
        'api',
        undefined,
        Math.max(Math.floor(Date.now() / 1000), notBeforeSecond(user.tokensNotBefore)),
      ),
      refreshToken,
      expiresIn: this.opts.accessTokenTtlS,
      user: p,
    };
  }
}

const noSuchUser = (id: number) => new UserChangeRefused('not_found', `No user ${id}`);

const DUMMY_HASH = await hashPassword(randomBytes(16).toString('hex'));
