import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toTicks } from '../../sync-server/shared/instruments.ts';
import { type BookFrame, FrameKind } from '../../sync-server/shared/market.ts';
import type { OrderJson } from '../../sync-server/shared/orders.ts';
import { tradeAt } from '../testing/trades.ts';
import { bookByTicks, keyAction, ladderRows, ownByTicks, rowTicks, volumeByTicks } from './model.ts';

const book = (bids: [number, number, number][], asks: [number, number, number][]): BookFrame => ({
  kind: FrameKind.book,
  version: 1,
  flags: 0,
  ticker: 'PETR4',
  bookVersion: 1,
  time: 0,
  bids: bids.map(([price, qty, count]) => ({ price, qty, count })),
  asks: asks.map(([price, qty, count]) => ({ price, qty, count })),
});

const order = (o: Partial<OrderJson>): OrderJson => ({
  id: 1,
  accountId: 'A',
  clientOrderId: 'c1',
  ticker: 'PETR4',
  side: 'buy',
  type: 'limit',
  qty: 300,
  price: 38.45,
  stopPrice: null,
  triggeredAt: null,
  state: 'new',
  filledQty: 0,
  avgFillPrice: null,
  localOrderId: null,
  rejectReason: null,
  createdAt: '',
  updatedAt: '',
  external: false,
  ...o,
});

describe('the price ladder model', () => {
  it('lays the rows one tick apart around the centre, highest first, never under one tick', () => {
    expect(rowTicks(3850, 2, 2)).toEqual([3852, 3851, 3850, 3849, 3848]);
    expect(rowTicks(2, 1, 5)).toEqual([3, 2, 1]);
  });

  it('puts the book, the traded volume and the own working orders at their rows', () => {
    const b = bookByTicks(
      book(
        [
          [38.5, 2800, 2],
          [38.49, 1300, 1],
        ],
        [[38.51, 1200, 2]],
      ),
      0.01,
    );
    const v = volumeByTicks(
      [tradeAt(1, { price: 38.51, qty: 300 }), tradeAt(2, { price: 38.51, qty: 200 })],
      0.01,
    );
    const own = ownByTicks(
      [
        order({ id: 1, price: 38.49, qty: 300, filledQty: 100 }),
        order({ id: 2, price: 38.49, qty: 100 }),
        order({ id: 3, price: 38.51, side: 'sell', qty: 200 }),
        order({ id: 4, price: 38.49, state: 'filled', filledQty: 300 }),
        order({ id: 5, price: 38.49, ticker: 'VALE3' }),
        order({ id: 6, price: null, type: 'market' }),
      ],
      'PETR4',
      0.01,
    );
    const rows = ladderRows(rowTicks(3850, 1, 1), b, v, own);
    expect(rows.map((r) => [r.ticks, r.bidQty, r.bidCount, r.askQty, r.volume, r.ownBuy, r.ownSell])).toEqual(
      [
        [3851, 0, 0, 1200, 500, 0, 200],
        [3850, 2800, 2, 0, 0, 0, 0],
        [3849, 1300, 1, 0, 0, 300, 0],
      ],
    );
    expect(rows[2]?.orders.map((o) => o.id)).toEqual([1, 2]);
  });

  it('maps the documented keys, and no key with Alt or Ctrl but Alt+↑ ↓ (the ticket and the browser keep those)', () => {
    expect(keyAction({ key: 'ArrowUp', shiftKey: false, altKey: true, ctrlKey: false })).toEqual({
      kind: 'nudge',
      by: 1,
    });
    expect(keyAction({ key: 'ArrowDown', shiftKey: false, altKey: true, ctrlKey: false })).toEqual({
      kind: 'nudge',
      by: -1,
    });
    expect(keyAction({ key: 'ArrowDown', shiftKey: false, altKey: true, ctrlKey: true })).toBeUndefined();
    expect(keyAction({ key: 'ArrowUp', shiftKey: false, altKey: false, ctrlKey: false })).toEqual({
      kind: 'cursor',
      by: 1,
    });
    expect(keyAction({ key: 'PageDown', shiftKey: false, altKey: false, ctrlKey: false })).toEqual({
      kind: 'cursor',
      by: -10,
    });
    expect(keyAction({ key: 'B', shiftKey: true, altKey: false, ctrlKey: false })).toEqual({ kind: 'buy' });
    expect(keyAction({ key: 'Delete', shiftKey: true, altKey: false, ctrlKey: false })).toEqual({
      kind: 'cancelAll',
    });
    expect(keyAction({ key: 'Delete', shiftKey: false, altKey: false, ctrlKey: false })).toEqual({
      kind: 'cancelAt',
    });
    expect(keyAction({ key: 'b', shiftKey: false, altKey: true, ctrlKey: false })).toBeUndefined();
    expect(keyAction({ key: 'c', shiftKey: false, altKey: false, ctrlKey: true })).toBeUndefined();
    expect(keyAction({ key: 'x', shiftKey: false, altKey: false, ctrlKey: false })).toBeUndefined();
  });

  it('property: every book level inside the rows lands on exactly its row, for any tick size', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0.01, 0.5, 5),
        fc.integer({ min: 20, max: 100_000 }),
        fc.array(fc.tuple(fc.integer({ min: -15, max: 15 }), fc.integer({ min: 1, max: 99 }), fc.boolean()), {
          maxLength: 20,
        }),
        (tick, centre, levels) => {
          const seen = new Map<string, number>();
          const bids: [number, number, number][] = [];
          const asks: [number, number, number][] = [];
          for (const [off, lots, bid] of levels) {
            const key = `${bid}:${off}`;
            if (seen.has(key)) continue;
            seen.set(key, lots);
            const price = Number(((centre + off) * tick).toFixed(2));
            (bid ? bids : asks).push([price, lots * 100, 1]);
          }
          const rows = ladderRows(
            rowTicks(centre, 12, 12),
            bookByTicks(book(bids, asks), tick),
            new Map(),
            new Map(),
          );
          for (const [price, qty] of bids) {
            const row = rows.find((r) => r.ticks === toTicks(price, tick));
            if (Math.abs(toTicks(price, tick) - centre) <= 12) expect(row?.bidQty).toBe(qty);
          }
          for (const [price, qty] of asks) {
            const row = rows.find((r) => r.ticks === toTicks(price, tick));
            if (Math.abs(toTicks(price, tick) - centre) <= 12) expect(row?.askQty).toBe(qty);
          }
          // The bid and ask quantities shown sum to the book's inside the rows.
          const inside = (l: [number, number, number][]) =>
            l.filter(([p]) => Math.abs(toTicks(p, tick) - centre) <= 12).reduce((s, [, q]) => s + q, 0);
          expect(rows.reduce((s, r) => s + r.bidQty, 0)).toBe(inside(bids));
          expect(rows.reduce((s, r) => s + r.askQty, 0)).toBe(inside(asks));
        },
      ),
      { numRuns: 500 },
    );
  });
});
