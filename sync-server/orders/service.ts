import type { ProfitConnector } from '../../native/profitdll.ts';
import type { Config } from '../config.ts';
import type { NewDeadLetter } from '../deadLetters/queue.ts';
import type { Logger } from '../log.ts';
import type { Instrument } from '../shared/instruments.ts';
import { OrderManager } from './manager.ts';
import type { MarketLookup, OrderEvents, OrderRepository } from './ports.ts';
import { invalidOrderLetter, ProfitDllAdapter } from './profitDllAdapter.ts';
import { orderJson, positionJson } from './wire.ts';

/**
 * Where the DLL's order updates come from: its order callback records the order's local id in
 * the capture ring, the one ring of every DLL callback, and the market feed's drain hands each
 * id here, on the JS thread (the manager reads the order later, never inside the callback).
 */
export interface OrderAnnouncements {
  onOrderUpdate(localOrderId: bigint): void;
}

/** Whose account a user trades (store/orders.ts answers it). */
export interface AccountOfUser {
  accountOf(userId: number): Promise<string | undefined>;
}

/** What orders take from the market (market/start.ts gives it). */
export interface OrderMarket extends MarketLookup {
  /** The configured tickers known to B3 rules: orders are taken for these only. */
  readonly instruments: ReadonlyMap<string, Instrument>;
  /** A message to the /ws sessions of the account's users (only theirs join its topic). */
  toAccount(accountId: string, message: string): void;
  /**
   * From now on each /ws session joins the pushes of its user's account (`accounts`), and the
   * DLL's order announcements, drained with the market's events, go to `announcements`.
   */
  serveOrders(orders: {
    readonly accounts: AccountOfUser;
    readonly announcements: OrderAnnouncements | undefined;
  }): void;
}

export interface OrdersOptions {
  /** Where orders are stored (store/orders.ts, built by server.ts). */
  readonly store: OrderRepository & AccountOfUser;
  /** The binding: orders go out through it (`TAPE_ROUTING`, `PROFITDLL_ROUTING_PASSWORD`). */
  readonly dll: ProfitConnector;
  readonly profitDll: Pick<Config['profitDll'], 'routing' | 'routingPassword'>;
  readonly market: OrderMarket;
  readonly deadLetters: { add(letter: NewDeadLetter): void };
  readonly log: Logger;
}

export interface Orders {
  /** Undefined when routing is off (TAPE_ROUTING=off). */
  readonly manager: OrderManager | undefined;
  /**
   * Once the market is connected: the DLL's own order list reconciled with ours, after which
   * orders are accepted. `before` is a test's hold (ServerHooks.beforeReconcile).
   */
  reconcile(before?: () => Promise<void>): Promise<void>;
  /** Shutdown, before the DLL is finalized. */
  stop(): Promise<void>;
}

/** The manager's events as pushes to the account's /ws sessions: the order, and the position. */
export function accountPushes(
  market: Pick<OrderMarket, 'instruments' | 'lastPrice' | 'toAccount'>,
): OrderEvents {
  return {
    order: (o) => market.toAccount(o.accountId, JSON.stringify({ type: 'order', order: orderJson(o) })),
    position: (account, ticker, p, day) => {
      const inst = market.instruments.get(ticker);
      if (inst)
        market.toAccount(
          account,
          JSON.stringify({
            type: 'position',
            account,
            position: positionJson(ticker, p, inst, market.lastPrice(ticker)),
            day,
          }),
        );
    },
  };
}

/** Orders: the store, and with routing on the DLL adapter and the manager fed by the market. */
export function startOrders(opts: OrdersOptions): Orders {
  const { market, deadLetters, log } = opts;
  const { store } = opts;
  const manager = opts.profitDll.routing
    ? new OrderManager(
        store,
        new ProfitDllAdapter(opts.dll, opts.profitDll.routingPassword, (err) =>
          deadLetters.add(invalidOrderLetter(err)),
        ),
        market,
        accountPushes(market),
        (l) => deadLetters.add(l),
        log,
        market.instruments,
      )
    : undefined;
  market.serveOrders({ accounts: store, announcements: manager });
  return {
    manager,
    async reconcile(before) {
      if (!manager) return;
      await before?.();
      const r = await manager.reconcile();
      log.info(r, 'orders reconciled with the DLL');
    },
    async stop() {
      await manager?.stop();
    },
  };
}
