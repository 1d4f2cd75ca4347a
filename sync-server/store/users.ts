import type postgres from 'postgres';
import type { Revocation } from '../auth/revocations.ts';
import type { ChangeContext, UserChange, UserRepository, UserRow } from '../auth/users.ts';
import type { Role } from '../shared/admin.ts';
import { writeAudit } from './audit.ts';
import type { Sql } from './db.ts';

type Raw = {
  id: string | number;
  username: string;
  password_hash: string;
  role: Role;
  disabled_at: Date | null;
  account_id: string | null;
  created_at: Date;
  last_login_at: Date | null;
  tokens_not_before: Date | null;
};
const toUser = (r: Raw): UserRow => ({
  id: Number(r.id),
  username: r.username,
  passwordHash: r.password_hash,
  role: r.role,
  disabled: r.disabled_at !== null,
  accountId: r.account_id,
  createdAt: r.created_at,
  lastLoginAt: r.last_login_at,
  tokensNotBefore: r.tokens_not_before,
});

// Any fixed number: every change of a role or of disabled takes it, so the last-admin check of
// one sees what the one before it committed (two demotions of two admins never both pass).
const USER_CHANGE_LOCK = 7_265_124;

/** A transaction's refusal: rolls back, then is answered as the outcome. */
class Refused extends Error {
  constructor(readonly outcome: 'last_admin') {
    super(outcome);
  }
}

const target = (id: number) => `user:${id}`;

/**
 * The users, refresh_tokens and server_secrets tables: auth/users.ts's UserRepository. Each
 * change of a user and its audit_log entry are one transaction.
 */
export class UserStore implements UserRepository {
  constructor(private readonly sql: Sql) {}

  async count(): Promise<number> {
    const [row] = await this.sql<{ n: string }[]>`select count(*) as n from users`;
    return Number(row?.n ?? 0);
  }

  async byUsername(username: string): Promise<UserRow | undefined> {
    const [row] = await this.sql<Raw[]>`select * from users where username = ${username}`;
    return row && toUser(row);
  }

  async byId(id: number): Promise<UserRow | undefined> {
    const [row] = await this.sql<Raw[]>`select * from users where id = ${id}`;
    return row && toUser(row);
  }

  async list(): Promise<UserRow[]> {
    return (await this.sql<Raw[]>`select * from users order by id`).map(toUser);
  }

  async create(
    username: string,
    passwordHash: string,
    role: Role,
    ctx: ChangeContext,
  ): Promise<UserRow | undefined> {
    return this.sql.begin(async (tx) => {
      const [row] = await tx<Raw[]>`
        insert into users (username, password_hash, role) values (${username}, ${passwordHash}, ${role})
        on conflict (username) do nothing returning *`;
      if (!row) return undefined;
      const user = toUser(row);
      await writeAudit(tx, {
        actorId: ctx.actorId,
        action: 'user.create',
        target: target(user.id),
        after: { username, role },
      });
      return user;
    });
  }

  async update(
    id: number,
    change: UserChange,
    ctx: ChangeContext,
  ): Promise<{ user: UserRow; before: UserRow } | 'not_found' | 'last_admin'> {
    try {
      return await this.sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(${USER_CHANGE_LOCK})`;
        const [raw] = await tx<Raw[]>`select * from users where id = ${id} for update`;
        if (!raw) return 'not_found' as const;
        const before = toUser(raw);
        const role = change.role ?? before.role;
        const disabled = change.disabled ?? before.disabled;
        if (role === before.role && disabled === before.disabled) return { user: before, before };
        const [row] = await tx<Raw[]>`
          update users set
            role = ${role},
            disabled_at = ${disabled ? (before.disabled ? raw.disabled_at : ctx.at) : null},
            tokens_not_before = ${role !== before.role || (disabled && !before.disabled) ? ctx.at : raw.tokens_not_before}
          where id = ${id} returning *`;
        const [admins] = await tx<{ n: string }[]>`
          select count(*) as n from users where role = 'admin' and disabled_at is null`;
        if (Number(admins?.n ?? 0) === 0) throw new Refused('last_admin');
        if (disabled && !before.disabled) await this.revokeRefreshTokens(tx, id, ctx.at);
        if (role !== before.role) {
          await writeAudit(tx, {
            actorId: ctx.actorId,
            action: 'user.role',
            target: target(id),
            before: { role: before.role },
            after: { role },
          });
        }
        if (disabled !== before.disabled) {
          await writeAudit(tx, {
            actorId: ctx.actorId,
            action: disabled ? 'user.disable' : 'user.enable',
            target: target(id),
            before: { disabled: before.disabled },
            after: { disabled },
          });
        }
        return { user: toUser(row as Raw), before };
      });
    } catch (err) {
      if (err instanceof Refused) return err.outcome;
      throw err;
    }
  }

  async setAccount(
    id: number,
    accountId: string | null,
    ctx: ChangeContext,
  ): Promise<{ user: UserRow; before: UserRow } | 'not_found' | 'unknown_account'> {
    return this.sql.begin(async (tx) => {
      const [raw] = await tx<Raw[]>`select * from users where id = ${id} for update`;
      if (!raw) return 'not_found' as const;
      const before = toUser(raw);
      if (accountId !== null) {
        const [account] = await tx`select 1 from accounts where id = ${accountId} for key share`;
        if (!account) return 'unknown_account' as const;
      }
      if (before.accountId === accountId) return { user: before, before };
      const [row] = await tx<Raw[]>`update users set account_id = ${accountId} where id = ${id} returning *`;
      await writeAudit(tx, {
        actorId: ctx.actorId,
        action: 'user.account',
        target: target(id),
        before: { accountId: before.accountId },
        after: { accountId },
      });
      return { user: toUser(row as Raw), before };
    });
  }

  async setPassword(id: number, passwordHash: string, ctx: ChangeContext): Promise<UserRow | undefined> {
    return this.sql.begin(async (tx) => {
      const [row] = await tx<Raw[]>`
        update users set password_hash = ${passwordHash}, tokens_not_before = ${ctx.at}
        where id = ${id} returning *`;
      if (!row) return undefined;
      const revoked = await this.revokeRefreshTokens(tx, id, ctx.at);
      await writeAudit(tx, {
        actorId: ctx.actorId,
        action: 'user.password_reset',
        target: target(id),
        after: { refreshTokensRevoked: revoked },
      });
      return toUser(row);
    });
  }

  async signOut(id: number, ctx: ChangeContext): Promise<UserRow | undefined> {
    return this.sql.begin(async (tx) => {
      const [row] = await tx<Raw[]>`
        update users set tokens_not_before = ${ctx.at} where id = ${id} returning *`;
      if (!row) return undefined;
      const revoked = await this.revokeRefreshTokens(tx, id, ctx.at);
      await writeAudit(tx, {
        actorId: ctx.actorId,
        action: 'user.sign_out',
        target: target(id),
        after: { refreshTokensRevoked: revoked },
      });
      return toUser(row);
    });
  }

  async recordLogin(id: number, from: string | undefined): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`update users set last_login_at = now() where id = ${id}`;
      await writeAudit(tx, {
        actorId: id,
        action: 'auth.login',
        target: target(id),
        after: { from: from ?? null },
      });
    });
  }

  async recordLoginRefused(id: number, reason: string, from: string | undefined): Promise<void> {
    await writeAudit(this.sql, {
      actorId: null,
      action: 'auth.login_refused',
      target: target(id),
      after: { reason, from: from ?? null },
    });
  }

  async revocations(): Promise<Revocation[]> {
    const rows = await this.sql<Raw[]>`
      select * from users where disabled_at is not null or tokens_not_before is not null`;
    return rows.map((r) => ({
      userId: Number(r.id),
      disabled: r.disabled_at !== null,
      tokensNotBefore: r.tokens_not_before?.getTime() ?? null,
    }));
  }

  async storeRefreshToken(tokenHash: string, userId: number, expiresAt: Date): Promise<void> {
    await this.sql`insert into refresh_tokens (token_hash, user_id, expires_at)
      values (${tokenHash}, ${userId}, ${expiresAt})`;
  }

  async consumeRefreshToken(tokenHash: string): Promise<number | undefined> {
    const [row] = await this.sql<{ user_id: string }[]>`
      update refresh_tokens set revoked_at = now()
      where token_hash = ${tokenHash} and revoked_at is null and expires_at > now()
      returning user_id`;
    return row ? Number(row.user_id) : undefined;
  }

  async secret(name: string, create: () => string): Promise<string> {
    await this
      .sql`insert into server_secrets (name, value) values (${name}, ${create()}) on conflict (name) do nothing`;
    const [row] = await this.sql<{ value: string }[]>`select value from server_secrets where name = ${name}`;
    if (!row) throw new Error(`server secret ${name} could not be stored`);
    return row.value;
  }

  /** How many live refresh tokens of the user were revoked. */
  private async revokeRefreshTokens(tx: postgres.TransactionSql, id: number, at: Date): Promise<number> {
    const rows = await tx`
      update refresh_tokens set revoked_at = ${at} where user_id = ${id} and revoked_at is null returning 1`;
    return rows.length;
  }
}
