import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { brokerPosition, type PositionRecord, positionAsset } from './binding.ts';
import { NL, ProfitDllError } from './errors.ts';
import type { ProfitConnector } from './profitdll.ts';
import type { RawEvent } from './records.ts';
import { brokerSessions, collect, dllCode, INSTRUMENTS, simOf as sim, type Ticker } from './testkit.ts';
import type { AccountRef, BrokerPosition } from './types.ts';

// The broker's positions through the real binding and simulator: moved by every fill of the
// account (Tape's orders, forced fills, trades from another terminal), listed per asset, kept
// across a re-login and a process that dies, and every value the DLL gives checked.

const ACCOUNT: AccountRef = { brokerId: 1982, accountId: 'SIM-0001' };
const OTHER: AccountRef = { brokerId: 308, accountId: 'SIM-0002' };
const PASSWORD = 'routing-secret';
const sessions = brokerSessions();
afterEach(() => sessions.release());

/** A routing session whose orders rest until a test fills them (SimFillOrder). */
async function routed() {
  const c = await sessions.connect();
  sim(c).setOrderMode('hold');
  return c;
}

/** Sends limit orders and waits until the broker has acknowledged every one (so they can be filled). */
async function rest(
  c: ProfitConnector,
  orders: { side: 'buy' | 'sell'; qty: number; price: number; ticker?: Ticker; account?: AccountRef }[],
): Promise<bigint[]> {
  const ids = orders.map((o) =>
    c.sendOrder({
      account: o.account ?? ACCOUNT,
      password: PASSWORD,
      ticker: o.ticker ?? 'PETR4',
      exchange: INSTRUMENTS[o.ticker ?? 'PETR4'].exchange,
      side: o.side,
      type: 'limit',
      price: o.price,
      qty: o.qty,
    }),
  );
  await collect(c, () => ids.every((id) => c.orderDetails(id).status === 0), 'the orders acknowledged');
  return ids;
}

/** What a position should be after these fills, in order: the same fold the broker does. */
function model(fills: readonly { side: 'buy' | 'sell'; qty: number; price: number }[], closingLeaves = 0) {
  let open = 0;
  let average = 0;
  let buyQty = 0;
  let buyValue = 0;
  let sellQty = 0;
  let sellValue = 0;
  for (const f of fills) {
    const buy = f.side === 'buy';
    if (buy) {
      buyQty += f.qty;
      buyValue += f.qty * f.price;
    } else {
      sellQty += f.qty;
      sellValue += f.qty * f.price;
    }
    const held = Math.abs(open);
    if (open === 0 || open > 0 === buy) average = (held * average + f.qty * f.price) / (held + f.qty);
    else if (f.qty > held) average = f.price;
    open += buy ? f.qty : -f.qty;
    if (open === 0) average = 0;
  }
  return {
    qty: open,
    averagePrice: average,
    dayBuyQty: buyQty,
    dayBuyAverage: buyQty ? buyValue / buyQty : 0,
    daySellQty: sellQty,
    daySellAverage: sellQty ? sellValue / sellQty : 0,
    availableQty: Math.max(0, Math.abs(open) - closingLeaves),
  };
}

describe('broker positions in the simulator', () => {
  it('a buy fill then a partial sell: the quantity falls, the average stays, the day counts both', async () => {
    const c = await routed();
    const [buy, sell] = await rest(c, [
      { side: 'buy', qty: 300, price: 38.5 },
      { side: 'sell', qty: 200, price: 38.7 },
    ]);
    sim(c).fillOrder(buy as bigint, 300, 38.5);
    expect(c.position(ACCOUNT, 'PETR4', 'B')).toEqual({
      ticker: 'PETR4',
      exchange: 'B',
      qty: 300,
      averagePrice: 38.5,
      dayBuyQty: 300,
      dayBuyAverage: 38.5,
      daySellQty: 0,
      daySellAverage: 0,
      availableQty: 100, // the working sell of 200 holds the rest
    });
    sim(c).fillOrder(sell as bigint, 100, 38.7);
    // Catches a reduction that moved the average, or a sell counted as a buy.
    expect(c.position(ACCOUNT, 'PETR4', 'B')).toMatchObject({
      qty: 200,
      averagePrice: 38.5,
      dayBuyQty: 300,
      daySellQty: 100,
      daySellAverage: 38.7,
      availableQty: 100,
    });
  });

  it('a reversal through zero opens the rest at the fill price; back to flat the asset stays listed', async () => {
    const c = await routed();
    const [a, b, d] = await rest(c, [
      { side: 'buy', qty: 200, price: 38.5 },
      { side: 'sell', qty: 500, price: 38.9 },
      { side: 'buy', qty: 300, price: 38.2 },
    ]);
    sim(c).fillOrder(a as bigint, 200, 38.5);
    sim(c).fillOrder(b as bigint, 500, 38.9);
    expect(c.position(ACCOUNT, 'PETR4', 'B')).toMatchObject({ qty: -300, averagePrice: 38.9 });
    sim(c).fillOrder(d as bigint, 300, 38.2);
    expect(c.position(ACCOUNT, 'PETR4', 'B')).toMatchObject({
      qty: 0,
      averagePrice: 0,
      dayBuyQty: 500,
      daySellQty: 500,
      availableQty: 0,
    });
    expect(c.positionAssets(ACCOUNT)).toEqual([{ ticker: 'PETR4', exchange: 'B' }]);
  });

  it('fills on the book move the position too (match mode)', async () => {
    const c = await routed();
    sim(c).setOrderMode('match');
    const id = c.sendOrder({
      account: ACCOUNT,
      password: PASSWORD,
      ticker: 'PETR4',
      exchange: 'B',
      side: 'buy',
      type: 'market',
      qty: 100,
    });
    await collect(c, () => c.orderDetails(id).status === 2, 'the market order filled');
    const o = c.orderDetails(id);
    expect(c.position(ACCOUNT, 'PETR4', 'B')).toMatchObject({ qty: 100, averagePrice: o.averagePrice });
  });

  it('a trade from another terminal moves the position and is announced as an order with no ClOrderID', async () => {
    const c = await routed();
    const events: RawEvent[] = [];
    const id = sim(c).externalTrade(ACCOUNT, 'WDOZ25', 'F', 'sell', 3, 5401.5);
    await collect(
      c,
      (ev) => {
        events.push(...ev.splice(0));
        return events.some((e) => e.kind === 'order' && e.localOrderId === id);
      },
      'the external order announced',
    );
    const announced = events.find((e) => e.kind === 'order' && e.localOrderId === id);
    expect(announced).toMatchObject({ clOrderId: '' });
    expect(c.orderDetails(id)).toMatchObject({ status: 2, qty: 3, tradedQty: 3, leavesQty: 0, side: 2 });
    expect(c.orderDetails(id).averagePrice).toBe(5401.5);
    const listed = c.enumerateOrders(ACCOUNT).find((o) => o.localOrderId === id);
    expect(listed).toMatchObject({ clOrderId: '', ticker: 'WDOZ25', exchange: 'F', status: 2 });
    expect(c.position(ACCOUNT, 'WDOZ25', 'F')).toMatchObject({
      qty: -3,
      averagePrice: 5401.5,
      daySellQty: 3,
    });
    // Tape's own orders of the same asset fold into the same position.
    const [buy] = await rest(c, [{ side: 'buy', qty: 5, price: 5400, ticker: 'WDOZ25' }]);
    sim(c).fillOrder(buy as bigint, 5, 5400);
    expect(c.position(ACCOUNT, 'WDOZ25', 'F')).toMatchObject({ qty: 2, averagePrice: 5400 });
  });

  it('positionAssets lists exactly the assets the account traded, and NL_NO_POSITION is undefined', async () => {
    const c = await routed();
    expect(c.positions(ACCOUNT)).toEqual([]);
    expect(c.position(ACCOUNT, 'PETR4', 'B')).toBeUndefined();
    const [petr, vale, , other] = await rest(c, [
      { side: 'buy', qty: 100, price: 38.5 },
      { side: 'buy', qty: 100, price: 62, ticker: 'VALE3' },
      { side: 'buy', qty: 100, price: 33, ticker: 'ITUB4' }, // never filled: not a position
      { side: 'sell', qty: 100, price: 14, ticker: 'BBDC4', account: OTHER },
    ]);
    sim(c).fillOrder(petr as bigint, 100, 38.5);
    sim(c).fillOrder(vale as bigint, 100, 62);
    sim(c).fillOrder(other as bigint, 100, 14);
    sim(c).externalTrade(ACCOUNT, 'WINZ25', 'F', 'buy', 1, 128_000);
    const key = (a: { ticker: string; exchange: string }) => `${a.ticker}/${a.exchange}`;
    expect(c.positionAssets(ACCOUNT).map(key).sort()).toEqual(['PETR4/B', 'VALE3/B', 'WINZ25/F']);
    expect(c.positionAssets(OTHER).map(key)).toEqual(['BBDC4/B']);
    expect(c.position(ACCOUNT, 'ITUB4', 'B')).toBeUndefined();
    expect(c.position(ACCOUNT, 'BBDC4', 'B')).toBeUndefined(); // the other account's
    expect(c.positions(ACCOUNT).map(key).sort()).toEqual(['PETR4/B', 'VALE3/B', 'WINZ25/F']);
    expect(c.positions(OTHER)).toEqual([
      expect.objectContaining({ ticker: 'BBDC4', qty: -100, averagePrice: 14 }),
    ]);
  });

  it('refuses an unknown account, malformed arguments and sessions without routing, with named codes', async () => {
    const market = await sessions.connect({ routing: false });
    expect(dllCode(() => market.positionAssets(ACCOUNT))).toBe('NL_MARKET_ONLY');
    expect(dllCode(() => market.position(ACCOUNT, 'PETR4', 'B'))).toBe('NL_MARKET_ONLY');
    market.finalize();
    expect(dllCode(() => market.positionAssets(ACCOUNT))).toBe('NL_NOT_INITIALIZED');
    const c = await routed();
    const unknown = { brokerId: 1982, accountId: 'NOPE-1' };
    expect(dllCode(() => c.positionAssets(unknown))).toBe('NL_NOT_FOUND');
    expect(dllCode(() => c.position(unknown, 'PETR4', 'B'))).toBe('NL_NOT_FOUND');
    expect(dllCode(() => c.positions({ brokerId: 308, accountId: 'SIM-0001' }))).toBe('NL_NOT_FOUND');
    expect(dllCode(() => c.positionAssets({ ...ACCOUNT, subAccountId: 'SUB' }))).toBe('NL_NOT_FOUND');
    expect(dllCode(() => c.positionAssets({ brokerId: 0, accountId: 'SIM-0001' }))).toBe('NL_INVALID_ARGS');
    expect(dllCode(() => c.position(ACCOUNT, '', 'B'))).toBe('NL_INVALID_ARGS');
    expect(dllCode(() => sim(c).externalTrade(unknown, 'PETR4', 'B', 'buy', 100, 38.5))).toBe('NL_NOT_FOUND');
    expect(dllCode(() => sim(c).externalTrade(ACCOUNT, 'NOPE3', 'B', 'buy', 100, 38.5))).toBe(
      'NL_INVALID_TICKER',
    );
    expect(dllCode(() => sim(c).externalTrade(ACCOUNT, 'PETR4', 'B', 'buy', 150, 38.5))).toBe(
      'NL_INVALID_ARGS',
    ); // not a lot
    expect(dllCode(() => sim(c).externalTrade(ACCOUNT, 'PETR4', 'B', 'buy', 100, 38.505))).toBe(
      'NL_INVALID_ARGS',
    ); // off the grid
    expect(c.positions(ACCOUNT)).toEqual([]); // nothing refused moved anything
  });

  it('positions survive a re-login as they were', async () => {
    const c = await routed();
    const [a, b] = await rest(c, [
      { side: 'buy', qty: 400, price: 38.5 },
      { side: 'sell', qty: 100, price: 38.8 },
    ]);
    sim(c).fillOrder(a as bigint, 400, 38.5);
    sim(c).fillOrder(b as bigint, 100, 38.8);
    sim(c).externalTrade(ACCOUNT, 'WDOZ25', 'F', 'buy', 2, 5400.5);
    const before = c.positions(ACCOUNT);
    expect(before).toHaveLength(2);
    c.finalize();
    const again = await sessions.connect({ keepOrders: true });
    expect(again.positions(ACCOUNT)).toEqual(before);
  });

  it('equals a model fold of the same fills, whoever made them (property)', async () => {
    const c = await routed();
    const step = fc.record({
      side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
      lots: fc.integer({ min: 1, max: 9 }),
      filledLots: fc.integer({ min: 1, max: 9 }),
      ticks: fc.integer({ min: 3600, max: 4100 }),
      external: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        sim(c).resetOrders();
        const fills: { side: 'buy' | 'sell'; qty: number; price: number }[] = [];
        const tape = steps.filter((s) => !s.external);
        const ids = await rest(
          c,
          tape.map((s) => ({ side: s.side, qty: s.lots * 100, price: s.ticks / 100 })),
        );
        let closingLeaves: { side: 'buy' | 'sell'; leaves: number }[] = [];
        let next = 0;
        for (const s of steps) {
          const price = s.ticks / 100;
          if (s.external) {
            sim(c).externalTrade(ACCOUNT, 'PETR4', 'B', s.side, s.lots * 100, price);
            fills.push({ side: s.side, qty: s.lots * 100, price });
            continue;
          }
          const filled = Math.min(s.lots, s.filledLots) * 100;
          sim(c).fillOrder(ids[next++] as bigint, filled, price);
          fills.push({ side: s.side, qty: filled, price });
          closingLeaves.push({ side: s.side, leaves: s.lots * 100 - filled });
        }
        const expected = model(fills);
        const closing = expected.qty > 0 ? 'sell' : 'buy';
        closingLeaves = closingLeaves.filter((l) => l.side === closing);
        const leaves = expected.qty === 0 ? 0 : closingLeaves.reduce((n, l) => n + l.leaves, 0);
        expect(c.position(ACCOUNT, 'PETR4', 'B')).toEqual({
          ticker: 'PETR4',
          exchange: 'B',
          ...model(fills, leaves),
        });
      }),
      { numRuns: 25 },
    );
  });
});

describe('positions in the broker journal', () => {
  it('are rebuilt, to the last digit, by a process that starts after one that died', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tape-positions-journal-'));
    const journal = join(dir, 'broker.journal');
    const testkit = JSON.stringify(join(import.meta.dirname, 'testkit.ts'));
    const account = JSON.stringify(ACCOUNT);
    // The first process trades (its own orders, a forced fill, another terminal), prints its
    // positions and dies without DLLFinalize; the second only logs in and prints them.
    const first = `
import { collect, connectSimulator } from ${testkit};
const account = ${account};
const { connector: c } = await connectSimulator({ routing: true });
c.sim.resetOrders();
c.sim.setOrderMode('hold');
const send = (side, qty, price) => c.sendOrder({ account, password: 'pw', ticker: 'PETR4', exchange: 'B', type: 'limit', side, price, qty });
const ids = [send('buy', 300, 38.37), send('sell', 500, 38.91), send('buy', 100, 38.03)];
await collect(c, () => ids.every((id) => c.orderDetails(id).status === 0), 'acknowledged');
c.sim.fillOrder(ids[0], 300, 38.37);
c.sim.externalTrade(account, 'PETR4', 'B', 'buy', 200, 38.41);
c.sim.fillOrder(ids[1], 500, 38.91);
c.sim.fillOrder(ids[2], 100, 38.03);
c.sim.externalTrade(account, 'WDOZ25', 'F', 'sell', 7, 5399.5);
console.log(JSON.stringify(c.positions(account)));
process.exit(0);
`;
    const second = `
import { connectSimulator } from ${testkit};
const { connector: c } = await connectSimulator({ routing: true });
console.log(JSON.stringify(c.positions(${account})));
process.exit(0);
`;
    const run = (name: string, source: string) => {
      const script = join(dir, name);
      writeFileSync(script, source);
      const out = execFileSync('npx', ['tsx', script], {
        env: { ...process.env, TAPE_SIM_BROKER_JOURNAL: journal },
        encoding: 'utf8',
        timeout: 60_000,
      });
      return JSON.parse(out.trim().split('\n').at(-1) as string) as BrokerPosition[];
    };
    const before = run('first.mts', first);
    expect(before).toHaveLength(2);
    expect(before.find((p) => p.ticker === 'PETR4')).toMatchObject({ qty: 100 });
    // One F line per fill, and the external trades as E lines, not S (orders Tape sent).
    const lines = readFileSync(journal, 'utf8').split('\n');
    expect(lines.filter((l) => l.startsWith('F '))).toHaveLength(5);
    expect(lines.filter((l) => l.startsWith('E '))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('S '))).toHaveLength(3);
    expect(run('second.mts', second)).toEqual(before);
  });
});

describe('the checks on what GetPositionV2 answers', () => {
  const good: PositionRecord = {
    openQuantity: 200,
    openAveragePrice: 38.5,
    openSide: 2,
    dailyAverageSellPrice: 38.5,
    dailySellQuantity: 200,
    dailyAverageBuyPrice: 0,
    dailyBuyQuantity: 0,
    dailyQuantityD1: 0,
    dailyQuantityD2: 0,
    dailyQuantityD3: 0,
    dailyQuantityBlocked: 0,
    dailyQuantityPending: 0,
    dailyQuantityAlloc: 0,
    dailyQuantityProvision: 0,
    dailyQuantity: 200,
    dailyQuantityAvailable: 200,
  };
  const failure = (r: PositionRecord) => {
    try {
      brokerPosition(r, 'PETR4', 'B');
    } catch (err) {
      if (err instanceof ProfitDllError && err.code === NL.INTERNAL_ERROR) return err.fn;
      throw err;
    }
    return 'accepted';
  };

  it('turns a good record into a signed position', () => {
    expect(brokerPosition(good, 'PETR4', 'B')).toMatchObject({
      qty: -200,
      averagePrice: 38.5,
      availableQty: 200,
    });
    expect(brokerPosition({ ...good, openQuantity: 2n ** 40n, openSide: 1 }, 'PETR4', 'B').qty).toBe(2 ** 40);
  });

  it('refuses each bad value, naming its field', () => {
    // Each line would catch one check missing: the field named is the one that was bad.
    expect(failure({ ...good, openAveragePrice: Number.NaN })).toMatch(/OpenAveragePrice/);
    expect(failure({ ...good, openAveragePrice: -1 })).toMatch(/OpenAveragePrice/);
    expect(failure({ ...good, dailyAverageBuyPrice: Number.POSITIVE_INFINITY })).toMatch(
      /DailyAverageBuyPrice/,
    );
    expect(failure({ ...good, dailyAverageSellPrice: -0.01 })).toMatch(/DailyAverageSellPrice/);
    expect(failure({ ...good, openQuantity: -200 })).toMatch(/OpenQuantity/);
    expect(failure({ ...good, openQuantity: 2n ** 60n })).toMatch(/OpenQuantity/);
    expect(failure({ ...good, dailySellQuantity: 1.5 })).toMatch(/DailySellQuantity/);
    expect(failure({ ...good, dailyBuyQuantity: -1n })).toMatch(/DailyBuyQuantity/);
    expect(failure({ ...good, dailyQuantityAvailable: 2 ** 53 })).toMatch(/DailyQuantityAvailable/);
    expect(failure({ ...good, openSide: 3 })).toMatch(/OpenSide/);
    expect(failure({ ...good, openSide: 0 })).toMatch(/OpenSide/); // flat with 200 open
    expect(failure({ ...good, openQuantity: 0 })).toMatch(/OpenSide/); // short with nothing open
  });

  it('accepts or refuses any record, never returning a value outside the contract (property)', () => {
    const quantity = fc.oneof(
      fc.integer({ min: -5, max: 1_000_000 }),
      fc.double(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    );
    const price = fc.oneof(fc.double(), fc.constantFrom(0, 38.5, -0));
    fc.assert(
      fc.property(
        fc.record({
          openQuantity: quantity,
          openAveragePrice: price,
          openSide: fc.integer({ min: 0, max: 255 }),
          dailyAverageSellPrice: price,
          dailySellQuantity: quantity,
          dailyAverageBuyPrice: price,
          dailyBuyQuantity: quantity,
          dailyQuantityAvailable: quantity,
        }),
        (r) => {
          const why = failure({ ...good, ...r });
          if (why !== 'accepted') return;
          const p = brokerPosition({ ...good, ...r }, 'PETR4', 'B');
          for (const q of [p.qty, p.dayBuyQty, p.daySellQty, p.availableQty])
            expect(Number.isSafeInteger(q)).toBe(true);
          for (const v of [p.averagePrice, p.dayBuyAverage, p.daySellAverage])
            expect(Number.isFinite(v) && v >= 0).toBe(true);
          expect(Math.sign(p.qty)).toBe(r.openSide === 2 ? -1 : r.openSide === 1 ? 1 : 0);
        },
      ),
    );
  });

  it('refuses an enumerated asset whose strings are empty or not well-formed UTF-16', () => {
    expect(positionAsset({ ticker: 'PETR4', exchange: 'B' })).toEqual({ ticker: 'PETR4', exchange: 'B' });
    expect(() => positionAsset({ ticker: null, exchange: 'B' })).toThrow(/ticker is empty/);
    expect(() => positionAsset({ ticker: 'PETR4', exchange: '' })).toThrow(/exchange is empty/);
    expect(() => positionAsset({ ticker: 'PE\ud800', exchange: 'B' })).toThrow(/ticker is not well-formed/);
  });
});
