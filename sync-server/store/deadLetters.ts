import { createHash } from 'node:crypto';
import {
  type DeadLetterRow,
  type DeadLetterStorage,
  type KeyedLetter,
  type LetterQuery,
  LettersRefused,
  type NewDeadLetter,
} from '../deadLetters/queue.ts';
import type { DeadLetterCount } from '../shared/admin.ts';
import { allOf, type Sql } from './db.ts';
import { isRefused } from './pgErrors.ts';

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
  createHash('sha256')
    .update(`${l.source}\n${l.reason}\n${JSON.stringify(l.payload)}`)
    .digest('hex');

type LetterRow = {
  source: string;
  reason: string;
  detail: string;
  payload: string;
  fingerprint: string;
  attempts: number;
};

/** The `dead_letters` table: the DeadLetterStorage of deadLetters/queue.ts. */
export class DeadLetterStore implements DeadLetterStorage {
  constructor(private readonly sql: Sql) {}

  /**
   * Adds letters; a repeat (same source, reason and payload) counts as another attempt, also
   * within one call (one statement cannot update a row twice).
   */
  async add(letters: readonly NewDeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const byPrint = new Map<string, LetterRow>();
    for (const l of letters) {
      const print = fingerprint(l);
      const seen = byPrint.get(print);
      if (seen) {
        seen.attempts++;
        seen.detail = l.detail;
      } else {
        byPrint.set(print, {
          source: l.source,
          reason: l.reason,
          detail: l.detail,
          payload: JSON.stringify(l.payload),
          fingerprint: print,
          attempts: 1,
        });
      }
    }
    // Statements of bounded size: a spill of thousands of letters goes in as several.
    const rows = [...byPrint.values()];
    for (let i = 0; i < rows.length; ) {
      let j = i;
      let bytes = 0;
      while (j < rows.length && (j === i || (j - i < 500 && bytes < 1 << 20)))
        bytes += (rows[j++] as LetterRow).payload.length;
      await this.insertRows(rows.slice(i, j));
      i = j;
    }
  }

  private async insertRows(rows: LetterRow[]): Promise<void> {
    const back = await this.sql<{ fingerprint: string }[]>`
      insert into dead_letters (source, reason, detail, payload, fingerprint, attempts)
      select source, reason, detail, payload::jsonb, fingerprint, attempts
      from json_to_recordset(${this.sql.json(rows)}::json)
        as x(source text, reason text, detail text, payload text, fingerprint text, attempts integer)
      on conflict (fingerprint) do update set attempts = dead_letters.attempts + excluded.attempts,
        last_seen = now(), detail = excluded.detail, resolved_at = null, resolution = null
      returning fingerprint`.catch((err: unknown) => {
      throw isRefused(err) ? new LettersRefused((err as Error).message, { cause: err }) : err;
    });
    // Taken as stored only if the statement answers for every letter: around a dying connection
    // postgres.js has reported statements complete that were not (see market/writer.ts).
    const stored = new Set(back.map((r) => r.fingerprint));
    if (back.length !== rows.length || rows.some((r) => !stored.has(r.fingerprint)))
      throw new Error(`dead letters not confirmed stored: ${back.length} of ${rows.length} answered for`);
  }

  async list(query: LetterQuery): Promise<DeadLetterRow[]> {
    return (await this.page(query)).map((k) => k.letter);
  }

  async page(query: LetterQuery): Promise<KeyedLetter[]> {
    const sql = this.sql;
    const { after } = query;
    const rows = await sql<(Raw & { seen_key: string })[]>`
      select *, to_char(last_seen at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as seen_key
      from dead_letters
      where ${this.where(query)}
        ${after ? sql`and (last_seen, id) < (${after.lastSeen}::text::timestamptz, ${after.id})` : sql``}
      order by last_seen desc, id desc limit ${query.limit}`;
    return rows.map((r) => ({ letter: toRow(r), key: { lastSeen: r.seen_key, id: Number(r.id) } }));
  }

  async counts(query: Pick<LetterQuery, 'source' | 'from' | 'to'>): Promise<DeadLetterCount[]> {
    const rows = await this.sql<DeadLetterCount[]>`
      select source, reason, count(*)::int as count from dead_letters
      where ${this.where({ ...query, status: 'open' })}
      group by source, reason order by count desc, source, reason`;
    return rows.map((r) => ({ source: r.source, reason: r.reason, count: r.count }));
  }

  private where(q: Omit<LetterQuery, 'limit' | 'after'>) {
    const sql = this.sql;
    const status = q.status ?? 'open';
    return allOf(sql, [
      status === 'open' && sql`resolved_at is null`,
      status === 'resolved' && sql`resolved_at is not null`,
      q.source !== undefined && sql`source = ${q.source}`,
      q.reason !== undefined && sql`reason = ${q.reason}`,
      q.from !== undefined && sql`last_seen >= ${q.from}::text::timestamptz`,
      q.to !== undefined && sql`last_seen < ${q.to}::text::timestamptz`,
    ]);
  }

  async get(id: number): Promise<DeadLetterRow | undefined> {
    const [row] = await this.sql<Raw[]>`select * from dead_letters where id = ${id}`;
    return row && toRow(row);
  }

  async resolve(id: number, resolution: string): Promise<void> {
    await this.sql`update dead_letters set resolved_at = now(), resolution = ${resolution} where id = ${id}`;
  }

  async retried(id: number, detail: string): Promise<void> {
    await this
      .sql`update dead_letters set attempts = attempts + 1, last_seen = now(), detail = ${detail} where id = ${id}`;
  }

  async countOpen(): Promise<number> {
    const [row] = await this.sql<
      { n: string }[]
    >`select count(*) as n from dead_letters where resolved_at is null`;
    return Number(row?.n ?? 0);
  }
}
