import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { SocketTickets, type TicketPrincipal } from './tickets.ts';
import { AuthError, AuthFailure, type Principal, type Role, TokenSigner } from './tokens.ts';
import { USERNAME, type UserRepository, type UserRow } from './users.ts';

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

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const principal = (u: UserRow): Principal => ({ userId: u.id, username: u.username, role: u.role });

export class AuthService {
  private constructor(
    private readonly users: UserRepository,
    readonly tokens: TokenSigner,
    readonly tickets: SocketTickets,
    private readonly opts: AuthOptions,
  ) {}

  /** Loads (or, in embedded mode, creates and keeps) the signing key. */
  static async create(users: UserRepository, opts: AuthOptions): Promise<AuthService> {
    const secret = opts.jwtSecret ?? (await users.secret('jwt', () => randomBytes(48).toString('base64url')));
    return new AuthService(
      users,
      new TokenSigner(secret, opts.accessTokenTtlS),
      new SocketTickets(secret),
      opts,
    );
  }

  /**
   * On an empty database, creates the first admin. Its password comes from TAPE_ADMIN_PASSWORD or
   * is generated and returned once so the caller can print it; it is never stored in clear.
   */
  async bootstrapAdmin(log: Logger): Promise<{ username: string; generatedPassword?: string } | undefined> {
    if ((await this.users.count()) > 0) return undefined;
    const generated = this.opts.adminPassword ? undefined : randomBytes(12).toString('base64url');
    const password = this.opts.adminPassword ?? (generated as string);
    const created = await this.users.create('admin', await hashPassword(password), 'admin');
    if (!created) return undefined; // another process won the race
    log.info({ username: 'admin' }, 'created the first admin user');
    return generated ? { username: 'admin', generatedPassword: generated } : { username: 'admin' };
  }

  async login(username: string, password: string): Promise<Session> {
    const user = await this.users.byUsername(username.toLowerCase());
    // Hash even for unknown users so response time does not reveal which usernames exist.
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok || user.disabled) {
      throw new AuthError(AuthFailure.badCredentials, 'Wrong username or password');
    }
    return this.issue(user);
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

  async createUser(username: string, password: string, role: Role): Promise<Principal> {
    if (!USERNAME.test(username))
      throw new RangeError('username: 3-40 characters of a-z, 0-9, dot, dash, underscore');
    if (password.length < 8) throw new RangeError('password: at least 8 characters');
    const user = await this.users.create(username, await hashPassword(password), role);
    if (!user) throw new RangeError(`username: ${username} is already taken`);
    return principal(user);
  }

  async listUsers(): Promise<Principal[]> {
    return (await this.users.list()).map(principal);
  }

  verify(token: string | undefined, scope?: string) {
    return this.tokens.verify(token, scope);
  }

  /**
   * Who opens a WebSocket, from its URL's query: a one-time `ticket` (the app: tickets.ts), or an
   * access `token` (tools: tests, benches, the soak; an app never puts a token in a URL).
   * Synchronous, as the upgrade must be (tokens.ts).
   */
  authenticateSocket(query: URLSearchParams): TicketPrincipal {
    const ticket = query.get('ticket');
    return ticket === null ? this.verify(query.get('token') ?? undefined) : this.tickets.redeem(ticket);
  }

  private async issue(user: UserRow): Promise<Session> {
    const p = principal(user);
    const refreshToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.opts.refreshTokenTtlS * 1000);
    await this.users.storeRefreshToken(sha256(refreshToken), user.id, expiresAt);
    return {
      accessToken: await this.tokens.sign(p),
      refreshToken,
      expiresIn: this.opts.accessTokenTtlS,
      user: p,
    };
  }
}

const DUMMY_HASH = await hashPassword(randomBytes(16).toString('hex'));
