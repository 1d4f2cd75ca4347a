import { afterEach, describe, expect, it } from 'vitest';
import { defaultLibraryPaths, ProfitConnector } from './profitdll.ts';
import type { RawEvent } from './records.ts';
import { brokerSessions, collect, dllCode, simOf, sleep } from './testkit.ts';
import type { AccountRef, SendOrderRequest } from './types.ts';

// SimSetRoutingState: the DLL's routing connection to the broker dropping and coming back, through
// the real binding and the real simulator library. While it is down the DLL refuses order requests
// and hears nothing from the broker; the broker's orders and positions still move, and only a read
// after the connection is back shows them (what OrderManager.routingChanged does).

const ACCOUNT: AccountRef = { brokerId: 1982, accountId: 'SIM-0001' };
const PASSWORD = 'routing-secret';
const ROUTING = 1;
const BROKER_DISCONNECTED = 3;
const BROKER_CONNECTED = 5;
const sessions = brokerSessions();
afterEach(() => sessions.release());

const petr = (o: Partial<SendOrderRequest> = {}): SendOrderRequest => ({
  account: ACCOUNT,
  password: PASSWORD,
  ticker: 'PETR4',
  exchange: 'B',
  side: 'buy',
  type: 'limit',
  price: 38.5,
  qty: 300,
  ...o,
});

const routingStates = (events: RawEvent[]) =>
  events.flatMap((e) => (e.kind === 'state' && e.connType === ROUTING ? [e.result] : []));
const announcedIds = (events: RawEvent[]) =>
  events.flatMap((e) => (e.kind === 'order' ? [e.localOrderId] : []));

/** Drains into `into` until the ROUTING states seen there end with `result`. */
const untilRouting = (c: ProfitConnector, into: RawEvent[], result: number) =>
  collect(
    c,
    (ev) => {
      into.push(...ev.splice(0));
      return routingStates(into).at(-1) === result;
    },
    `routing state ${result}`,
  );

/** Drains into `into` until the order is announced with a status `done` accepts. */
const untilAnnounced = (c: ProfitConnector, into: RawEvent[], id: bigint, done: (s: number) => boolean) =>
  collect(
    c,
    (ev) => {
      into.push(...ev.splice(0));
      return announcedIds(into).includes(id) && done(c.orderDetails(id).status);
    },
    `order ${id} announced`,
  );

/** Drains into `into` for `ms`: what the connector thread sends meanwhile (it steps every ~1 ms). */
async function drainFor(c: ProfitConnector, into: RawEvent[], ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    into.push(...c.drain());
    await sleep(2);
  }
  into.push(...c.drain());
}

describe('the routing connection to the broker in the simulator (SimSetRoutingState)', () => {
  // Catches a state reported with the wrong type or result, out of order, or not at all.
  it('reports each routing state through TStateCallback, in order: down, then up', async () => {
    const c = await sessions.connect();
    const events: RawEvent[] = [];
    simOf(c).setRoutingState(BROKER_DISCONNECTED);
    simOf(c).setRoutingState(4);
    simOf(c).setRoutingState(BROKER_CONNECTED);
    await untilRouting(c, events, BROKER_CONNECTED);
    expect(routingStates(events)).toEqual([BROKER_DISCONNECTED, 4, BROKER_CONNECTED]);
    // No other state came with them: the login, market data and activation states stand.
    expect(events.filter((e) => e.kind === 'state')).toHaveLength(3);
  });

  // Catches a control that accepts states the DLL never reports, or acts without a routing session.
  it('refuses a state outside 0..5, and any state before a routing login, with named codes', async () => {
    const bare = ProfitConnector.open(defaultLibraryPaths());
    expect(dllCode(() => simOf(bare).setRoutingState(BROKER_DISCONNECTED))).toBe('NL_NOT_INITIALIZED');
    const market = await sessions.connect({ routing: false });
    expect(dllCode(() => simOf(market).setRoutingState(BROKER_DISCONNECTED))).toBe('NL_MARKET_ONLY');
    sessions.release();
    const c = await sessions.connect();
    expect(dllCode(() => simOf(c).setRoutingState(6))).toBe('NL_INVALID_ARGS');
    expect(dllCode(() => simOf(c).setRoutingState(-1))).toBe('NL_INVALID_ARGS');
    expect(() => simOf(c).setRoutingState(Number.NaN)).toThrow(RangeError);
    const after: RawEvent[] = [];
    await drainFor(c, after, 30);
    expect(routingStates(after)).toEqual([]); // a refused state is not reported either
  });

  // Catches requests that still reach the broker while it is unreachable, announcements of what
  // happened meanwhile (during or replayed after), and a broker that stopped moving while down.
  it('while down refuses orders and announces nothing; back up, re-reads show what happened, new orders flow', async () => {
    const c = await sessions.connect();
    simOf(c).setOrderMode('hold');
    const events: RawEvent[] = [];
    const resting = c.sendOrder(petr());
    await untilAnnounced(c, events, resting, (s) => s === 0);

    simOf(c).setRoutingState(BROKER_DISCONNECTED);
    await untilRouting(c, events, BROKER_DISCONNECTED);
    const callbacksAtDrop = simOf(c).orderStats().callbacks;
    expect(dllCode(() => c.sendOrder(petr()))).toBe('NL_WAITING_SERVER');
    expect(dllCode(() => c.changeOrder(ACCOUNT, resting, 38.4, 300, PASSWORD))).toBe('NL_WAITING_SERVER');
    expect(dllCode(() => c.cancelOrder(ACCOUNT, resting, PASSWORD))).toBe('NL_WAITING_SERVER');
    expect(dllCode(() => c.cancelAllOrders(ACCOUNT, PASSWORD))).toBe('NL_WAITING_SERVER');
    expect(simOf(c).orderStats().sent).toBe(1);

    // The broker goes on: a trade in another terminal, a fill of the resting order.
    const external = simOf(c).externalTrade(ACCOUNT, 'WDOZ25', 'F', 'sell', 3, 5401.5);
    simOf(c).fillOrder(resting, 100, 38.5);
    const sinceDrop: RawEvent[] = [];
    await drainFor(c, sinceDrop, 100);
    expect(announcedIds(sinceDrop)).toEqual([]);

    simOf(c).setRoutingState(BROKER_CONNECTED);
    await untilRouting(c, sinceDrop, BROKER_CONNECTED);
    await drainFor(c, sinceDrop, 50);
    // Nothing missed is replayed: the client must read again.
    expect(announcedIds(sinceDrop)).toEqual([]);
    expect(simOf(c).orderStats().callbacks).toBe(callbacksAtDrop);
    expect(c.enumerateOrders(ACCOUNT).find((o) => o.localOrderId === external)).toMatchObject({
      clOrderId: '',
      ticker: 'WDOZ25',
      status: 2,
      tradedQty: 3,
    });
    expect(c.orderDetails(resting)).toMatchObject({ status: 1, tradedQty: 100, leavesQty: 200 });
    expect(c.position(ACCOUNT, 'WDOZ25', 'F')).toMatchObject({ qty: -3, averagePrice: 5401.5 });
    expect(c.position(ACCOUNT, 'PETR4', 'B')).toMatchObject({ qty: 100, averagePrice: 38.5 });

    // Back up: new requests are taken and new changes announced, the old order's included.
    const fresh = c.sendOrder(petr({ qty: 100 }));
    await untilAnnounced(c, sinceDrop, fresh, (s) => s === 0);
    simOf(c).fillOrder(resting, 200, 38.5);
    await untilAnnounced(c, sinceDrop, resting, (s) => s === 2);
    expect(announcedIds(sinceDrop)).not.toContain(external);
  });

  // Catches a drop that outlives its session: a new login starts with the broker connected.
  it('a new login starts with the broker connected again', async () => {
    const first = await sessions.connect();
    simOf(first).setRoutingState(BROKER_DISCONNECTED);
    await untilRouting(first, [], BROKER_DISCONNECTED);
    sessions.release();
    const c = await sessions.connect();
    simOf(c).setOrderMode('hold');
    const id = c.sendOrder(petr());
    await untilAnnounced(c, [], id, (s) => s === 0);
  });
});
