import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfitConnector } from './profitdll.ts';
import { decodeRecord, RECORD_BYTES, RecordError, RecordKind } from './records.ts';
import { collect, connectSimulator, SIM_LIBRARIES, tradesOf } from './testkit.ts';
import type { InjectedTrade } from './types.ts';

// Property tests of the capture record decoder: any bytes decode without throwing, and any
// trade the DLL could call back with survives the real shim and ring bit for bit: through the V1
// callback, and through the V2 one (TConnectorTrade read with TranslateTrade), where the date
// travels as a TSystemTime and the feed and trade type as bytes.

const KINDS = new Set([
  'state',
  'trade',
  'daily',
  'priceBook',
  'offerBook',
  'tinyBook',
  'invalidTicker',
  'tickerState',
  'progress',
  'account',
  'order',
  'unknown',
]);

const recordBytes = fc
  .tuple(
    fc.uint8Array({ minLength: RECORD_BYTES, maxLength: RECORD_BYTES }),
    fc.oneof(fc.constantFrom(...Object.values(RecordKind)), fc.integer({ min: 0, max: 255 })),
  )
  .map(([bytes, kind]) => {
    bytes[0] = kind;
    return bytes;
  });

describe('decodeRecord', () => {
  it('decodes any 256 bytes at any offset without throwing, aligned or not, identically', () => {
    fc.assert(
      fc.property(recordBytes, fc.integer({ min: 0, max: 15 }), (record, pad) => {
        const buf = Buffer.alloc(pad + RECORD_BYTES + 3);
        buf.set(record, pad);
        const aligned = new Uint8Array(new ArrayBuffer(RECORD_BYTES));
        aligned.set(record);
        const event = decodeRecord(buf, pad);
        expect(KINDS.has(event.kind)).toBe(true);
        expect(event).toEqual(decodeRecord(aligned, 0));
        if (event.kind !== 'unknown' && event.kind !== 'state') {
          // A length byte past its slot cannot be trusted: the string is clamped and flagged.
          if ((record[2] as number) > 24 || (record[3] as number) > 4 || (record[4] as number) > 32)
            expect(event.truncated).toBe(true);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('throws only RecordError, and only for an offset that does not hold a whole record', () => {
    const buf = Buffer.alloc(RECORD_BYTES * 2);
    for (const offset of [-1, 0.5, RECORD_BYTES + 1, RECORD_BYTES * 2, Number.NaN])
      expect(() => decodeRecord(buf, offset)).toThrow(RecordError);
    expect(decodeRecord(buf, RECORD_BYTES).kind).toBe('unknown');
  });
});

// Any UTF-16 code unit but NUL (which ends a C string), lone surrogates included.
const utf16 = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 1, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength });
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
/** DD/MM/YYYY HH:MM:SS.ZZZ in shape, any digits: what a TSystemTime carries and gives back. */
const shapedDate = fc
  .tuple(digits(2), digits(2), digits(4), digits(2), digits(2), digits(2), digits(3))
  .map(([d, mo, y, h, mi, s, ms]) => `${d}/${mo}/${y} ${h}:${mi}:${s}.${ms}`);
const SHAPE = /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}\.\d{3}$/;

const injected = fc.record({
  ticker: fc.option(utf16(40), { nil: null }),
  exchange: fc.option(utf16(8), { nil: null }),
  date: fc.oneof(fc.option(utf16(48), { nil: null }), shapedDate),
  feed: int32,
  tradeNumber: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  price: fc.double(),
  volume: fc.double(),
  qty: int32,
  buyAgent: int32,
  sellAgent: int32,
  tradeType: int32,
  isEdit: fc.boolean(),
}) as fc.Arbitrary<Required<InjectedTrade>>;

describe.each(SIM_LIBRARIES)(
  'the capture path on the $api calls (simulator thread → shim → ring → decode)',
  ({ api }) => {
    let connector: ProfitConnector;
    beforeAll(async () => {
      ({ connector } = await connectSimulator({ api }));
    });
    const v2 = api === 'v2';
    /** The date as the V2 path gives it back: a SYSTEMTIME's digits, or the zero date for no date. */
    const dateOf = (d: string | null, units: number) =>
      v2 ? (d && SHAPE.test(d) ? d : '00/00/0000 00:00:00.000') : (d ?? '').slice(0, units);
    afterAll(() => connector.finalize());

    it('delivers any trade callback bit for bit, truncating only what exceeds a slot', async () => {
      const clip = (s: string | null, units: number) => (s ?? '').slice(0, units);
      const overflows = (t: Required<InjectedTrade>) =>
        (t.ticker ?? '').length > 24 || (t.exchange ?? '').length > 4 || (!v2 && (t.date ?? '').length > 32);
      await fc.assert(
        fc.asyncProperty(fc.array(injected, { minLength: 1, maxLength: 40 }), async (batch) => {
          for (const t of batch) connector.sim?.injectTrade(t);
          const trades = tradesOf(
            await collect(connector, (ev) => tradesOf(ev).length >= batch.length, 'the batch'),
          );
          expect(trades).toHaveLength(batch.length);
          batch.forEach((t, i) => {
            const got = trades[i];
            expect(got).toBeDefined();
            if (!got) return;
            expect([got.ticker, got.exchange, got.date]).toEqual([
              clip(t.ticker, 24),
              clip(t.exchange, 4),
              dateOf(t.date, 32),
            ]);
            expect(got.truncated).toBe(overflows(t));
            const byte = (n: number) => (v2 ? n & 0xff : n);
            expect([got.feed, got.tradeType]).toEqual([byte(t.feed), byte(t.tradeType)]);
            for (const k of ['tradeNumber', 'price', 'volume', 'qty', 'buyAgent', 'sellAgent'] as const)
              expect(Object.is(got[k], t[k]), `${k}: ${got[k]} vs ${t[k]}`).toBe(true);
            expect(got.isEdit).toBe(t.isEdit);
          });
        }),
        { numRuns: 40 },
      );
    });
  },
);
