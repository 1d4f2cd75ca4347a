import type { Role } from './tokens.ts';

export interface UserRow {
  readonly id: number;
  readonly username: string;
  readonly passwordHash: string;
  readonly role: Role;
  readonly disabled: boolean;
}

export const USERNAME = /^[a-z0-9._-]{3,40}$/;

/** Where users, their refresh tokens and the server's secrets are kept: store/users.ts. */
export interface UserRepository {
  count(): Promise<number>;
  byUsername(username: string): Promise<UserRow | undefined>;
  byId(id: number): Promise<UserRow | undefined>;
  list(): Promise<UserRow[]>;
  /** Returns undefined when the username is taken. */
  create(username: string, passwordHash: string, role: Role): Promise<UserRow | undefined>;
  storeRefreshToken(tokenHash: string, userId: number, expiresAt: Date): Promise<void>;
  /** Revokes the token and returns its user when it was live: a refresh token works once. */
  consumeRefreshToken(tokenHash: string): Promise<number | undefined>;
  /** The named secret; `create` makes it the first time, and every process then reads that one. */
  secret(name: string, create: () => string): Promise<string>;
}
