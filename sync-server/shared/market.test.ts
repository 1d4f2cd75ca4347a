import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleTrade } from '../testing/market.ts';
import {
  type BookLevel,
  type Candle,
  decodeFrame,
  encodeBook,
  encodeCandles,
  encodeTrades,
  FrameError,
  FrameKind,
} from './market.ts';

const tickerArb = fc.stringMatching(/^[A-Z0-9]{1,16}$/);
const f64 = fc.double({ min: 0, max: 1e9, noNaN: true });
const tradeArb = (ticker: string) =>
  fc.record({
    ticker: fc.constant(ticker),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    price: fc.double({ min: 0.01, max: 1e7, noNaN: true }),
    qty: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    tradeNumber: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    buyAgent: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    sellAgent: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    tradeType: fc.integer({ min: 0, max: 255 }),
    flags: fc.integer({ min: 0, max: 255 }),
    capturedAt: fc.double({ min: 0, max: 4e12, noNaN: true }),
  });
const levelArb: fc.Arbitrary<BookLevel> = fc.record({
  price: f64,
  qty: f64,
  count: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
});
const candleArb: fc.Arbitrary<Candle> = fc.record({
  time: f64,
  open: f64,
  high: f64,
  low: f64,
  close: f64,
  volume: f64,
  trades: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
});

describe('market frame codec', () => {
  it('round-trips any batch of trades exactly', () => {
    fc.assert(
      fc.property(
        tickerArb.chain((t) =>
          fc.tuple(
            fc.constant(t),
            fc.array(tradeArb(t), { maxLength: 50 }),
            fc.integer({ min: 0, max: 255 }),
          ),
        ),
        ([ticker, trades, flags]) => {
          const frame = decodeFrame(encodeTrades(ticker, trades, flags));
          expect(frame).toEqual({ version: 1, kind: FrameKind.trades, flags, ticker, trades });
        },
      ),
    );
  });

  it('round-trips any book and any candles exactly', () => {
    fc.assert(
      fc.property(
        tickerArb,
        f64,
        f64,
        fc.array(levelArb, { maxLength: 12 }),
        fc.array(levelArb, { maxLength: 12 }),
        (ticker, version, time, bids, asks) => {
          expect(decodeFrame(encodeBook(ticker, version, time, bids, asks))).toEqual({
            version: 1,
            kind: FrameKind.book,
            flags: 0,
            ticker,
            bookVersion: version,
            time,
            bids,
            asks,
          });
        },
      ),
    );
    fc.assert(
      fc.property(
        tickerArb,
        fc.integer({ min: 1, max: 86_400 }),
        fc.array(candleArb, { maxLength: 5 }),
        (ticker, tf, candles) => {
          expect(decodeFrame(encodeCandles(ticker, tf, candles))).toEqual({
            version: 1,
            kind: FrameKind.candles,
            flags: 0,
            ticker,
            tf,
            candles,
          });
        },
      ),
    );
  });

  it('either decodes arbitrary bytes into a well-formed frame or throws FrameError, never anything else', () => {
    let decoded = 0;
    fc.assert(
      fc.property(
        // Half the cases start with a plausible header so the length and record checks are reached.
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc
            .tuple(
              fc.integer({ min: 1, max: 3 }),
              fc.integer({ min: 0, max: 4 }),
              fc.uint8Array({ maxLength: 300 }),
            )
            .map(([kind, n, rest]) => Uint8Array.from([1, kind, 0, 5, 80, 69, 84, 82, 52, n, 0, ...rest])),
        ),
        (bytes) => {
          try {
            const frame = decodeFrame(bytes);
            decoded++;
            expect(frame.ticker).toMatch(/^[\x20-\x7e]{1,16}$/);
          } catch (err) {
            expect(err).toBeInstanceOf(FrameError);
          }
        },
      ),
      { numRuns: 10_000 },
    );
    expect(decoded).toBeGreaterThan(0);
  });

  it('rejects truncated and padded frames, unknown versions and kinds', () => {
    const good = encodeTrades('PETR4', [sampleTrade(1), sampleTrade(2)]);
    expect(() => decodeFrame(good.subarray(0, good.length - 1))).toThrow(FrameError);
    expect(() => decodeFrame(new Uint8Array([...good, 0]))).toThrow(FrameError);
    const wrongVersion = good.slice();
    wrongVersion[0] = 9;
    expect(() => decodeFrame(wrongVersion)).toThrow(/version 9/);
    const wrongKind = good.slice();
    wrongKind[1] = 7;
    expect(() => decodeFrame(wrongKind)).toThrow(/kind 7/);
    const book = encodeBook(
      'PETR4',
      1,
      1,
      [{ price: 1, qty: 1, count: 1 }],
      [{ price: 2, qty: 1, count: 1 }],
    );
    // An ask before a bid is not a book this server writes.
    const swapped = book.slice();
    swapped[11 + 16 + 20] = 1;
    swapped[11 + 16 + 24 + 20] = 0;
    expect(() => decodeFrame(swapped)).toThrow(/out of order/);
  });

  it('refuses to encode a ticker that is not printable ASCII', () => {
    expect(() => encodeTrades('PETR4\u0000', [])).toThrow(FrameError);
    expect(() => encodeTrades('', [])).toThrow(FrameError);
  });
});
