import { createHash } from 'node:crypto';
import type { Sql } from './db.ts';

export interface NewDeadLetter {
  readonly source: string;
  readonly reason: string;
  readonly detail: string;
  readonly payload: unknown;
}

export interface DeadLetterRow extends NewDeadLetter {
  readonly id: number;
  readonly attempts: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly resolvedAt: string | null;
  readonly resolution: string | null;
}

type Raw = {
  id: string;
  source: string;
  reason: string;
  detail: string;
  payload: unknown;
  attempts: number;
  first_seen: Date;
  last_seen: Date;
  resolved_at: Date | null;
  resolution: string | null;
};
const toRow = (r: Raw): DeadLetterRow => ({
  id: Number(r.id),
  source: r.source,
  reason: r.reason,
  detail: r.detail,
  payload: r.payload,
  attempts: r.attempts,
  firstSeen: r.first_seen.toISOString(),
  lastSeen: r.last_seen.toISOString(),
  resolvedAt: r.resolved_at?.toISOString() ?? null,
  resolution: r.resolution,
});

export const fingerprint = (l: NewDeadLetter) =>
  createHash('sha256').update(`${l.source}\n${l.reason}\n${JSON.stringify(l.payload)}`).digest('hex');

export class DeadLetterStore {
  constructor(private readonly sql: Sql) {}

  /** Adds letters; a repeat (same source, reason and payload) counts as another attempt. */
  async add(letters: readonly NewDeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const rows = letters.map((l) => ({
      source: l.source,
      reason: l.reason,
      detail: l.detail,
      payload: JSON.stringify(l.payload),
      fingerprint: fingerprint(l),
    }));
    await this.sql`insert into dead_letters (source, reason, detail, payload, fingerprint)
      select source, reason, detail, payload::jsonb, fingerprint
      from json_to_recordset(${this.sql.json(rows)}::json)
        as x(source text, reason text, detail text, payload text, fingerprint text)
      on conflict (fingerprint) do update set attempts = dead_letters.attempts + 1, last_seen = now(),
        detail = excluded.detail, resolved_at = null, resolution = null`;
  }

  async list(opts: { source?: string; includeResolved?: boolean; limit: number; beforeId?: number }): Promise<DeadLetterRow[]> {
    const rows = await this.sql<Raw[]>`select * from dead_letters
      where (${opts.source ?? null}::text is null or source = ${opts.source ?? null})
        and (${opts.includeResolved ?? false} or resolved_at is null)
        and (${opts.beforeId ?? null}::bigint is null or id < ${opts.beforeId ?? null})
      order by id desc limit ${opts.limit}`;
    return rows.map(toRow);
  }

  async get(id: number): Promise<DeadLetterRow | undefined> {
    const [row] = await this.sql<Raw[]>`select * from dead_letters where id = ${id}`;
    return row && toRow(row);
  }

  async resolve(id: number, resolution: string): Promise<void> {
    await this.sql`update dead_letters set resolved_at = now(), resolution = ${resolution} where id = ${id}`;
  }

  async retried(id: number, detail: string): Promise<void> {
    await this.sql`update dead_letters set attempts = attempts + 1, last_seen = now(), detail = ${detail} where id = ${id}`;
  }

  async countOpen(): Promise<number> {
    const [row] = await this.sql<{ n: string }[]>`select count(*) as n from dead_letters where resolved_at is null`;
    return Number(row?.n ?? 0);
  }
}
