import { toTicks } from '../../sync-server/shared/instruments.ts';
import type { BookFrame, Trade } from '../../sync-server/shared/market.ts';
import type { OrderJson } from '../../sync-server/shared/orders.ts';
import { msg, type PlainId, type Text } from '../i18n/i18n.ts';
import { isWorking } from '../orders/blotter.ts';

// The price ladder (Profit's Super DOM) as plain values: one row per tick around a centre, the
// book's levels, the volume traded at each price and the trader's own working orders at theirs.
// Prices are keyed by their count of ticks, never by a float.

export interface LadderRow {
  /** The row's price in ticks (price = ticks × tickSize). */
  readonly ticks: number;
  readonly bidQty: number;
  readonly bidCount: number;
  readonly askQty: number;
  readonly askCount: number;
  /** Quantity traded at the price among the trades the app holds. */
  readonly volume: number;
  /** The trader's working quantity left at the price, per side, and those orders. */
  readonly ownBuy: number;
  readonly ownSell: number;
  readonly orders: readonly OrderJson[];
}

/** The rows from `centre + above` down to `centre − below` ticks, highest price first; none below one tick. */
export function rowTicks(centre: number, above: number, below: number): number[] {
  const out: number[] = [];
  for (let t = centre + above; t >= Math.max(1, centre - below); t--) out.push(t);
  return out;
}

interface Level {
  qty: number;
  count: number;
}

/** The book's levels by price in ticks, per side. */
export function bookByTicks(book: BookFrame | undefined, tickSize: number) {
  const bids = new Map<number, Level>();
  const asks = new Map<number, Level>();
  for (const l of book?.bids ?? []) bids.set(toTicks(l.price, tickSize), { qty: l.qty, count: l.count });
  for (const l of book?.asks ?? []) asks.set(toTicks(l.price, tickSize), { qty: l.qty, count: l.count });
  return { bids, asks };
}

/** Quantity traded at each price, in ticks. */
export function volumeByTicks(trades: Iterable<Trade>, tickSize: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of trades) {
    const k = toTicks(t.price, tickSize);
    out.set(k, (out.get(k) ?? 0) + t.qty);
  }
  return out;
}

/** The trader's working limit orders of the ticker, by price in ticks. */
export function ownByTicks(orders: readonly OrderJson[], ticker: string, tickSize: number) {
  const out = new Map<number, { buy: number; sell: number; orders: OrderJson[] }>();
  for (const o of orders) {
    if (o.ticker !== ticker || o.price === null || !isWorking(o)) continue;
    const k = toTicks(o.price, tickSize);
    const at = out.get(k) ?? { buy: 0, sell: 0, orders: [] };
    const left = o.qty - o.filledQty;
    if (o.side === 'buy') at.buy += left;
    else at.sell += left;
    at.orders.push(o);
    out.set(k, at);
  }
  return out;
}

export function ladderRows(
  ticks: readonly number[],
  book: ReturnType<typeof bookByTicks>,
  volume: ReadonlyMap<number, number>,
  own: ReturnType<typeof ownByTicks>,
): LadderRow[] {
  return ticks.map((k) => {
    const bid = book.bids.get(k);
    const ask = book.asks.get(k);
    const mine = own.get(k);
    return {
      ticks: k,
      bidQty: bid?.qty ?? 0,
      bidCount: bid?.count ?? 0,
      askQty: ask?.qty ?? 0,
      askCount: ask?.count ?? 0,
      volume: volume.get(k) ?? 0,
      ownBuy: mine?.buy ?? 0,
      ownSell: mine?.sell ?? 0,
      orders: mine?.orders ?? [],
    };
  });
}

/** What a key does on the ladder (documented in LADDER_KEYS). */
export type LadderAction =
  | { kind: 'cursor'; by: number }
  | { kind: 'buy' }
  | { kind: 'sell' }
  | { kind: 'move' }
  | { kind: 'nudge'; by: number }
  | { kind: 'cancelAt' }
  | { kind: 'cancelAll' }
  | { kind: 'centre' }
  | { kind: 'alert' }
  | { kind: 'escape' };

export function keyAction(e: {
  key: string;
  shiftKey: boolean;
  altKey: boolean;
  ctrlKey: boolean;
}): LadderAction | undefined {
  if (e.altKey && !e.ctrlKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown'))
    return { kind: 'nudge', by: e.key === 'ArrowUp' ? 1 : -1 };
  if (e.altKey || e.ctrlKey) return undefined;
  switch (e.key) {
    case 'ArrowUp':
      return { kind: 'cursor', by: 1 };
    case 'ArrowDown':
      return { kind: 'cursor', by: -1 };
    case 'PageUp':
      return { kind: 'cursor', by: 10 };
    case 'PageDown':
      return { kind: 'cursor', by: -10 };
    case 'Delete':
    case 'Backspace':
      return e.shiftKey ? { kind: 'cancelAll' } : { kind: 'cancelAt' };
    case 'Escape':
      return { kind: 'escape' };
  }
  switch (e.key.toLowerCase()) {
    case 'b':
      return { kind: 'buy' };
    case 's':
      return { kind: 'sell' };
    case 'm':
      return { kind: 'move' };
    case 'c':
      return { kind: 'centre' };
    case 'a':
      return { kind: 'alert' };
  }
  return undefined;
}

/** The ladder's keys, shown on the ladder itself. */
export const LADDER_KEYS: ReadonlyArray<[Text, PlainId]> = [
  [msg('ladder.key.clickSide'), 'ladder.key.clickSideWhat'],
  [msg('ladder.key.clickOwn'), 'ladder.key.clickOwnWhat'],
  [msg('ladder.key.rightClick'), 'ladder.key.rightClickWhat'],
  ['↑ ↓ PgUp PgDn', 'ladder.key.cursor'],
  ['B / S', 'ladder.key.buySell'],
  ['M', 'ladder.key.move'],
  ['Alt+↑ Alt+↓', 'ladder.key.nudge'],
  ['Del', 'ladder.key.cancelAt'],
  ['Shift+Del', 'ladder.key.cancelAll'],
  ['C', 'ladder.key.centre'],
  [msg('priceAlerts.ladderKey.altClick'), 'priceAlerts.ladderKey.altClickWhat'],
  ['A', 'priceAlerts.ladderKey.a'],
  ['Esc', 'ladder.key.escape'],
];
