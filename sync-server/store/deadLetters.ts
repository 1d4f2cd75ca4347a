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

/** A payload made JSON-safe for the dead-letter table: bigints become strings. */
export const jsonSafe = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))) as unknown;

export const fingerprint = (l: NewDeadLetter) =>
  createHash('sha256')
    .update(`${l.source}\n${l.reason}\n${JSON.stringify(l.payload)}`)
    .digest('hex');

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

  async list(opts: {
    source?: string;
    includeResolved?: boolean;
    limit: number;
    beforeId?: number;
  }): Promise<DeadLetterRow[]> {
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

export interface DeadLetterQueueOptions {
  /** NDJSON file that holds letters while the database cannot take them. */
  readonly spillPath: string;
  readonly flushMs?: number;
  readonly onError?: (err: Error) => void;
  readonly onAdd?: (letter: NewDeadLetter) => void;
}

/**
 * The dead-letter queue every capability writes to. Letters are batched into the table; while
 * the database is unreachable they are appended to a local spill file and moved into the table
 * once it answers again, so a letter is never lost with the database down.
 */
export class DeadLetterQueue {
  private pending: NewDeadLetter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    readonly store: DeadLetterStore,
    private readonly opts: DeadLetterQueueOptions,
  ) {}

  add(letter: NewDeadLetter) {
    this.opts.onAdd?.(letter);
    this.pending.push(letter);
    this.timer ??= setTimeout(() => void this.flush(), this.opts.flushMs ?? 50);
  }

  /** Writes what is pending (and any spilled letters); resolves when done or spilled. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write() {
    const batch = this.pending;
    this.pending = [];
    const { appendFile, readFile, rm } = await import('node:fs/promises');
    try {
      const spilled = await readFile(this.opts.spillPath, 'utf8').catch(() => '');
      const recovered = spilled
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as NewDeadLetter);
      await this.store.add([...recovered, ...batch]);
      if (recovered.length > 0) await rm(this.opts.spillPath, { force: true });
    } catch (err) {
      this.opts.onError?.(err as Error);
      if (batch.length > 0)
        await appendFile(this.opts.spillPath, batch.map((l) => `${JSON.stringify(l)}\n`).join(''));
    }
  }
}
