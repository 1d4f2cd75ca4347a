import { describe, expect, it } from 'vitest';
import type { OrderRow } from './model.ts';
import { isSentAs } from './reconcile.ts';
import type { OrderReport } from './report.ts';

// Which of the venue's orders an order written but never acknowledged is: the one rule that
// decides whether start-up adopts an order or closes it as not sent.

const written: OrderRow = {
  id: 1,
  accountId: 'ACC-1',
  userId: 1,
  origin: 'tape',
  clientOrderId: 'c-1',
  requestHash: 'h',
  ticker: 'PETR4',
  exchange: 'B',
  side: 'buy',
  type: 'limit',
  qty: 100,
  price: 38.5,
  stopPrice: null,
  triggeredAt: null,
  state: 'pending_new',
  filledQty: 0,
  avgFillPrice: null,
  localOrderId: null,
  rejectReason: null,
  createdAt: '2026-12-03T13:00:00.000Z',
  updatedAt: '2026-12-03T13:00:00.000Z',
};

const report: OrderReport = {
  localOrderId: 7n,
  clOrderId: '',
  accountId: 'ACC-1',
  ticker: 'PETR4',
  side: 'buy',
  status: 'accepted',
  venueStatus: 0,
  qty: 100,
  filledQty: 0,
  avgPrice: 0,
  price: 38.5,
  stopPrice: null,
  stopTriggered: false,
  createdAt: Date.parse('2026-12-03T13:00:00.200Z'),
  text: '',
};

describe('isSentAs', () => {
  it('matches the same instrument, side, quantity and price taken after the row was written', () => {
    expect(isSentAs(written, report)).toBe(true);
    expect(isSentAs(written, { ...report, createdAt: null })).toBe(true); // the venue did not say
    // Within the second of clock skew allowed, before the write.
    expect(isSentAs(written, { ...report, createdAt: Date.parse('2026-12-03T12:59:59.100Z') })).toBe(true);
  });

  it.each<[string, Partial<OrderReport>]>([
    ['another ticker', { ticker: 'VALE3' }],
    ['the other side', { side: 'sell' }],
    ['another quantity', { qty: 200 }],
    ['another price', { price: 38.51 }],
    ['no price for a limit order', { price: null }],
    ['taken before the row was written', { createdAt: Date.parse('2026-12-03T12:59:58.900Z') }],
  ])('refuses %s', (_, patch) => {
    expect(isSentAs(written, { ...report, ...patch })).toBe(false);
  });

  it('matches a market order only to a report without a price', () => {
    const market: OrderRow = { ...written, type: 'market', price: null };
    expect(isSentAs(market, { ...report, price: null })).toBe(true);
    expect(isSentAs(market, report)).toBe(false);
  });

  it('matches a stop-limit by its stop price too, waiting or triggered, and never a plain limit for it', () => {
    const stop: OrderRow = { ...written, type: 'stop_limit', price: 38.6, stopPrice: 38.55 };
    const listed: OrderReport = { ...report, price: 38.6, stopPrice: 38.55 };
    expect(isSentAs(stop, listed)).toBe(true);
    expect(isSentAs(stop, { ...listed, stopTriggered: true })).toBe(true);
    expect(isSentAs(stop, { ...listed, stopPrice: 38.56 })).toBe(false);
    expect(isSentAs(stop, { ...listed, stopPrice: null })).toBe(false);
    expect(isSentAs(written, { ...report, stopPrice: 38.5 })).toBe(false);
  });
});
