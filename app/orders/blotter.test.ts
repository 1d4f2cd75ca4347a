import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BracketJson, OrderJson } from '../../sync-server/shared/orders.ts';
import { isWorking, SENDING, upsertBracket, upsertOrder } from './blotter.ts';

const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 13, 0, s)).toISOString();
const report = (id: number, version: number, state = 'new'): OrderJson => ({
  id,
  accountId: 'A',
  clientOrderId: `c${id}`,
  ticker: 'PETR4',
  side: 'buy',
  type: 'limit',
  qty: 100,
  price: 38.5,
  stopPrice: null,
  triggeredAt: null,
  state,
  filledQty: version,
  avgFillPrice: null,
  localOrderId: null,
  rejectReason: null,
  createdAt: at(0),
  updatedAt: at(version),
  external: false,
});

describe('the blotter fold', () => {
  it('replaces the optimistic row by the server report with the same client order id', () => {
    const sending = { ...report(-1, 0, SENDING), clientOrderId: 'c7' };
    const list = upsertOrder(upsertOrder([], report(3, 1)), sending);
    expect(list.map((o) => o.state)).toEqual([SENDING, 'new']);
    expect(isWorking(list[0] as OrderJson)).toBe(false);
    const after = upsertOrder(list, report(7, 1));
    expect(after.map((o) => o.id)).toEqual([7, 3]);
  });

  it('property: reports in any order and with repeats leave one row per order, its latest report', () => {
    const reports = fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 30 })), {
      maxLength: 60,
    });
    fc.assert(
      fc.property(reports, (rs) => {
        const list = rs.reduce((l, [id, v]) => upsertOrder(l, report(id, v)), [] as OrderJson[]);
        const latest = new Map<number, number>();
        for (const [id, v] of rs) latest.set(id, Math.max(latest.get(id) ?? -1, v));
        expect(list.length).toBe(latest.size);
        for (const o of list) expect(o.filledQty).toBe(latest.get(o.id));
      }),
    );
  });
});

describe('upsertBracket', () => {
  const bracket = (id: number, second: number, state: BracketJson['state']): BracketJson => ({
    id,
    accountId: 'A',
    clientId: `b${id}`,
    ticker: 'PETR4',
    side: 'long',
    qty: 100,
    takeProfit: 39,
    stopPrice: 38,
    stopLimit: 37.9,
    entryOrderId: null,
    takeProfitOrderId: 1,
    stopLossOrderId: 2,
    state,
    reason: state === 'closed' ? 'take_profit' : null,
    createdAt: at(0),
    updatedAt: at(second),
  });
  it('puts a new bracket first and a push in its place; a late older push never undoes a newer one', () => {
    const list = upsertBracket(upsertBracket([], bracket(1, 1, 'active')), bracket(2, 1, 'active'));
    expect(list.map((b) => b.id)).toEqual([2, 1]);
    const closed = upsertBracket(list, bracket(1, 5, 'closed'));
    expect(closed.find((b) => b.id === 1)?.state).toBe('closed');
    expect(upsertBracket(closed, bracket(1, 2, 'active')).find((b) => b.id === 1)?.state).toBe('closed');
  });
});
