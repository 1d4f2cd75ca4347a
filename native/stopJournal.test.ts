import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProfitConnector } from './profitdll.ts';
import { collect, connectSimulator } from './testkit.ts';
import { type AccountRef, OrderType } from './types.ts';

// The simulated broker's journal keeps stop-limit orders across a process that dies: a waiting
// stop comes back waiting with its stop (and a changed stop with the new one), a triggered one
// as the limit order it became, and a waiting one still triggers on the next process's trades.

const ACCOUNT: AccountRef = { brokerId: 1982, accountId: 'SIM-0001' };
const dir = mkdtempSync(join(tmpdir(), 'tape-stop-journal-'));
const JOURNAL = join(dir, 'broker.journal');
// Read at this process's first order call: set before the simulator is used.
process.env.TAPE_SIM_BROKER_JOURNAL = JOURNAL;

/** The first process: three stops, one changed, one triggered, then it dies without DLLFinalize. */
const FIRST = `
import { collect, connectSimulator } from ${JSON.stringify(join(import.meta.dirname, 'testkit.ts'))};
const account = { brokerId: 1982, accountId: 'SIM-0001' };
const { connector: c } = await connectSimulator({ routing: true });
c.sim.resetOrders();
const stop = (side, stopPrice, price) =>
  c.sendOrder({ account, password: 'pw', ticker: 'PETR4', exchange: 'B', type: 'stopLimit', side, stopPrice, price, qty: 100 });
const until = (what, done) => collect(c, () => done(), what);
const a = stop('buy', 38.6, 38.7);
const b = stop('sell', 38.4, 38.3);
const below = stop('buy', 31, 31); // triggered by the next trade, its limit far under the book
await until('acknowledged', () => [a, b, below].every((id) => c.orderDetails(id).status === 0));
c.changeOrder(account, b, 38.2, 100, 'pw', 38.3);
await until('changed', () => c.orderDetails(b).status === 5);
c.sim.injectTrade({ ticker: 'PETR4', exchange: 'B', date: null, price: 38.5, qty: 100, tradeNumber: 1 });
await until('triggered', () => c.orderDetails(below).type === 2);
console.log(JSON.stringify([a, b, below].map(String)));
process.exit(0);
`;

let connector: ProfitConnector | undefined;
afterAll(() => {
  connector?.sim?.resetOrders();
  connector?.finalize();
});

describe('stop-limit orders in the broker journal', () => {
  it('come back after the process died as they were, and a waiting one still triggers', async () => {
    const script = join(dir, 'first.mts');
    writeFileSync(script, FIRST);
    const out = execFileSync('npx', ['tsx', script], {
      env: { ...process.env, TAPE_SIM_BROKER_JOURNAL: JOURNAL },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const [a, b, below] = (JSON.parse(out.trim().split('\n').at(-1) as string) as string[]).map(BigInt) as [
      bigint,
      bigint,
      bigint,
    ];
    // The trigger's line: the type (2 now), its stop price and no stop change pending.
    expect(readFileSync(JOURNAL, 'utf8')).toMatch(
      new RegExp(`^U ${below} 0 .* =stop%0020triggered 2 31 0$`, 'm'),
    );

    const c = (await connectSimulator({ routing: true })).connector;
    connector = c;
    const listed = new Map(c.enumerateOrders(ACCOUNT).map((o) => [o.localOrderId, o]));
    expect(listed.get(a)).toMatchObject({
      type: OrderType.stopLimit,
      status: 0,
      stopPrice: 38.6,
      price: 38.7,
    });
    expect(listed.get(b)).toMatchObject({
      type: OrderType.stopLimit,
      status: 5,
      stopPrice: 38.3,
      price: 38.2,
    });
    expect(listed.get(below)).toMatchObject({ type: OrderType.limit, status: 0, stopPrice: 31, price: 31 });
    // A trade through the waiting buy stop in this process triggers it.
    c.sim?.injectTrade({ ticker: 'PETR4', exchange: 'B', date: null, price: 38.6, qty: 100, tradeNumber: 2 });
    await collect(c, () => c.orderDetails(a).type === OrderType.limit, 'the buy stop triggered');
    expect(c.orderDetails(b).type).toBe(OrderType.stopLimit);
  });
});
