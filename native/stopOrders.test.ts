import { afterEach, describe, expect, it } from 'vitest';
import type { ProfitConnector } from './profitdll.ts';
import type { RawEvent } from './records.ts';
import { collect, connectSimulator, dllCode } from './testkit.ts';
import { type AccountRef, OrderType, type SendOrderRequest } from './types.ts';

// Stop-limit orders in the simulator through the real binding: a stop waits off the book (type 4)
// until a trade crosses its stop price, then it is a limit order (type 2, stop price kept) worked
// against the book at its limit. No model trades (rate 0): only the trades injected here print.

const ACCOUNT: AccountRef = { brokerId: 1982, accountId: 'SIM-0001' };
const PASSWORD = 'routing-secret';
const TICK = 0.01;
let connector: ProfitConnector | undefined;
const announced = new Set<bigint>();

afterEach(() => {
  announced.clear();
  connector?.sim?.resetOrders();
  connector?.finalize();
  connector = undefined;
});

const sim = (c: ProfitConnector) => c.sim as NonNullable<ProfitConnector['sim']>;
const px = (p: number) => Math.round(p / TICK) * TICK;
const stop = (o: Partial<SendOrderRequest> & Pick<SendOrderRequest, 'side'>): SendOrderRequest => ({
  account: ACCOUNT,
  password: PASSWORD,
  ticker: 'PETR4',
  exchange: 'B',
  type: 'stopLimit',
  qty: 100,
  ...o,
});

/** Logged in with routing and PETR4 subscribed; its best bid and ask (the book does not move). */
async function market() {
  const c = (await connectSimulator({ routing: true })).connector;
  connector = c;
  sim(c).resetOrders();
  c.subscribeTicker('PETR4', 'B');
  const touch = new Map<number, number>();
  await collect(
    c,
    (events: RawEvent[]) => {
      for (const e of events.splice(0))
        if (e.kind === 'tinyBook' && e.ticker === 'PETR4') touch.set(e.side, e.price);
      return touch.size === 2;
    },
    'the PETR4 top of book',
  );
  return { c, bid: touch.get(0) as number, ask: touch.get(1) as number };
}

/** Drains until the order is announced in a state `done` accepts. */
async function until(
  c: ProfitConnector,
  id: bigint,
  done: (o: ReturnType<ProfitConnector['orderDetails']>) => boolean,
) {
  await collect(
    c,
    (events) => {
      for (const e of events.splice(0)) if (e.kind === 'order') announced.add(e.localOrderId);
      return announced.has(id) && done(c.orderDetails(id));
    },
    `order ${id}`,
  );
  return c.orderDetails(id);
}

const waiting = (o: { type: number; status: number }) => o.type === OrderType.stopLimit && o.status === 0;

/** Prints a PETR4 trade at `price` and waits until it has reached the feed. */
async function print(c: ProfitConnector, price: number, tradeNumber: number) {
  sim(c).injectTrade({ ticker: 'PETR4', exchange: 'B', date: null, price, qty: 100, tradeNumber });
  await collect(
    c,
    (ev) => ev.some((e) => e.kind === 'trade' && e.tradeNumber === tradeNumber),
    `trade ${tradeNumber}`,
  );
}

describe('stop-limit orders in the simulator', () => {
  it('refuses a stop price that is missing or not positive, and a limit on the wrong side of the stop', async () => {
    const { c, ask, bid } = await market();
    expect(dllCode(() => c.sendOrder(stop({ side: 'buy', price: px(ask + 0.1) })))).toBe('NL_INVALID_ARGS');
    expect(dllCode(() => c.sendOrder(stop({ side: 'buy', price: px(ask + 0.1), stopPrice: 0 })))).toBe(
      'NL_INVALID_ARGS',
    );
    expect(
      dllCode(() => c.sendOrder(stop({ side: 'buy', price: px(ask + 0.1), stopPrice: Number.NaN }))),
    ).toBe('NL_INVALID_ARGS');
    // A buy stop-limit's limit below its stop, a sell's above it: it could never fill once triggered.
    expect(
      dllCode(() => c.sendOrder(stop({ side: 'buy', price: px(ask + 0.1), stopPrice: px(ask + 0.2) }))),
    ).toBe('NL_INVALID_ARGS');
    expect(
      dllCode(() => c.sendOrder(stop({ side: 'sell', price: px(bid - 0.1), stopPrice: px(bid - 0.2) }))),
    ).toBe('NL_INVALID_ARGS');
    expect(sim(c).orderStats().sent).toBe(0);
    // The broker's own refusal, asynchronous: a stop price off the tick grid.
    const off = c.sendOrder(stop({ side: 'buy', price: px(ask + 0.1), stopPrice: px(ask + 0.05) + 0.005 }));
    const rejected = await until(c, off, (o) => o.status === 8);
    expect(rejected.text).toMatch(/stop price is not on the tick grid/);
  });

  it('triggers a buy stop and a sell stop at the first trade through their stop price, filled at or better than their limit; one not crossed waits', async () => {
    const { c, bid, ask } = await market();
    const buyStop = px(ask + 0.05);
    const sellStop = px(bid - 0.05);
    const buy = c.sendOrder(stop({ side: 'buy', stopPrice: buyStop, price: px(buyStop + 0.05), qty: 200 }));
    const sell = c.sendOrder(
      stop({ side: 'sell', stopPrice: sellStop, price: px(sellStop - 0.05), qty: 100 }),
    );
    const far = c.sendOrder(stop({ side: 'buy', stopPrice: px(ask + 0.5), price: px(ask + 0.6), qty: 100 }));
    for (const id of [buy, sell, far]) {
      const o = await until(c, id, waiting);
      expect(o).toMatchObject({ tradedQty: 0, leavesQty: o.qty, type: OrderType.stopLimit });
      expect(o.stopPrice).toBeGreaterThan(0);
    }
    // One tick short of each stop: nothing triggers.
    await print(c, px(buyStop - TICK), 1);
    await print(c, px(sellStop + TICK), 2);
    // The next trade through the buy stop (at it) triggers it; it fills against the book at the ask.
    await print(c, buyStop, 3);
    const bought = await until(c, buy, (o) => o.status === 2);
    expect(bought).toMatchObject({
      type: OrderType.limit,
      stopPrice: buyStop,
      tradedQty: 200,
      text: 'stop triggered',
    });
    expect(bought.averagePrice).toBeLessThanOrEqual(bought.price);
    expect(bought.averagePrice).toBeCloseTo(ask, 6);
    expect(waiting(c.orderDetails(sell))).toBe(true);
    // A trade below the sell stop triggers it; it sells at the bid, at or above its limit.
    await print(c, px(sellStop - 0.03), 4);
    const sold = await until(c, sell, (o) => o.status === 2);
    expect(sold).toMatchObject({ type: OrderType.limit, stopPrice: sellStop, tradedQty: 100 });
    expect(sold.averagePrice).toBeGreaterThanOrEqual(sold.price);
    expect(sold.averagePrice).toBeCloseTo(bid, 6);
    // The far stop saw every trade and none reached it.
    const still = c.orderDetails(far);
    expect(waiting(still)).toBe(true);
    expect(still.tradedQty).toBe(0);
  });

  it('rests a triggered stop on the book when its limit is not marketable', async () => {
    const { c, bid, ask } = await market();
    // A buy stop below the market: the next trade at or above it triggers it, and its limit is
    // under the ask, so it then rests as a limit order.
    const stopPrice = px(bid - 0.2);
    const id = c.sendOrder(stop({ side: 'buy', stopPrice, price: stopPrice }));
    await until(c, id, waiting);
    await print(c, ask, 1);
    const resting = await until(c, id, (o) => o.type === OrderType.limit);
    expect(resting).toMatchObject({ status: 0, tradedQty: 0, leavesQty: 100, price: stopPrice, stopPrice });
    // Now on the book it is a limit order: SimFillOrder may execute it (a waiting stop it refuses).
    sim(c).fillOrder(id, 100, stopPrice);
    expect((await until(c, id, (o) => o.status === 2)).averagePrice).toBeCloseTo(stopPrice, 6);
  });

  it('changes and cancels a waiting stop', async () => {
    const { c, ask } = await market();
    const id = c.sendOrder(stop({ side: 'buy', stopPrice: px(ask + 0.3), price: px(ask + 0.4) }));
    await until(c, id, waiting);
    expect(dllCode(() => sim(c).fillOrder(id, 100, px(ask + 0.3)))).toBe('NL_INVALID_ARGS');
    // A new limit below the new stop is refused at once; a consistent change moves both prices.
    expect(dllCode(() => c.changeOrder(ACCOUNT, id, px(ask + 0.1), 100, PASSWORD, px(ask + 0.2)))).toBe(
      'NL_INVALID_ARGS',
    );
    c.changeOrder(ACCOUNT, id, px(ask + 0.3), 200, PASSWORD, px(ask + 0.25));
    const changed = await until(c, id, (o) => o.status === 5);
    expect(changed).toMatchObject({
      type: OrderType.stopLimit,
      qty: 200,
      price: px(ask + 0.3),
      stopPrice: px(ask + 0.25),
    });
    // Without a stop price the change keeps the stop.
    c.changeOrder(ACCOUNT, id, px(ask + 0.35), 200, PASSWORD);
    await until(c, id, (o) => o.status === 5 && o.price === px(ask + 0.35));
    expect(c.orderDetails(id).stopPrice).toBe(px(ask + 0.25));
    c.cancelOrder(ACCOUNT, id, PASSWORD);
    const canceled = await until(c, id, (o) => o.status === 4);
    expect(canceled).toMatchObject({ tradedQty: 0, leavesQty: 0 });
    // A trade through the old stop after the cancel fills nothing.
    await print(c, px(ask + 0.3), 1);
    expect(c.orderDetails(id)).toMatchObject({ status: 4, tradedQty: 0 });
  });
});
