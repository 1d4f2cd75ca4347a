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
  type Frame,
  FrameError,
  FrameKind,
} from './market.ts';

// Market frames as the app receives them are untrusted bytes too. protocol.test.ts decodes
// arbitrary bytes; here real frames are damaged (bits flipped, counts changed, cut, extended)
// so the decoder's deeper checks are reached: it throws FrameError, or returns a frame that the
// encoder reproduces exactly (same length, same content): never garbage, never another error.

const ticker = fc.stringMatching(/^[A-Z0-9]{1,16}$/);
const num = fc.double({ noDefaultInfinity: false });
const level: fc.Arbitrary<BookLevel> = fc.record({
  price: num,
  qty: num,
  count: fc.nat({ max: 2 ** 32 - 1 }),
});
const candle: fc.Arbitrary<Candle> = fc.record({
  time: num,
  open: num,
  high: num,
  low: num,
  close: num,
  volume: num,
  trades: fc.nat({ max: 2 ** 32 - 1 }),
});
const realFrame = fc.oneof(
  fc
    .tuple(ticker, fc.array(fc.nat({ max: 1e6 }), { maxLength: 5 }), fc.nat({ max: 255 }))
    .map(([t, seqs, flags]) =>
      encodeTrades(
        t,
        seqs.map((s) => sampleTrade(s, { ticker: t })),
        flags,
      ),
    ),
  fc
    .tuple(ticker, num, num, fc.array(level, { maxLength: 4 }), fc.array(level, { maxLength: 4 }))
    .map(([t, v, time, bids, asks]) => encodeBook(t, v, time, bids, asks)),
  fc
    .tuple(ticker, fc.nat({ max: 2 ** 32 - 1 }), fc.array(candle, { maxLength: 3 }))
    .map(([t, tf, cs]) => encodeCandles(t, tf, cs)),
);
const damaged = fc
  .tuple(
    realFrame,
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 3 }),
    fc.option(fc.nat(), { nil: undefined }),
    fc.uint8Array({ maxLength: 60 }),
  )
  .map(([frame, flips, cut, tail]) => {
    const b = Uint8Array.from([
      ...frame.slice(0, cut === undefined ? frame.length : cut % (frame.length + 1)),
      ...tail,
    ]);
    for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
    return b;
  });

const reencode = (f: Frame): Uint8Array =>
  f.kind === FrameKind.trades
    ? encodeTrades(f.ticker, f.trades, f.flags)
    : f.kind === FrameKind.book
      ? encodeBook(f.ticker, f.bookVersion, f.time, f.bids, f.asks)
      : encodeCandles(f.ticker, f.tf, f.candles);

describe('market frame decoder on damaged frames', () => {
  it('throws FrameError or returns a frame the encoder reproduces, never anything else', () => {
    let n = 0;
    let decoded = 0;
    fc.assert(
      fc.property(fc.oneof(realFrame, damaged, damaged, damaged), (bytes) => {
        n++;
        let frame: Frame;
        try {
          frame = decodeFrame(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(FrameError);
          return;
        }
        decoded++;
        const again = reencode(frame);
        expect(again.length).toBe(bytes.length);
        // Flags of book and candle frames are not part of their encoder; padding is not read.
        const back = decodeFrame(again);
        expect(back).toEqual(frame.kind === FrameKind.trades ? frame : { ...frame, flags: 0 });
        if (frame.kind === FrameKind.book)
          expect(frame.bids.length + frame.asks.length).toBeLessThanOrEqual(65_535);
      }),
      { numRuns: 20_000 },
    );
    console.log('fuzz-count', 'market frames (damaged)', n, `(${decoded} decoded)`);
    expect(decoded).toBeGreaterThan(1000);
  });
});
