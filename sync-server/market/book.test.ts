import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NewDeadLetter } from '../deadLetters/queue.ts';
import { instrumentFor } from '../shared/instruments.ts';
import { decodeFrame, FrameKind } from '../shared/market.ts';
import { petr4Market, sampleTrade } from '../testing/market.ts';
import { BookAction, BookError, PriceBook } from './book.ts';

const petr = instrumentFor('PETR4', 'B');
if (!petr) throw new Error('PETR4');
const ev = (action: number, position: number, side: number, price = 38.5, qty = 100, count = 1) => ({
  ticker: 'PETR4',
  action,
  position,
  side,
  price,
  qty,
  count,
});

describe('PriceBook', () => {
  it('builds, edits and trims levels by position from the best price', () => {
    const b = new PriceBook(petr);
    b.apply(ev(BookAction.add, 0, 0, 38.5, 500, 3));
    b.apply(ev(BookAction.add, 1, 0, 38.49, 200, 1));
    b.apply(ev(BookAction.add, 0, 0, 38.51, 100, 1)); // a better bid goes on top
    b.apply(ev(BookAction.edit, 1, 0, 38.5, 300, 2));
    b.apply(ev(BookAction.add, 0, 1, 38.52, 100, 1));
    expect(b.bids).toEqual([
      { price: 38.51, qty: 100, count: 1 },
      { price: 38.5, qty: 300, count: 2 },
      { price: 38.49, qty: 200, count: 1 },
    ]);
    b.apply(ev(BookAction.deleteFrom, 1, 0));
    expect(b.bids).toEqual([{ price: 38.49, qty: 200, count: 1 }]);
    b.apply(ev(BookAction.delete, 0, 1));
    expect(b.asks).toEqual([]);
    expect(b.version).toBe(7);
  });

  it.each([
    [ev(BookAction.add, 0, 2), 'bad_book_side'],
    [ev(9, 0, 0), 'bad_book_action'],
    [ev(BookAction.edit, 1, 0), 'book_position_out_of_range'],
    [ev(BookAction.add, 2, 0), 'book_position_out_of_range'],
    [ev(BookAction.add, 0, 0, 38.505), 'bad_book_level'],
    [ev(BookAction.add, 0, 0, 38.5, 150), 'bad_book_level'],
    [ev(BookAction.add, 0, 0, Number.NaN), 'bad_book_level'],
    [ev(BookAction.full, 0, 0), 'full_book_unsupported'],
  ])('rejects %o as %s and leaves the book unchanged', (e, reason) => {
    const b = new PriceBook(petr);
    b.apply(ev(BookAction.add, 0, 0));
    const before = structuredClone({ bids: b.bids, asks: b.asks, version: b.version });
    const err = (() => {
      try {
        b.apply(e);
      } catch (x) {
        return x;
      }
    })();
    expect(err).toBeInstanceOf(BookError);
    expect((err as BookError).reason).toBe(reason);
    expect({ bids: b.bids, asks: b.asks, version: b.version }).toEqual(before);
  });

  it('property: any event stream either applies or throws BookError; levels stay valid', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            action: fc.integer({ min: -1, max: 5 }),
            position: fc.integer({ min: -1, max: 12 }),
            side: fc.integer({ min: -1, max: 2 }),
            price: fc.oneof(
              fc.integer({ min: 1, max: 9999 }).map((t) => t / 100),
              fc.double(),
            ),
            qty: fc.oneof(
              fc.integer({ min: 1, max: 20 }).map((l) => l * 100),
              fc.integer(),
            ),
            count: fc.integer({ min: -1, max: 5 }),
          }),
          { maxLength: 80 },
        ),
        (events) => {
          const b = new PriceBook(petr);
          for (const e of events) {
            try {
              b.apply({ ticker: 'PETR4', ...e });
            } catch (err) {
              expect(err).toBeInstanceOf(BookError);
            }
            for (const l of [...b.bids, ...b.asks]) {
              expect(l.price).toBeGreaterThan(0);
              expect(l.qty % 100).toBe(0);
              expect(l.count).toBeGreaterThan(0);
            }
          }
        },
      ),
    );
  });
});

describe('MarketService.bookEvents', () => {
  it('dead-letters a book event that does not apply with its reason, drops the book and asks for a fresh one', () => {
    const letters: NewDeadLetter[] = [];
    const market = petr4Market({ deadLetter: (l) => letters.push(l) });
    const bids = () => {
      const f = decodeFrame(market.bookFrame('PETR4') as Uint8Array);
      return f.kind === FrameKind.book ? f.bids.map((l) => l.price) : undefined;
    };
    expect(market.bookEvents(petr, [ev(BookAction.add, 0, 0, 38.5), ev(BookAction.add, 1, 0, 38.49)])).toBe(
      true,
    );
    expect(bids()).toEqual([38.5, 38.49]);
    const bad = ev(9, 0, 0);
    expect(
      market.bookEvents(petr, [ev(BookAction.add, 0, 0, 38.51), bad, ev(BookAction.add, 0, 0, 38.52)]),
    ).toBe(false);
    expect(letters).toEqual([
      {
        source: 'profitdll.priceBook',
        reason: 'bad_book_action',
        detail: 'unknown book action 9',
        payload: bad,
      },
    ]);
    // Nothing after the bad event was applied, and what came before went with the book.
    expect(bids()).toEqual([]);
    expect(market.bookEvents(petr, [ev(BookAction.add, 0, 0, 38.4)])).toBe(true);
    expect(bids()).toEqual([38.4]);
  });
});

describe("the quote board's bid and ask", () => {
  it('goes to trades subscribers when the top changes, once per change, and into the quote a subscriber gets', () => {
    const sent: { topic: string; msg: unknown }[] = [];
    const market = petr4Market({
      publish: (topic, data) => {
        if (typeof data === 'string') sent.push({ topic, msg: JSON.parse(data) });
        return true;
      },
    });
    market.bookEvents(petr, [
      ev(BookAction.add, 0, 0, 38.5, 500, 3),
      ev(BookAction.add, 0, 1, 38.52, 200, 1),
    ]);
    // A change below the top is not the board's business.
    market.bookEvents(petr, [ev(BookAction.add, 1, 0, 38.49, 100, 1)]);
    market.bookEvents(petr, [ev(BookAction.edit, 0, 1, 38.52, 300, 2)]);
    const tops = sent.filter((s) => (s.msg as { type: string }).type === 'top');
    expect(tops).toEqual([
      {
        topic: 'md/trades/PETR4',
        msg: { type: 'top', ticker: 'PETR4', top: { bid: 38.5, bidQty: 500, ask: 38.52, askQty: 200 } },
      },
      {
        topic: 'md/trades/PETR4',
        msg: { type: 'top', ticker: 'PETR4', top: { bid: 38.5, bidQty: 500, ask: 38.52, askQty: 300 } },
      },
    ]);
    market.trades(petr, [sampleTrade(1, { price: 38.51, time: Date.now() })]);
    market.previousClose(petr, 38.1);
    expect(sent.at(-1)).toEqual({
      topic: 'md/trades/PETR4',
      msg: { type: 'previousClose', ticker: 'PETR4', close: 38.1 },
    });
    expect(market.quote('PETR4')).toMatchObject({
      last: 38.51,
      previousClose: 38.1,
      top: { bid: 38.5, bidQty: 500, ask: 38.52, askQty: 300 },
    });
    // An emptied side leaves the top without it.
    market.bookEvents(petr, [ev(BookAction.delete, 0, 1)]);
    expect(market.quote('PETR4')?.top).toEqual({ bid: 38.5, bidQty: 500 });
  });
});
