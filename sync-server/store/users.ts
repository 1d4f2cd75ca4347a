import type { Role } from '../auth/tokens.ts';
import type { UserRepository, UserRow } from '../auth/users.ts';
import type { Sql } from './db.ts';

type Raw = {
  id: string | number;
  username: string;
  password_hash: string;
  role: Role;
  disabled_at: Date | null;
};
const toUser = (r: Raw): UserRow => ({
  id: Number(r.id),
  username: r.username,
  passwordHash: r.password_hash,
  role: r.role,
  disabled: r.disabled_at !== null,
});

/** The users, refresh_tokens and server_secrets tables: auth/users.ts's UserRepository. */
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

  async create(username: string, passwordHash: string, role: Role): Promise<UserRow | undefined> {
    const [row] = await this.sql<Raw[]>`
      insert into users (username, password_hash, role) values (${username}, ${passwordHash}, ${role})
      on conflict (username) do nothing returning *`;
    return row && toUser(row);
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
}
