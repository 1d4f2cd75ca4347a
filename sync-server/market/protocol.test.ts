import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeTrades, FrameError, TRADE_RECORD_BYTES, type Trade } from './protocol.ts';

const tickerArb = fc.stringMatching(/^[A-Z0-9]{1,16}$/);
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
          expect(frame.ticker).toBe(ticker);
          expect(frame.flags).toBe(flags);
          expect(frame.trades).toEqual(trades);
        },
      ),
    );
  });

  it('either decodes arbitrary bytes consistently or throws FrameError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          const frame = decodeFrame(bytes);
          expect(bytes.length).toBe(6 + frame.ticker.length + frame.trades.length * TRADE_RECORD_BYTES);
        } catch (err) {
          expect(err).toBeInstanceOf(FrameError);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('rejects truncated and padded frames', () => {
    const t: Trade = {
      ticker: 'PETR4',
      seq: 1,
      time: 1,
      price: 38.5,
      qty: 100,
      tradeNumber: 1,
      buyAgent: 1,
      sellAgent: 2,
      tradeType: 0,
      flags: 0,
      capturedAt: 1,
    };
    const good = encodeTrades('PETR4', [t, { ...t, seq: 2 }]);
    expect(() => decodeFrame(good.subarray(0, good.length - 1))).toThrow(FrameError);
    expect(() => decodeFrame(new Uint8Array([...good, 0]))).toThrow(FrameError);
    const wrongVersion = good.slice();
    wrongVersion[0] = 9;
    expect(() => decodeFrame(wrongVersion)).toThrow(/version 9/);
  });

  it('refuses to encode a ticker that is not printable ASCII', () => {
    expect(() => encodeTrades('PETR4\u0000', [])).toThrow(FrameError);
    expect(() => encodeTrades('', [])).toThrow(FrameError);
  });
});
