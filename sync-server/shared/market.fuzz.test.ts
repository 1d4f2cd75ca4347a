import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleTrade } from '../testing/market.ts';
import {
  BATCH_KIND,
  type BatchPart,
  type BookLevel,
  type Candle,
  decodeBatch,
  decodeFrame,
  encodeBatch,
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
/** Real bytes damaged: cut short, extended, bits flipped. */
const damage = (real: fc.Arbitrary<Uint8Array>, maxTail: number) =>
  fc
    .tuple(
      real,
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 3 }),
      fc.option(fc.nat(), { nil: undefined }),
      fc.uint8Array({ maxLength: maxTail }),
    )
    .map(([frame, flips, cut, tail]) => {
      const b = Uint8Array.from([
        ...frame.slice(0, cut === undefined ? frame.length : cut % (frame.length + 1)),
        ...tail,
      ]);
      for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
      return b;
    });
const damaged = damage(realFrame, 60);

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

// A batch frame (a socket in batch mode) holds several messages: market frames and JSON text.
const part: fc.Arbitrary<BatchPart> = fc.oneof(
  realFrame.map((bytes) => ({ text: false, bytes })),
  fc.json({ maxDepth: 2 }).map((text) => ({ text: true, bytes: new TextEncoder().encode(text) })),
);
const parts = fc.array(part, { maxLength: 6 });
const asDecoded = (ps: readonly BatchPart[]) =>
  ps.map((p) => (p.text ? new TextDecoder().decode(p.bytes) : Uint8Array.from(p.bytes)));

describe('batch frames', () => {
  it('decode to the messages encoded, in order', () => {
    fc.assert(
      fc.property(parts, (ps) => {
        const back = decodeBatch(encodeBatch(ps)).map((m) =>
          typeof m === 'string' ? m : Uint8Array.from(m),
        );
        expect(back).toEqual(asDecoded(ps));
      }),
      { numRuns: 2_000 },
    );
  });

  it('damaged: throw FrameError or decode to entries that encode back to the same bytes', () => {
    let decoded = 0;
    const damagedBatch = damage(parts.map(encodeBatch), 20);
    fc.assert(
      fc.property(
        fc.oneof(parts.map(encodeBatch), damagedBatch, fc.uint8Array({ maxLength: 80 })),
        (bytes) => {
          let entries: Array<Uint8Array | string>;
          try {
            entries = decodeBatch(bytes);
          } catch (err) {
            expect(err).toBeInstanceOf(FrameError);
            return;
          }
          decoded++;
          const again = encodeBatch(
            entries.map((e) =>
              typeof e === 'string'
                ? { text: true, bytes: new TextEncoder().encode(e) }
                : { text: false, bytes: e },
            ),
          );
          expect(again).toEqual(Uint8Array.from(bytes));
          // A frame entry is never itself a batch: the client decodes each with decodeFrame.
          for (const e of entries) if (typeof e !== 'string') expect(e[1]).not.toBe(BATCH_KIND);
        },
      ),
      { numRuns: 20_000 },
    );
    console.log('fuzz-count', 'batch frames (damaged)', 20_000, `(${decoded} decoded)`);
    expect(decoded).toBeGreaterThan(3_000);
  });

  it('refuses a batch inside a batch, a short entry and bytes after the last entry', () => {
    const inner = encodeBatch([{ text: true, bytes: new TextEncoder().encode('{}') }]);
    expect(() => decodeBatch(encodeBatch([{ text: false, bytes: inner }]))).toThrow(
      /batch inside a batch|may not hold a batch/,
    );
    const one = encodeBatch([{ text: true, bytes: new TextEncoder().encode('{"a":1}') }]);
    expect(() => decodeBatch(one.slice(0, -1))).toThrow(/runs past the end/);
    expect(() => decodeBatch(Uint8Array.from([...one, 0]))).toThrow(/after its 1 entries/);
    expect(() => decodeFrame(one)).toThrow(/unknown frame kind 4/);
  });
});
