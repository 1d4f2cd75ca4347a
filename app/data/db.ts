import { Dexie, type EntityTable } from 'dexie';
import yDexie from 'y-dexie';
import type * as Y from 'yjs';
import type { NewAlertJson } from '../../sync-server/shared/alerts.ts';
import type { Quote } from '../../sync-server/shared/market.ts';
import type { OrderType } from '../../sync-server/shared/orders.ts';
import type { NewBracket } from '../orders/api.ts';

/** The last quote seen for a ticker, kept for a cold offline start. */
export interface QuoteRow extends Quote {
  /** Local time it was received: the board shows its age, never as live. */
  readonly receivedAt: number;
}

/** An order entered while offline. It is never sent without the trader confirming it. */
/** An order entered offline, waiting in the outbox for the trader's confirm. */
export interface OutboxOrder {
  readonly kind?: 'order';
  /** The clientOrderId the order will be sent with: a resend can never duplicate it. */
  readonly id: string;
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  readonly type: OrderType;
  readonly qty: number;
  readonly price?: number;
  readonly stopPrice?: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** A flatten or reverse asked offline (positions panel or hotkey): an order too. */
export interface OutboxFlatten {
  readonly kind: 'flatten';
  /** The flatten's clientOrderId, sent again as it is: the server sends its orders once. */
  readonly id: string;
  /** Absent: the whole account. */
  readonly ticker?: string;
  readonly reverse: boolean;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** An OCO bracket asked offline: held like an order, sent as it was asked (NewBracket). */
export interface OutboxBracket extends Omit<NewBracket, 'clientId'> {
  readonly kind: 'bracket';
  /** The bracket's clientId: a resend answers the bracket made, nothing sent twice. */
  readonly id: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export type OutboxEntry = OutboxOrder | OutboxFlatten | OutboxBracket;

/** One persisted TanStack Query entry (orders, positions, candles, …) keyed by its query hash. */
export interface QueryRow {
  readonly key: string;
  readonly value: string;
}

export interface SettingRow {
  readonly key: string;
  readonly value: unknown;
}

/** A shared watchlist as this device knows it; `doc` is its Yjs document, stored by y-dexie. */
export interface WatchlistRow {
  readonly id: string;
  readonly name: string;
  readonly role: 'owner' | 'editor' | 'viewer';
  readonly doc: Y.Doc;
}

/** An assistant answer kept for offline reading, keyed by the normalised question. */
export interface AnswerRow {
  readonly key: string;
  readonly question: string;
  readonly answer: unknown;
  readonly at: number;
}

/**
 * A price or order alert made while offline: not active until the server has it. Sent by itself
 * once back online (an alert is not an order), with its clientId so the server makes it once.
 */
export interface HeldAlertRow {
  readonly clientId: string;
  readonly alert: NewAlertJson & { readonly clientId: string };
  readonly heldAt: number;
}

export type LocalDb = Dexie & {
  quotes: EntityTable<QuoteRow, 'ticker'>;
  outbox: EntityTable<OutboxEntry, 'id'>;
  queries: EntityTable<QueryRow, 'key'>;
  settings: EntityTable<SettingRow, 'key'>;
  watchlists: EntityTable<WatchlistRow, 'id'>;
  answers: EntityTable<AnswerRow, 'key'>;
  heldAlerts: EntityTable<HeldAlertRow, 'clientId'>;
};

/**
 * The schema, one entry per version. A shipped version is never edited: a change is a new
 * version (with an `upgrade` when rows must be rewritten), so every device migrates in order.
 */
const VERSIONS: ReadonlyArray<(db: Dexie) => void> = [
  (db) =>
    db.version(1).stores({
      quotes: 'ticker',
      outbox: 'id, createdAt',
      queries: 'key',
      settings: 'key',
      watchlists: 'id, name, doc: Y.Doc',
      answers: 'key, at',
    }),
  (db) => db.version(2).stores({ heldAlerts: 'clientId, heldAt' }),
];

let current: { user: string; db: LocalDb } | undefined;

/** One database per user on this device: a shared desk PC never mixes two traders' data. */
export function openLocalDb(username: string): LocalDb {
  if (current?.user === username) return current.db;
  current?.db.close();
  const db = new Dexie(`tape-${username}`, { addons: [yDexie] }) as LocalDb;
  for (const v of VERSIONS) v(db);
  current = { user: username, db };
  return db;
}

/** The signed-in user's database; throws when no one is signed in. */
export function localDb(): LocalDb {
  if (!current) throw new Error('No local database: no user is signed in');
  return current.db;
}
