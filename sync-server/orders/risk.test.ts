import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { centavos, instrumentFor } from '../shared/instruments.ts';
import type { RiskConfig } from '../shared/orders.ts';
import { fullBucket } from '../tokenBucket.ts';
import {
  DEFAULT_RISK,
  type OrderRequest,
  orderRate,
  RiskReason,
  type RiskSnapshot,
  riskCheck,
} from './risk.ts';

const NOW = 1_800_000_000_000;
const petr = instrumentFor('PETR4', 'B');
const win = instrumentFor('WINZ25', 'F');
const cfg: RiskConfig = {
  ...DEFAULT_RISK,
  maxOrderQty: 5_000,
  maxPositionQty: 10_000,
  maxOpenOrders: 3,
  maxOrderNotionalCents: 100_000_00,
};
const snap: RiskSnapshot = {
  instrument: petr,
  tradable: true,
  lastPrice: 38.5,
  priceLimits: { min: 34.65, max: 42.35 },
  positionQty: 0,
  openBuyQty: 0,
  openSellQty: 0,
  openOrders: 0,
  dayNetCents: 0,
  duplicateClientOrderId: false,
  bucket: fullBucket(orderRate(cfg), NOW),
  now: NOW,
};
const order: OrderRequest = {
  clientOrderId: 'c1',
  ticker: 'PETR4',
  side: 'buy',
  type: 'limit',
  qty: 100,
  price: 38.5,
};

/** A buy stop-limit above the market: stop 39.00, limit 39.10 (last trade 38.50). */
const buyStop: Partial<OrderRequest> = { type: 'stop_limit', stopPrice: 39, price: 39.1 };

// Each check: one case that passes and one that fails with exactly its reason.
const cases: [string, Partial<OrderRequest>, Partial<RiskSnapshot>, Partial<RiskConfig>, RiskReason][] = [
  ['kill switch', {}, {}, { killSwitch: true }, RiskReason.killSwitch],
  ['duplicate client order id', {}, { duplicateClientOrderId: true }, {}, RiskReason.duplicateClientOrderId],
  ['known instrument', { ticker: 'ZZZZ9' }, { instrument: undefined }, {}, RiskReason.unknownInstrument],
  ['tradable instrument', {}, { tradable: false }, {}, RiskReason.notTradable],
  ['lot multiple', { qty: 150 }, {}, {}, RiskReason.badQuantity],
  ['positive quantity', { qty: 0 }, {}, {}, RiskReason.badQuantity],
  ['limit needs a price', { price: undefined }, {}, {}, RiskReason.priceRequired],
  ['tick grid', { price: 38.505 }, {}, {}, RiskReason.priceOffTick],
  ['at least one tick', { price: 1e-9 }, {}, {}, RiskReason.priceOffTick],
  ['reference price', {}, { lastPrice: undefined }, {}, RiskReason.noReferencePrice],
  ['price band', { price: 41 }, {}, {}, RiskReason.priceBand],
  ['exchange limits', {}, { priceLimits: { min: 38.6, max: 42.35 } }, {}, RiskReason.exchangeLimits],
  ['exchange limits, above', {}, { priceLimits: { min: 30, max: 38.49 } }, {}, RiskReason.exchangeLimits],
  ['max order quantity', { qty: 5_100 }, {}, {}, RiskReason.maxOrderQty],
  ['max notional', { qty: 3_000 }, {}, { maxOrderNotionalCents: 100_000_00 }, RiskReason.maxOrderNotional],
  ['max position', { qty: 1_000 }, { positionQty: 9_500 }, {}, RiskReason.maxPosition],
  [
    'max position counts open orders',
    { qty: 1_000 },
    { positionQty: 8_000, openBuyQty: 1_500 },
    {},
    RiskReason.maxPosition,
  ],
  ['max open orders', {}, { openOrders: 3 }, {}, RiskReason.maxOpenOrders],
  ['daily loss limit', {}, { dayNetCents: -DEFAULT_RISK.dailyLossLimitCents }, {}, RiskReason.dailyLoss],
  ['submit rate', {}, { bucket: { tokens: 0.5, at: NOW } }, {}, RiskReason.rateLimited],
  ['stop price only on a stop-limit', { stopPrice: 38.6 }, {}, {}, RiskReason.stopPriceNotStop],
  ['a stop-limit needs a limit price', { ...buyStop, price: undefined }, {}, {}, RiskReason.priceRequired],
  [
    'a stop-limit needs a stop price',
    { ...buyStop, stopPrice: undefined },
    {},
    {},
    RiskReason.stopPriceRequired,
  ],
  ['a positive stop price', { ...buyStop, stopPrice: -1 }, {}, {}, RiskReason.stopPriceRequired],
  ['the stop on the tick grid', { ...buyStop, stopPrice: 39.005 }, {}, {}, RiskReason.stopPriceOffTick],
  ['a buy limit at or above its stop', { ...buyStop, price: 38.99 }, {}, {}, RiskReason.stopLimitInverted],
  [
    'a sell limit at or below its stop',
    { ...buyStop, side: 'sell', stopPrice: 38, price: 38.01 },
    {},
    {},
    RiskReason.stopLimitInverted,
  ],
  // 41.00 is 6.5 % from 38.50: the band (5 %) measures the stop.
  [
    'the band measures the stop price',
    { ...buyStop, stopPrice: 41, price: 41 },
    {},
    {},
    RiskReason.priceBand,
  ],
  [
    'the stop inside the exchange limits',
    buyStop,
    { priceLimits: { min: 30, max: 38.95 } },
    {},
    RiskReason.exchangeLimits,
  ],
];

describe('riskCheck', () => {
  it('passes a plain order and spends one token', () => {
    const r = riskCheck(cfg, order, snap);
    expect(r).toEqual({ ok: true, bucket: { tokens: cfg.orderBurst - 1, at: NOW }, notionalCents: 385_000 });
  });

  it.each(cases)('%s: fails with its reason', (_name, o, s, c, reason) => {
    const r = riskCheck({ ...cfg, ...c }, { ...order, ...o }, { ...snap, ...s });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe(reason);
    expect(!r.ok && r.message.length).toBeGreaterThan(10);
  });

  it('lets an exposure-reducing order through once the daily loss limit is hit', () => {
    const r = riskCheck(
      cfg,
      { ...order, side: 'sell', qty: 500 },
      { ...snap, positionQty: 1_000, dayNetCents: -9e9 },
    );
    expect(r.ok).toBe(true);
  });

  it('values WIN at R$0.20 per point and checks its 5-point grid', () => {
    const w = { ...snap, instrument: win, lastPrice: 128_000, priceLimits: undefined };
    const ok = riskCheck(cfg, { ...order, ticker: 'WINZ25', qty: 2, price: 128_005 }, w);
    expect(ok).toMatchObject({ ok: true, notionalCents: 2 * 128_005 * 20 });
    expect(riskCheck(cfg, { ...order, ticker: 'WINZ25', qty: 2, price: 128_003 }, w)).toMatchObject({
      reason: RiskReason.priceOffTick,
    });
  });

  it('names prices in its sentences as B3 writes them', () => {
    expect(riskCheck(cfg, { ...order, price: 41 }, snap)).toMatchObject({
      message: 'Price is more than 5% away from the last trade (38,50)',
    });
    expect(riskCheck(cfg, { ...order, price: 38.505 }, snap)).toMatchObject({
      message: 'Price must be a multiple of 0,01 for PETR4',
    });
    const w = { ...snap, instrument: win, lastPrice: 128_000, priceLimits: undefined };
    expect(riskCheck(cfg, { ...order, ticker: 'WINZ25', qty: 2, price: 150_000 }, w)).toMatchObject({
      message: expect.stringContaining('(128.000)'),
    });
  });

  it('bands a stop-limit by its stop price and values it at its limit price', () => {
    // Stop 40.40 is 4.9 % from 38.50 (inside the 5 % band), its limit 40.50 is 5.2 % (outside):
    // it passes, the notional counted at the limit.
    const r = riskCheck(
      cfg,
      { ...order, ...buyStop, stopPrice: 40.4, price: 40.5 },
      { ...snap, priceLimits: undefined },
    );
    expect(r).toMatchObject({ ok: true, notionalCents: 405_000 });
    // The same prices as a limit order: the band measures the limit and refuses it.
    expect(riskCheck(cfg, { ...order, price: 40.5 }, { ...snap, priceLimits: undefined })).toMatchObject({
      reason: RiskReason.priceBand,
    });
    // A stop inside the band, its limit notional over the limit: refused on notional at the limit price.
    expect(
      riskCheck(
        { ...cfg, maxOrderNotionalCents: 400_000 },
        { ...order, ...buyStop, stopPrice: 38.5, price: 40.1 },
        snap,
      ),
    ).toMatchObject({ reason: RiskReason.maxOrderNotional });
    expect(
      riskCheck(cfg, { ...order, ...buyStop, side: 'sell', stopPrice: 38, price: 37.9 }, snap),
    ).toMatchObject({
      ok: true,
    });
  });

  it('prices a market order at the last trade', () => {
    const r = riskCheck(cfg, { ...order, type: 'market', price: undefined }, snap);
    expect(r).toMatchObject({ ok: true, notionalCents: 385_000 });
  });

  it('property: a passing order never breaks a limit', () => {
    // Mostly whole lots, prices inside the band and room under the limits, so that over a third
    // of the cases pass and the checks below run; each check refuses some of the rest.
    const runs = 3_000;
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.record({
          side: fc.constantFrom('buy' as const, 'sell' as const),
          qty: fc.oneof(
            { weight: 9, arbitrary: fc.integer({ min: 1, max: 27 }).map((lots) => lots * 100) },
            { weight: 1, arbitrary: fc.integer({ min: -200, max: 12_000 }) },
          ),
          ticks: fc.oneof(
            { weight: 9, arbitrary: fc.integer({ min: 3_660, max: 4_040 }) },
            { weight: 1, arbitrary: fc.integer({ min: 3_000, max: 4_500 }) },
          ),
          position: fc.oneof(
            { weight: 3, arbitrary: fc.integer({ min: -5_000, max: 5_000 }) },
            { weight: 1, arbitrary: fc.integer({ min: -12_000, max: 12_000 }) },
          ),
          openBuy: fc.nat(5_000),
          openSell: fc.nat(5_000),
          openOrders: fc.oneof({ weight: 4, arbitrary: fc.nat(2) }, { weight: 1, arbitrary: fc.nat(5) }),
          realized: fc.oneof(
            { weight: 3, arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }) },
            { weight: 1, arbitrary: fc.integer({ min: -10_000_000, max: 1_000_000 }) },
          ),
          tokens: fc.oneof(
            { weight: 1, arbitrary: fc.double({ min: 0, max: 20, noNaN: true }) },
            { weight: 3, arbitrary: fc.constant(20) },
          ),
          limits: fc.option(
            fc
              .tuple(fc.integer({ min: 3_400, max: 3_900 }), fc.integer({ min: 3_800, max: 4_300 }))
              .map(([lo, hi]) => ({ min: lo / 100, max: hi / 100 })),
            { nil: undefined, freq: 2 },
          ),
        }),
        (x) => {
          const price = x.ticks / 100;
          const s = {
            ...snap,
            positionQty: x.position,
            openBuyQty: x.openBuy,
            openSellQty: x.openSell,
            openOrders: x.openOrders,
            dayNetCents: x.realized,
            bucket: { tokens: x.tokens, at: NOW },
            priceLimits: x.limits,
          };
          const r = riskCheck(cfg, { ...order, side: x.side, qty: x.qty, price }, s);
          if (!r.ok) return;
          accepted++;
          const after = x.side === 'buy' ? x.position + x.openBuy + x.qty : x.position - x.openSell - x.qty;
          expect(x.qty > 0 && x.qty % 100 === 0 && x.qty <= cfg.maxOrderQty).toBe(true);
          expect(Math.abs(after)).toBeLessThanOrEqual(cfg.maxPositionQty);
          expect(centavos(price, x.qty, petr as NonNullable<typeof petr>)).toBeLessThanOrEqual(
            cfg.maxOrderNotionalCents,
          );
          expect(Math.abs(price - 38.5) / 38.5).toBeLessThanOrEqual(cfg.priceBandPct / 100);
          expect(x.openOrders).toBeLessThan(cfg.maxOpenOrders);
          expect(x.tokens).toBeGreaterThanOrEqual(1);
          if (x.limits) expect(price >= x.limits.min && price <= x.limits.max).toBe(true);
          if (-x.realized >= cfg.dailyLossLimitCents)
            expect(Math.abs(after)).toBeLessThan(Math.abs(x.position));
        },
      ),
      { numRuns: runs },
    );
    // A check that refused every order would pass the assertions above without running them.
    expect(accepted).toBeGreaterThanOrEqual(runs / 10);
    expect(accepted).toBeLessThanOrEqual(runs * 0.9);
  });

  it('property: the token bucket never admits more than burst + rate × elapsed', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 200 }), (gaps) => {
        let bucket = fullBucket(orderRate(cfg), NOW);
        let now = NOW;
        let admitted = 0;
        for (const g of gaps) {
          now += g;
          const r = riskCheck(cfg, order, { ...snap, bucket, now });
          if (r.ok) {
            admitted++;
            bucket = r.bucket;
          } else expect(r.reason).toBe(RiskReason.rateLimited);
        }
        expect(admitted).toBeLessThanOrEqual(
          cfg.orderBurst + Math.floor(((now - NOW) / 1000) * cfg.ordersPerSecond),
        );
        // The bucket starts full: the first burst of orders always goes through.
        expect(admitted).toBeGreaterThanOrEqual(Math.min(gaps.length, cfg.orderBurst));
      }),
    );
  });
});
