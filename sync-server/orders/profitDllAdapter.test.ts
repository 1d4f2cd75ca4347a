import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NL, ProfitDllError } from '../../native/errors.ts';
import type { BrokerPosition, DllOrder, SendOrderRequest } from '../../native/types.ts';
import { VenueRefused } from './ports.ts';
import {
  InvalidDllOrder,
  InvalidVenuePosition,
  invalidOrderLetter,
  invalidPositionLetter,
  ProfitDllAdapter,
  parseBrokerPosition,
  parseDllOrder,
  reportStatus,
} from './profitDllAdapter.ts';
import { type OrderReport, REPORT_STATUSES } from './report.ts';

// parseDllOrder reads what the DLL reports about an order, data Tape does not control: it
// returns the venue-neutral report the manager may use or throws InvalidDllOrder with the
// reason, nothing else.

const good: DllOrder = {
  localOrderId: 42n,
  clOrderId: 'CL-1',
  brokerId: 1,
  accountId: 'ACC-1',
  subAccountId: '',
  ticker: 'PETR4',
  exchange: 'B',
  qty: 300,
  tradedQty: 100,
  leavesQty: 200,
  price: 38.5,
  stopPrice: 0,
  averagePrice: 38.49,
  side: 1,
  type: 2,
  status: 1,
  date: 1_800_000_000_000,
  lastUpdate: null,
  closeDate: null,
  text: 'ok',
};

// ProfitDLL's OrderStatus codes 0..18 by their names in API.md.
const API_ORDER_STATUS = [
  'new',
  'partially filled',
  'filled',
  'done for day',
  'canceled',
  'replaced',
  'pending cancel',
  'stopped',
  'rejected',
  'suspended',
  'pending new',
  'calculated',
  'expired',
  'accepted for bidding',
  'pending replace',
  'partially filled canceled',
  'received',
  'partially filled expired',
  'partially filled rejected',
];

/** The report status API.md's name of a code reads as; 'unknown' for one Tape does not follow. */
const expectedStatus = (code: number): OrderReport['status'] => {
  const name = API_ORDER_STATUS[code];
  if (name === undefined) return 'unknown';
  if (name === 'new') return 'accepted';
  if (name === 'pending new' || name === 'received') return 'submitted';
  // A closing state reached after part was filled is still that closing state.
  const status = name.replace(/^partially filled (?=\w)/, '').replaceAll(' ', '_');
  return (REPORT_STATUSES as readonly string[]).includes(status)
    ? (status as OrderReport['status'])
    : 'unknown';
};

/** What parseDllOrder makes of a record it accepts: the fields the manager uses, as reported. */
const expected = (d: DllOrder): OrderReport => {
  const { brokerId, subAccountId, exchange, leavesQty, stopPrice, type, lastUpdate, closeDate, ...kept } = d;
  const { date, side, price, text, status, tradedQty, averagePrice, ...asReported } = kept;
  return {
    ...asReported,
    status: expectedStatus(status),
    venueStatus: status,
    filledQty: tradedQty,
    avgPrice: averagePrice,
    side: side === 1 ? 'buy' : 'sell',
    price: price > 0 ? price : null, // a market order has none
    stopPrice: stopPrice > 0 ? stopPrice : null,
    // A limit order that keeps a stop price is a stop-limit whose stop triggered (docs/native.md).
    stopTriggered: type === 2 && stopPrice > 0,
    createdAt: date,
    text: text.toWellFormed(),
  };
};

const refusal = (d: DllOrder): InvalidDllOrder | undefined => {
  try {
    parseDllOrder(d);
    return undefined;
  } catch (err) {
    if (err instanceof InvalidDllOrder) return err;
    throw err;
  }
};

describe('parseDllOrder', () => {
  it('keeps a well-formed order as the DLL reported it', () => {
    expect(parseDllOrder(good)).toEqual(expected(good));
    expect(parseDllOrder({ ...good, side: 2, price: 0, text: 'x\uD800y' })).toMatchObject({
      side: 'sell',
      price: null, // a market order
      text: 'x\uFFFDy',
    });
    expect(parseDllOrder({ ...good, tradedQty: 0, averagePrice: 0 })).toMatchObject({
      filledQty: 0,
      avgPrice: 0,
    });
  });

  const cases: [Partial<DllOrder>, RegExp][] = [
    [{ localOrderId: 0n }, /local order id is not positive/],
    [{ localOrderId: -5n }, /local order id is not positive/],
    [{ status: -1 }, /status -1 is not a byte/],
    [{ status: 256 }, /status 256 is not a byte/],
    [{ status: 1.5 }, /is not a byte/],
    [{ status: Number.NaN }, /is not a byte/],
    [{ side: 0 }, /side 0 is neither buy \(1\) nor sell \(2\)/],
    [{ side: 3 }, /side 3 is neither/],
    [{ qty: 0 }, /quantity 0 is not a positive integer/],
    [{ qty: -100 }, /is not a positive integer/],
    [{ qty: 1.5 }, /is not a positive integer/],
    [{ qty: 2 ** 53 }, /is not a positive integer/],
    [{ tradedQty: -1 }, /traded quantity -1 is outside 0\.\.300/],
    [{ tradedQty: 301 }, /traded quantity 301 is outside 0\.\.300/],
    [{ tradedQty: 0.5 }, /is outside 0\.\.300/],
    [{ averagePrice: Number.NaN }, /average price NaN is not a price/],
    [{ averagePrice: -1 }, /is not a price/],
    [{ averagePrice: Number.POSITIVE_INFINITY }, /is not a price/],
    [{ averagePrice: 0 }, /average price 0 is not a price/], // 100 traded at no price
    [{ price: Number.NaN }, /price NaN is not finite/],
    [{ price: Number.NEGATIVE_INFINITY }, /is not finite/],
    [{ stopPrice: Number.NaN }, /stop price NaN is not finite/],
    [{ type: 4, stopPrice: 0 }, /stop-limit order with stop price 0/],
    [{ type: 4, stopPrice: -1 }, /stop-limit order with stop price -1/],
    [{ ticker: '' }, /ticker is empty or not well-formed/],
    [{ ticker: 'PETR\uDC004' }, /ticker is empty or not well-formed/],
    [{ accountId: 'ACC\uD800' }, /account id is not well-formed/],
    [{ clOrderId: '\uDC00CL' }, /client order id is not well-formed/],
  ];
  it.each(cases)('refuses %o with its reason', (patch, reason) => {
    const d = { ...good, ...patch };
    const err = refusal(d);
    expect(err?.reason).toMatch(reason);
    expect(err?.order).toBe(d);
    expect(err?.message).toBe(`ProfitDLL reported an invalid order ${d.localOrderId}: ${err?.reason}`);
  });

  // Each field most often fine, else anything its type can hold: the DLL's hostile cases.
  const either = <T>(fine: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 6, arbitrary: fine }, { weight: 1, arbitrary: hostile });
  const anyNumber = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.constantFrom(0, -0, -1, 255, 256, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY),
  );
  // Any UTF-16 code units, lone surrogates included.
  const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
  const anyOrder: fc.Arbitrary<DllOrder> = fc.record({
    localOrderId: either(
      fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }),
      fc.bigInt({ min: -(2n ** 64n), max: 0n }),
    ),
    clOrderId: anyText,
    brokerId: anyNumber,
    accountId: anyText,
    subAccountId: anyText,
    ticker: either(fc.constantFrom('PETR4', 'WINZ25', 'VALE3'), anyText),
    exchange: anyText,
    qty: either(fc.integer({ min: 1, max: 100_000 }), anyNumber),
    tradedQty: either(fc.integer({ min: 0, max: 100 }), anyNumber),
    leavesQty: anyNumber,
    price: either(fc.double({ min: 0, max: 200_000, noNaN: true }), anyNumber),
    stopPrice: anyNumber,
    averagePrice: either(fc.double({ min: 0.01, max: 200_000, noNaN: true }), anyNumber),
    side: either(fc.constantFrom(1, 2), anyNumber),
    type: anyNumber,
    status: either(fc.integer({ min: 0, max: 255 }), anyNumber),
    date: fc.option(anyNumber, { nil: null }),
    lastUpdate: fc.option(anyNumber, { nil: null }),
    closeDate: fc.option(anyNumber, { nil: null }),
    text: anyText,
  });

  it('property: any record is accepted whole or refused with a reason, never anything else', () => {
    const runs = 5_000;
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(anyOrder, (d) => {
        const err = refusal(d);
        if (err) {
          refused++;
          expect(err.reason.length).toBeGreaterThan(10);
          expect(err.order).toBe(d);
          return;
        }
        accepted++;
        const o = parseDllOrder(d);
        expect(o).toEqual(expected(d));
        expect(o.localOrderId).toBeGreaterThan(0n);
        expect(Number.isSafeInteger(o.qty) && o.qty > 0).toBe(true);
        expect(Number.isSafeInteger(o.filledQty) && o.filledQty >= 0 && o.filledQty <= o.qty).toBe(true);
        expect(Number.isFinite(o.avgPrice) && o.avgPrice >= 0).toBe(true);
        if (o.filledQty > 0) expect(o.avgPrice).toBeGreaterThan(0);
        expect(o.price === null || (Number.isFinite(o.price) && o.price > 0)).toBe(true);
        expect(REPORT_STATUSES).toContain(o.status);
        expect(Number.isInteger(o.venueStatus) && o.venueStatus >= 0 && o.venueStatus <= 255).toBe(true);
        expect(o.ticker !== '' && o.ticker.isWellFormed() && o.text.isWellFormed()).toBe(true);
        expect(o.accountId.isWellFormed() && o.clOrderId.isWellFormed()).toBe(true);
      }),
      { numRuns: runs },
    );
    // Both outcomes are exercised, or the checks above prove nothing.
    expect(accepted).toBeGreaterThan(runs / 10);
    expect(refused).toBeGreaterThan(runs / 10);
  });

  it('property: every well-formed record is accepted', () => {
    const wellFormed = fc
      .record({
        base: anyOrder,
        localOrderId: fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }),
        status: fc.integer({ min: 0, max: 255 }),
        side: fc.constantFrom(1, 2),
        qty: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        traded: fc.double({ min: 0, max: 1, noNaN: true }),
        averagePrice: fc.double({ min: Number.MIN_VALUE, max: 1e12, noNaN: true }),
        price: fc.double({ noNaN: true, noDefaultInfinity: true }),
        // A stop-limit (4) has a positive stop; any other type any finite one (−1: none).
        stop: fc.oneof(
          fc.record({ type: fc.constant(4), stopPrice: fc.double({ min: 0.01, max: 1e9, noNaN: true }) }),
          fc.record({
            type: fc.constantFrom(1, 2, 3, 0),
            stopPrice: fc.double({ noNaN: true, noDefaultInfinity: true }),
          }),
        ),
        ticker: fc.string({ unit: 'grapheme', minLength: 1 }),
        accountId: fc.string({ unit: 'grapheme' }),
        clOrderId: fc.string({ unit: 'grapheme' }),
      })
      .map(({ base, traded, stop, ...f }): DllOrder => {
        const tradedQty = Math.floor(traded * f.qty);
        return {
          ...base,
          ...f,
          ...stop,
          tradedQty,
          averagePrice: tradedQty === 0 && f.averagePrice < 1 ? 0 : f.averagePrice,
        };
      });
    fc.assert(
      fc.property(wellFormed, (d) => {
        expect(refusal(d)).toBeUndefined();
        expect(parseDllOrder(d)).toEqual(expected(d));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('ProfitDllAdapter', () => {
  const binding = (orders: DllOrder[]) => ({
    sendOrder: (): bigint => {
      throw new ProfitDllError('SendOrder', NL.INVALID_TICKER);
    },
    cancelOrder: () => {},
    changeOrder: () => {},
    orderDetails: (id: bigint) => orders.find((o) => o.localOrderId === id) as DllOrder,
    enumerateOrders: () => orders,
    positions: () => [],
  });

  it("lists the DLL's valid orders and reports each malformed one as an invalid_order letter", () => {
    const bad = { ...good, localOrderId: 43n, side: 7 };
    const other = { ...good, localOrderId: 44n, side: 2 };
    const reported: InvalidDllOrder[] = [];
    const router = new ProfitDllAdapter(binding([good, bad, other]), 'pw', (err) => reported.push(err));
    expect(router.enumerate({ brokerId: 1, accountId: 'ACC-1' })).toEqual([expected(good), expected(other)]);
    expect(reported.map((e) => e.order)).toEqual([bad]);
    expect(invalidOrderLetter(reported[0] as InvalidDllOrder)).toEqual({
      source: 'profitdll.order',
      reason: 'invalid_order',
      detail: 'ProfitDLL reported an invalid order 43: side 7 is neither buy (1) nor sell (2)',
      payload: { ...bad, localOrderId: '43' }, // bigints as strings: the payload is JSON
    });
  });

  it('reads one order through parseDllOrder', () => {
    const router = new ProfitDllAdapter(
      binding([good, { ...good, localOrderId: 45n, qty: 0 }]),
      'pw',
      () => {},
    );
    expect(router.details(42n)).toEqual(expected(good));
    expect(() => router.details(45n)).toThrow(InvalidDllOrder);
  });

  it("turns the DLL's refusal into the venue's, with its code name, and lets other errors through", () => {
    const router = new ProfitDllAdapter(
      {
        ...binding([]),
        cancelOrder: () => {
          throw new TypeError('not a DLL refusal');
        },
      },
      'pw',
      () => {},
    );
    const send = () =>
      router.send({
        account: { brokerId: 1, accountId: 'ACC-1' },
        ticker: 'PETR4',
        exchange: 'B',
        side: 'buy',
        type: 'limit',
        price: 38.5,
        qty: 100,
      });
    expect(send).toThrow(VenueRefused);
    expect(send).toThrow(expect.objectContaining({ code: 'NL_INVALID_TICKER' }));
    expect(() => router.cancel({ brokerId: 1, accountId: 'ACC-1' }, 42n)).toThrow(TypeError);
  });
});

describe('ProfitDllAdapter stop-limit orders', () => {
  it("sends a stop_limit as the DLL's OrderType 4 with its stop price; other types send none", () => {
    const sent: SendOrderRequest[] = [];
    const router = new ProfitDllAdapter(
      {
        sendOrder: (o: SendOrderRequest) => {
          sent.push(o);
          return 7n;
        },
        cancelOrder: () => {},
        changeOrder: () => {},
        orderDetails: () => good,
        enumerateOrders: () => [],
        positions: () => [],
      },
      'pw',
      () => {},
    );
    const base = {
      account: { brokerId: 1, accountId: 'ACC-1' },
      ticker: 'PETR4',
      exchange: 'B',
      qty: 100,
    } as const;
    router.send({ ...base, side: 'sell', type: 'stop_limit', price: 37.9, stopPrice: 38 });
    router.send({ ...base, side: 'buy', type: 'limit', price: 38.5, stopPrice: 38 });
    expect(sent.map((o) => [o.type, o.price, o.stopPrice, o.password])).toEqual([
      ['stopLimit', 37.9, 38, 'pw'],
      ['limit', 38.5, undefined, 'pw'],
    ]);
  });

  it('reads a waiting stop (type 4) and a triggered one (type 2 keeping its stop price)', () => {
    const waiting = parseDllOrder({ ...good, type: 4, stopPrice: 38.6, tradedQty: 0, averagePrice: 0 });
    expect(waiting).toMatchObject({ stopPrice: 38.6, stopTriggered: false });
    expect(parseDllOrder({ ...good, type: 2, stopPrice: 38.6 })).toMatchObject({
      stopPrice: 38.6,
      stopTriggered: true,
    });
    expect(parseDllOrder({ ...good, type: 2, stopPrice: -1 })).toMatchObject({
      stopPrice: null,
      stopTriggered: false,
    });
  });
});

describe('the broker positions', () => {
  const held: BrokerPosition = {
    ticker: 'PETR4',
    exchange: 'B',
    qty: -300,
    averagePrice: 38.6,
    dayBuyQty: 200,
    dayBuyAverage: 38.5,
    daySellQty: 500,
    daySellAverage: 38.6,
    availableQty: 300,
  };

  it('property: a position is taken as it is, or refused with the field named, never half-read', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER + 2)),
        fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double()),
        fc.oneof(fc.constant('PETR4'), fc.string(), fc.constant('\ud800')),
        (qty, averagePrice, ticker) => {
          const p = { ...held, qty, averagePrice, ticker };
          const valid =
            ticker !== '' &&
            ticker.isWellFormed() &&
            Number.isSafeInteger(qty) &&
            Number.isFinite(averagePrice) &&
            averagePrice >= 0 &&
            (qty === 0 || averagePrice > 0);
          if (valid)
            expect(parseBrokerPosition(p)).toEqual({
              ticker,
              qty,
              averagePrice: qty === 0 ? 0 : averagePrice,
            });
          else expect(() => parseBrokerPosition(p)).toThrow(InvalidVenuePosition);
        },
      ),
    );
  });

  it("the binding's refusal of a value is a letter, the DLL's refusal of the call a VenueRefused", () => {
    const adapter = (positions: () => BrokerPosition[]) =>
      new ProfitDllAdapter(
        {
          sendOrder: () => 1n,
          cancelOrder: () => {},
          changeOrder: () => {},
          orderDetails: () => ({}) as DllOrder,
          enumerateOrders: () => [],
          positions,
        },
        'pw',
        () => {},
      );
    const account = { brokerId: 1982, accountId: 'SIM-0001' };
    expect(adapter(() => [held]).positions(account)).toEqual([
      { ticker: 'PETR4', qty: -300, averagePrice: 38.6 },
    ]);
    const garbled = adapter(() => {
      throw new ProfitDllError('GetPositionV2 OpenQuantity', NL.INTERNAL_ERROR);
    });
    let err: unknown;
    try {
      garbled.positions(account);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidVenuePosition);
    expect(invalidPositionLetter(err as InvalidVenuePosition)).toMatchObject({
      source: 'profitdll.position',
      reason: 'invalid_position',
      payload: { account: 'SIM-0001' },
    });
    expect(() =>
      adapter(() => {
        throw new ProfitDllError('EnumerateAllPositionAssets', NL.NOT_FOUND);
      }).positions(account),
    ).toThrow(VenueRefused);
  });
});

describe('reportStatus', () => {
  it("maps each OrderStatus of API.md the adapter knows, and every other byte to 'unknown'", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (code) => {
        expect(reportStatus(code)).toBe(expectedStatus(code));
      }),
      { numRuns: 1_000 },
    );
    // done for day, stopped, suspended, calculated, accepted for bidding, the internal codes
    for (const code of [3, 7, 9, 11, 13, 200, 207]) expect(reportStatus(code)).toBe('unknown');
  });
});
