import type postgres from 'postgres';
import type { AuditJson } from '../shared/admin.ts';
import { allOf, type Sql } from './db.ts';

// The audit trail, `audit_log`: the one way a row is written (writeAudit, inside the caller's
// transaction when the change has one) and the admin's filtered, keyset-paged read.

/** Who did what to which target; `before`/`after` as JSON (left out: null). */
export interface AuditEntry {
  /** Null when no user did it (a refused sign-in of a name that exists). */
  readonly actorId: number | null;
  /** `<area>.<verb>`, e.g. `user.role`, `order.submit`. */
  readonly action: string;
  /** `<kind>:<id>`, e.g. `user:7`, `order:42`, `account:ACC-1`. */
  readonly target: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** The database, or a transaction: an entry commits or rolls back with the change it records. */
type Writer = Sql | postgres.TransactionSql;
type Json = Parameters<Sql['json']>[0];
const json = (sql: Writer, v: unknown) => (v === undefined || v === null ? null : sql.json(v as Json));

/** Writes one audit row through `sql`: a transaction's, so it commits or rolls back with the change. */
export async function writeAudit(sql: Writer, e: AuditEntry): Promise<void> {
  await sql`insert into audit_log (actor_id, action, target, before, after)
    values (${e.actorId}, ${e.action}, ${e.target}, ${json(sql, e.before)}, ${json(sql, e.after)})`;
}

/** Entries newest first: by actor's username, action (exact, or a prefix ending in `.`), target, time. */
export interface AuditQuery {
  readonly actor?: string;
  /** `user.role` is that action; `user.` every action that starts so. */
  readonly action?: string;
  readonly target?: string;
  /** ISO times: from inclusive, to exclusive. */
  readonly from?: string;
  readonly to?: string;
  readonly limit: number;
  /** Entries older than this id (the last of the page before). */
  readonly beforeId?: number;
}

type Raw = {
  id: string;
  actor_id: string | null;
  username: string | null;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
  at: Date;
};

/** `like` takes `%`, `_` and `\` as patterns: a prefix is matched as typed. */
const likePrefix = (prefix: string) => `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class AuditStore {
  constructor(private readonly sql: Sql) {}

  record(e: AuditEntry): Promise<void> {
    return writeAudit(this.sql, e);
  }

  async list(q: AuditQuery): Promise<AuditJson[]> {
    const sql = this.sql;
    const where = allOf(sql, [
      q.actor !== undefined && sql`u.username = ${q.actor}`,
      q.action !== undefined &&
        (q.action.endsWith('.') ? sql`a.action like ${likePrefix(q.action)}` : sql`a.action = ${q.action}`),
      q.target !== undefined && sql`a.target = ${q.target}`,
      q.from !== undefined && sql`a.at >= ${q.from}::text::timestamptz`,
      q.to !== undefined && sql`a.at < ${q.to}::text::timestamptz`,
      q.beforeId !== undefined && sql`a.id < ${q.beforeId}`,
    ]);
    const rows = await sql<Raw[]>`
      select a.id, a.actor_id, u.username, a.action, a.target, a.before, a.after, a.at
      from audit_log a left join users u on u.id = a.actor_id
      where ${where}
      order by a.id desc limit ${q.limit}`;
    return rows.map((r) => ({
      id: Number(r.id),
      actor:
        r.actor_id === null ? null : { id: Number(r.actor_id), username: r.username ?? `user ${r.actor_id}` },
      action: r.action,
      target: r.target,
      before: r.before,
      after: r.after,
      at: r.at.toISOString(),
    }));
  }
}
