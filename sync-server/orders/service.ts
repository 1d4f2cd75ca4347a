import type { ProfitConnector } from '../../native/profitdll.ts';
import type { Config } from '../config.ts';
import type { NewDeadLetter } from '../deadLetters/queue.ts';
import type { Logger } from '../log.ts';
import type { Instrument } from '../shared/instruments.ts';
import { type BracketEvents, type BracketRepository, Brackets } from './brackets.ts';
import { OrderManager } from './manager.ts';
import type { OrderRow } from './model.ts';
import type { MarketLookup, OrderEvents, OrderRepository } from './ports.ts';
import { invalidOrderLetter, ProfitDllAdapter } from './profitDllAdapter.ts';
import { riskConfig } from './risk.ts';
import { bracketJson, orderJson, positionJson } from './wire.ts';

/**
 * Where the DLL's order updates come from: its order callback records the order's local id in
 * the capture ring, the one ring of every DLL callback, and the market feed's drain hands each
 * id here, on the JS thread (the manager reads the order later, never inside the callback).
 */
export interface OrderAnnouncements {
  onOrderUpdate(localOrderId: bigint): void;
  /** The DLL's routing state changed (TStateCallback ROUTING; 5: broker connected). */
  routingChanged(state: number): void;
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
  readonly store: OrderRepository &
    AccountOfUser & { riskConfig(accountId: string): Promise<unknown | undefined> };
  /** Where OCO brackets are stored (store/brackets.ts). */
  readonly brackets: BracketRepository;
  /** The binding: orders go out through it (`TAPE_ROUTING`, `PROFITDLL_ROUTING_PASSWORD`). */
  readonly dll: ProfitConnector;
  readonly profitDll: Pick<Config['profitDll'], 'routing' | 'routingPassword'>;
  readonly market: OrderMarket;
  /** Told every order event after the account's sockets (the users' order alerts). */
  readonly alerts?: { order(o: OrderRow): void };
  readonly deadLetters: { add(letter: NewDeadLetter): void };
  readonly log: Logger;
}

export interface Orders {
  /** Undefined when routing is off (TAPE_ROUTING=off). */
  readonly manager: OrderManager | undefined;
  /** OCO brackets over the manager; undefined with routing off. */
  readonly brackets: Brackets | undefined;
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
    position: (account, ticker, p, day, broker) => {
      const inst = market.instruments.get(ticker);
      if (inst)
        market.toAccount(
          account,
          JSON.stringify({
            type: 'position',
            account,
            position: positionJson(ticker, p, inst, market.lastPrice(ticker), broker),
            day,
          }),
        );
    },
  };
}

/** Bracket changes as pushes to the account's /ws sessions. */
export const bracketPushes = (market: Pick<OrderMarket, 'toAccount'>): BracketEvents => ({
  bracket: (b) => market.toAccount(b.accountId, JSON.stringify({ type: 'bracket', bracket: bracketJson(b) })),
});

/** Orders: the store, and with routing on the DLL adapter and the manager fed by the market. */
export function startOrders(opts: OrdersOptions): Orders {
  const { market, deadLetters, log } = opts;
  const { store } = opts;
  const pushes = accountPushes(market);
  let brackets: Brackets | undefined;
  // Every order event and position reaches the account's sockets, and the brackets after them.
  const events: OrderEvents = {
    order: (o) => {
      pushes.order(o);
      brackets?.onOrder(o);
      try {
        opts.alerts?.order(o);
      } catch (err) {
        // The order's own path goes on whatever its alerts do.
        log.error({ err: (err as Error).message, order: o.id }, 'order alerts failed');
      }
    },
    position: (account, ticker, p, day, broker) => {
      pushes.position(account, ticker, p, day, broker);
      brackets?.onPosition(account, ticker);
    },
  };
  const manager = opts.profitDll.routing
    ? new OrderManager(
        store,
        new ProfitDllAdapter(opts.dll, opts.profitDll.routingPassword, (err) =>
          deadLetters.add(invalidOrderLetter(err)),
        ),
        market,
        events,
        (l) => deadLetters.add(l),
        log,
        market.instruments,
      )
    : undefined;
  if (manager)
    brackets = new Brackets(
      manager,
      store,
      opts.brackets,
      bracketPushes(market),
      (account) => riskConfig(store, account),
      log,
    );
  market.serveOrders({ accounts: store, announcements: manager });
  return {
    manager,
    brackets,
    async reconcile(before) {
      if (!manager) return;
      await before?.();
      const r = await manager.reconcile();
      // Orders are taken from here on; the brackets resolve against the reconciled legs at once
      // (a leg filled during the outage cancels or cuts the other).
      const open = await brackets?.resume();
      log.info({ ...r, brackets: open }, 'orders reconciled with the DLL');
    },
    async stop() {
      await manager?.stop();
    },
  };
}
