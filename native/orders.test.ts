import { afterEach, describe, expect, it } from 'vitest';
import { NL, ProfitDllError } from './errors.ts';
import type { ProfitConnector } from './profitdll.ts';
import type { RawEvent } from './records.ts';
import { collect, connectSimulator } from './testkit.ts';
import type { AccountRef, SendOrderRequest } from './types.ts';

// The simulator's V2 order routing through the real binding: return codes, the order callback,
// GetOrderDetails and EnumerateAllOrders, fills against the simulated book.

const ACCOUNT: AccountRef = { brokerId: 1982, accountId: 'SIM-0001' };
const PASSWORD = 'routing-secret';
let connector: ProfitConnector | undefined;
/** Order ids the DLL has announced through the order callback. */
const announced = new Set<bigint>();

afterEach(() => {
  announced.clear();
  connector?.sim?.setOrderMode('match');
  connector?.sim?.resetOrders();
  connector?.finalize();
  connector = undefined;
});

async function routed() {
  const c = (await connectSimulator({ routing: true })).connector;
  connector = c;
  c.sim?.resetOrders();
  return c;
}

/** An order of the test account, with its routing password. */
const order = (o: Omit<SendOrderRequest, 'account' | 'password'>): SendOrderRequest => ({
  account: ACCOUNT,
  password: PASSWORD,
  ...o,
});

const sim = (c: ProfitConnector) => c.sim as NonNullable<ProfitConnector['sim']>;

/** Drains until the DLL has announced `localOrderId` in a state `done` accepts (read via GetOrderDetails). */
async function untilOrder(c: ProfitConnector, localOrderId: bigint, done: (status: number) => boolean) {
  await collect(
    c,
    (events: RawEvent[]) => {
      for (const e of events.splice(0)) if (e.kind === 'order') announced.add(e.localOrderId);
      return announced.has(localOrderId) && done(c.orderDetails(localOrderId).status);
    },
    `order ${localOrderId}`,
  );
  return c.orderDetails(localOrderId);
}

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProfitDllError) return err.codeName;
    throw err;
  }
  return 'NL_OK';
};

describe('order routing in the simulator', () => {
  it('refuses orders before login, on a market-data session, and with bad arguments, with named codes', async () => {
    const market = (await connectSimulator({ routing: false })).connector;
    connector = market;
    const petr = order({ ticker: 'PETR4', exchange: 'B', side: 'buy', type: 'limit', price: 38.5, qty: 100 });
    expect(codeOf(() => market.sendOrder(petr))).toBe('NL_MARKET_ONLY');
    market.finalize();
    const c = await routed();
    expect(codeOf(() => c.sendOrder({ ...petr, ticker: 'NOPE3' }))).toBe('NL_INVALID_TICKER');
    expect(codeOf(() => c.sendOrder({ ...petr, exchange: 'X' }))).toBe('NL_EXCHANGE_UNKNOWN');
    expect(codeOf(() => c.sendOrder({ ...petr, qty: 0 }))).toBe('NL_INVALID_ARGS');
    expect(codeOf(() => c.sendOrder({ ...petr, price: Number.NaN }))).toBe('NL_INVALID_ARGS');
    expect(codeOf(() => c.sendOrder({ ...petr, password: '' }))).toBe('NL_NO_PASSWORD');
    expect(codeOf(() => c.orderDetails(123n))).toBe('NL_NOT_FOUND');
    expect(codeOf(() => c.cancelOrder(ACCOUNT, 123n, PASSWORD))).toBe('NL_NOT_FOUND');
    expect(sim(c).orderStats().sent).toBe(0);
  });

  it('acknowledges a resting order, reports it through the callback, and cancels it', async () => {
    const c = await routed();
    sim(c).setOrderMode('hold');
    const id = c.sendOrder(
      order({
        ticker: 'PETR4',
        exchange: 'B',
        side: 'buy',
        type: 'limit',
        price: 38.5,
        qty: 300,
      }),
    );
    expect(id).toBeGreaterThan(0n);
    const acked = await untilOrder(c, id, (s) => s === 0);
    expect(acked).toMatchObject({
      localOrderId: id,
      accountId: 'SIM-0001',
      brokerId: 1982,
      ticker: 'PETR4',
      exchange: 'B',
      qty: 300,
      tradedQty: 0,
      leavesQty: 300,
      price: 38.5,
      side: 1,
      type: 2,
      status: 0,
    });
    expect(Math.abs((acked.date ?? 0) - Date.now())).toBeLessThan(60_000);
    c.cancelOrder(ACCOUNT, id, PASSWORD);
    const canceled = await untilOrder(c, id, (s) => s === 4);
    expect(canceled.leavesQty).toBe(0);
    expect(canceled.closeDate).not.toBeNull();
    // A closed order cannot be canceled again; another account cannot touch it.
    expect(codeOf(() => c.cancelOrder(ACCOUNT, id, PASSWORD))).toBe('NL_INVALID_ARGS');
    expect(codeOf(() => c.cancelOrder({ ...ACCOUNT, accountId: 'OTHER' }, id, PASSWORD))).toBe(
      'NL_NOT_FOUND',
    );
    expect(sim(c).orderStats()).toMatchObject({ sent: 1, canceled: 1 });
  });

  it('rejects, asynchronously and with a reason, what the broker refuses: lot, tick grid, tunnel', async () => {
    const c = await routed();
    const base = {
      ticker: 'PETR4',
      exchange: 'B',
      side: 'sell',
      type: 'limit',
    } as const;
    const cases = [
      { price: 38.5, qty: 150, why: /lot/ },
      { price: 38.505, qty: 100, why: /tick/ },
      { price: 80, qty: 100, why: /tunnel/ },
    ];
    for (const k of cases) {
      const id = c.sendOrder(order({ ...base, price: k.price, qty: k.qty }));
      const o = await untilOrder(c, id, (s) => s === 8);
      expect(o.text).toMatch(k.why);
      expect(o.tradedQty).toBe(0);
    }
    expect(sim(c).orderStats().rejected).toBe(3);
  });

  it('fills a marketable order against the book at the book price, and forced partial fills average', async () => {
    const c = await routed();
    const id = c.sendOrder(
      order({
        ticker: 'VALE3',
        exchange: 'B',
        side: 'buy',
        type: 'market',
        qty: 100,
      }),
    );
    const filled = await untilOrder(c, id, (s) => s === 2);
    expect(filled.tradedQty).toBe(100);
    expect(filled.averagePrice).toBeGreaterThan(0);
    expect(Math.abs(filled.averagePrice * 100 - Math.round(filled.averagePrice * 100))).toBeLessThan(1e-6);

    sim(c).setOrderMode('hold');
    const rest = c.sendOrder(
      order({
        ticker: 'WINZ25',
        exchange: 'F',
        side: 'sell',
        type: 'limit',
        price: 128_000,
        qty: 3,
      }),
    );
    await untilOrder(c, rest, (s) => s === 0);
    sim(c).fillOrder(rest, 1, 128_000);
    expect((await untilOrder(c, rest, (s) => s === 1)).tradedQty).toBe(1);
    sim(c).fillOrder(rest, 2, 128_010);
    const done = await untilOrder(c, rest, (s) => s === 2);
    expect(done.tradedQty).toBe(3);
    expect(done.averagePrice).toBeCloseTo((128_000 + 2 * 128_010) / 3, 6);
    expect(codeOf(() => sim(c).fillOrder(rest, 1, 128_000))).toBe('NL_INVALID_ARGS');
  });

  it('changes a working order and refuses a change below the filled quantity', async () => {
    const c = await routed();
    sim(c).setOrderMode('hold');
    const id = c.sendOrder(
      order({
        ticker: 'ITUB4',
        exchange: 'B',
        side: 'buy',
        type: 'limit',
        price: 33,
        qty: 500,
      }),
    );
    await untilOrder(c, id, (s) => s === 0);
    c.changeOrder(ACCOUNT, id, 32.9, 400, PASSWORD);
    const changed = await untilOrder(c, id, (s) => s === 5);
    expect(changed).toMatchObject({ price: 32.9, qty: 400, leavesQty: 400 });
    sim(c).fillOrder(id, 200, 32.9);
    await untilOrder(c, id, (s) => s === 1);
    c.changeOrder(ACCOUNT, id, 32.9, 200, PASSWORD);
    const refused = await untilOrder(c, id, (s) => s === 1 && c.orderDetails(id).text !== '');
    expect(refused).toMatchObject({ qty: 400, tradedQty: 200, status: 1 });
    expect(refused.text).toMatch(/quantity/);
  });

  it('enumerates the account orders, and they outlive a logout, as orders live at the broker', async () => {
    let c = await routed();
    sim(c).setOrderMode('hold');
    const ids = [38.1, 38.2].map((price) =>
      c.sendOrder(
        order({
          ticker: 'PETR4',
          exchange: 'B',
          side: 'buy',
          type: 'limit',
          price,
          qty: 100,
        }),
      ),
    );
    c.sendOrder({
      account: { ...ACCOUNT, accountId: 'SIM-0002' },
      password: PASSWORD,
      ticker: 'PETR4',
      exchange: 'B',
      side: 'buy',
      type: 'limit',
      price: 38,
      qty: 100,
    });
    await untilOrder(c, ids[1] as bigint, (s) => s === 0);
    c.finalize();
    c = (await connectSimulator({ routing: true })).connector;
    connector = c;
    const listed = c.enumerateOrders(ACCOUNT);
    expect(listed.map((o) => o.localOrderId)).toEqual(ids);
    expect(listed[0]).toMatchObject({
      ticker: 'PETR4',
      price: 38.1,
      qty: 100,
      status: 0,
      accountId: 'SIM-0001',
    });
    expect(listed[0]?.clOrderId).toMatch(/^SIM\d+$/);
    c.cancelAllOrders(ACCOUNT, PASSWORD);
    await untilOrder(c, ids[0] as bigint, (s) => s === 4);
    await untilOrder(c, ids[1] as bigint, (s) => s === 4);
    expect(c.enumerateOrders({ ...ACCOUNT, accountId: 'SIM-0002' })[0]?.status).toBe(0);
    expect(NL.OK).toBe(0);
  });
});
