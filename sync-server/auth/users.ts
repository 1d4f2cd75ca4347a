import type { Role, UserJson } from '../shared/admin.ts';
import type { Revocation } from './revocations.ts';

export interface UserRow {
  readonly id: number;
  readonly username: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly disabled: boolean;
  readonly accountId: string | null;
  readonly createdAt: Date;
  readonly lastLoginAt: Date | null;
  /** Credentials issued before this are refused (revocations.ts); null: none are. */
  readonly tokensNotBefore: Date | null;
}

export const toUserJson = (u: UserRow): UserJson => ({
  userId: u.id,
  username: u.username,
  role: u.role,
  accountId: u.accountId,
  disabled: u.disabled,
  createdAt: u.createdAt.toISOString(),
  lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
});

export const toRevocation = (u: UserRow): Revocation => ({
  userId: u.id,
  disabled: u.disabled,
  tokensNotBefore: u.tokensNotBefore?.getTime() ?? null,
});

/** Why a change of the users was refused; http/routes/users.ts answers each with its status. */
export type UserRefusalCode =
  | 'invalid_username'
  | 'weak_password'
  | 'username_taken'
  | 'last_admin'
  | 'unknown_account'
  | 'not_found';

export class UserChangeRefused extends Error {
  override name = 'UserChangeRefused';
  constructor(
    readonly code: UserRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

/** A change of one user an admin asks for; absent fields stay as they are. */
export interface UserChange {
  readonly role?: Role;
  readonly disabled?: boolean;
}

/** Who made a change, and when (this process's clock: tokens are compared with it). */
export interface ChangeContext {
  /** Null for the server itself (the first admin). */
  readonly actorId: number | null;
  readonly at: Date;
}

/**
 * Where users, their refresh tokens and the server's secrets are kept: store/users.ts. Every
 * change of a user is written with its audit_log entry, together.
 */
export interface UserRepository {
  count(): Promise<number>;
  byUsername(username: string): Promise<UserRow | undefined>;
  byId(id: number): Promise<UserRow | undefined>;
  list(): Promise<UserRow[]>;
  /** Returns undefined when the username is taken. */
  create(
    username: string,
    passwordHash: string,
    role: Role,
    ctx: ChangeContext,
  ): Promise<UserRow | undefined>;
  /**
   * Applies the change, unless it would leave no enabled admin ('last_admin', nothing written);
   * 'not_found' for no such user. A disable revokes the user's refresh tokens, and a disable or
   * a role change sets `tokensNotBefore` to `ctx.at`. Changes are serialised, so two that each
   * leave one admin cannot together leave none.
   */
  update(
    id: number,
    change: UserChange,
    ctx: ChangeContext,
  ): Promise<{ user: UserRow; before: UserRow } | 'not_found' | 'last_admin'>;
  /**
   * The trading account the user trades (null: none), audited as `user.account`; 'not_found'
   * for no such user, 'unknown_account' for no such account (nothing written).
   */
  setAccount(
    id: number,
    accountId: string | null,
    ctx: ChangeContext,
  ): Promise<{ user: UserRow; before: UserRow } | 'not_found' | 'unknown_account'>;
  /**
   * A new password; the user's refresh tokens are revoked and `tokensNotBefore` set (a reset
   * signs the user out everywhere). Undefined for no such user.
   */
  setPassword(id: number, passwordHash: string, ctx: ChangeContext): Promise<UserRow | undefined>;
  /** Revokes every refresh token of the user and sets `tokensNotBefore`. Undefined for no such user. */
  signOut(id: number, ctx: ChangeContext): Promise<UserRow | undefined>;
  /** A sign-in: `last_login_at`, and its audit entry (from where). */
  recordLogin(id: number, from: string | undefined): Promise<void>;
  /** A refused sign-in of a known user (a wrong password, a disabled account), audited. */
  recordLoginRefused(id: number, reason: string, from: string | undefined): Promise<void>;
  /** The users whose credentials are refused before they expire (revocations.ts), at start. */
  revocations(): Promise<Revocation[]>;
  storeRefreshToken(tokenHash: string, userId: number, expiresAt: Date): Promise<void>;
  /** Revokes the token and returns its user when it was live: a refresh token works once. */
  consumeRefreshToken(tokenHash: string): Promise<number | undefined>;
  /** The named secret; `create` makes it the first time, and every process then reads that one. */
  secret(name: string, create: () => string): Promise<string>;
}
