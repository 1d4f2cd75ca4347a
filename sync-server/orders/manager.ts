import { createHash } from 'node:crypto';
import { jsonSafe, type NewDeadLetter } from '../deadLetters/queue.ts';
import type { Logger } from '../log.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import { BROKER_CONNECTED } from '../shared/market.ts';
import type { CostSchedule, DayPnl, OrderState, Position, RiskConfig } from '../shared/orders.ts';
import { fullBucket, type TokenBucket } from '../tokenBucket.ts';
import { AccountBook } from './accountBook.ts';
import { UpdateLanes } from './lanes.ts';
import { OrderError, type OrderRow } from './model.ts';
import {
  type MarketLookup,
  type OrderEvents,
  type OrderRepository,
  type OrderVenue,
  type VenueAccount,
  type VenuePosition,
  VenueRefused,
} from './ports.ts';
import { averagePrice } from './positions.ts';
import {
  InvalidDllOrder,
  InvalidVenuePosition,
  invalidOrderLetter,
  invalidPositionLetter,
} from './profitDllAdapter.ts';
import { reconcileWorking } from './reconcile.ts';
import { isWorkingReport, type OrderReport, type ReportStatus } from './report.ts';
import { DEFAULT_RISK, type OrderRequest, orderRate, type RiskResult, riskCheck } from './risk.ts';
import { InvalidTransition, isTerminal, type OrderEvent, stopPhase, transition } from './state.ts';

// The order manager: write-ahead, idempotent submission through the risk engine to the venue,
// the venue's order reports driven through the transition table, fills folded into positions.
// Its ports are ports.ts; reconciliation, the update lanes and the account book have files of
// their own.

// A report's status → the lifecycle event it brings (null: nothing new; undefined: unknown).
const STATUS_EVENT: Readonly<Record<ReportStatus, OrderEvent | null | undefined>> = {
  submitted: null,
  accepted: 'accepted',
  partially_filled: 'partial_fill',
  filled: 'fill',
  pending_cancel: 'cancel_requested',
  canceled: 'canceled',
  pending_replace: 'replace_requested',
  replaced: 'replaced',
  rejected: 'rejected',
  expired: 'expired',
  unknown: undefined,
};

/**
 * A difference from the broker found right after a fill is read again this much later: the
 * broker's position can trail its own order report by a moment.
 */
const BROKER_REREAD_MS = 1_000;

/** The type of an order made outside Tape, as its report shows it. */
const externalType = (r: OrderReport) =>
  r.stopPrice !== null
    ? ('stop_limit' as const)
    : r.price === null
      ? ('market' as const)
      : ('limit' as const);

/** Submissions of one account in progress at once; past this a new one gets a 429. */
export const MAX_SUBMITS_IN_FLIGHT = 20;
/**
 * Venue order announcements not read yet; past this new orders get a 503 until the server
 * caught up, since the risk check would see stale fills and working orders.
 */
export const MAX_UPDATE_BACKLOG = 500;

export interface SubmitResult {
  readonly order: OrderRow;
  /** False when this clientOrderId was already known: nothing was sent again. */
  readonly created: boolean;
  readonly risk?: RiskResult;
}

/** What makes two requests under one clientOrderId the same order (orders.request_hash). */
export const requestHash = (r: OrderRequest) =>
  createHash('sha256')
    .update(
      JSON.stringify([
        r.ticker,
        r.side,
        r.type,
        r.qty,
        r.price ?? null,
        // Only a stop-limit hashes its stop: the hashes of the other orders stay what they were.
        ...(r.type === 'stop_limit' ? [r.stopPrice ?? null] : []),
      ]),
    )
    .digest('hex');

export class OrderManager {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly book: AccountBook;
  /** Submissions in progress, by account. */
  private readonly submitting = new Map<string, Set<Promise<SubmitResult>>>();
  /**
   * Accounts whose kill switch was turned on through this manager: the check right before each
   * venue call refuses them, whatever config the request was read with.
   */
  private readonly halted = new Set<string>();
  private readonly brokers = new Map<string, number>();
  /**
   * The stored row of each order this server sent or found working, by local id, until it
   * closes: a venue update starts from it without a read, and its account picks the update
   * lane. A row whose localOrderId is still null is one whose id is being stored.
   */
  private readonly rowOf = new Map<string, OrderRow>();
  private readonly lanes: UpdateLanes;
  /** Who waits for an order to close (whenClosed), by order id. */
  private readonly closeWaiters = new Map<number, Set<(id: number) => void>>();
  /** `account ticker` pairs whose broker position differs from Tape's count, as last recorded. */
  private readonly differs = new Set<string>();
  /** The broker's last refusal to give each account's positions: said once, not on every fill. */
  private readonly positionRefusals = new Map<string, string>();
  /** Accounts with a re-read of the broker's positions due (BROKER_REREAD_MS). */
  private readonly rereads = new Map<string, ReturnType<typeof setTimeout>>();
  /**
   * The routing connection to the broker: `down` once it was lost, `resyncing` while orders and
   * positions are read again after it came back; orders are refused until it is `up` again.
   */
  private routing: 'up' | 'down' | 'resyncing' = 'up';
  /** Set by stop(): the venue is going away. */
  private stopped = false;

  constructor(
    private readonly store: OrderRepository,
    private readonly venue: OrderVenue,
    private readonly market: MarketLookup,
    private readonly events: OrderEvents,
    private readonly deadLetter: (l: NewDeadLetter) => void,
    private readonly log: Logger,
    private readonly instruments: ReadonlyMap<string, Instrument>,
  ) {
    this.book = new AccountBook(instruments);
    this.lanes = new UpdateLanes({
      read: (id) => this.update(id),
      failed: (id, err) => this.updateFailed(id, err),
      accountOf: (key) => this.rowOf.get(key)?.accountId,
      deadLetter,
    });
  }

  get isReady(): boolean {
    return this.lanes.isReleased;
  }

  /**
   * Start-up: positions from stored fills, then every working order reconciled with the
   * venue's own list before new orders are accepted (reconcile.ts). An order written but never
   * acknowledged is looked for in the venue's list (it may have taken it just before a crash)
   * and adopted when found; otherwise it is closed as not sent. Nothing is ever sent again.
   */
  async reconcile(): Promise<{
    checked: number;
    adopted: number;
    notSent: number;
    gone: number;
    external: number;
  }> {
    for (const c of await this.store.costSchedules()) this.book.costs.set(c.accountId, c.from, c.schedule);
    // Tape's own count: the fills of orders made outside Tape are in the broker's figure.
    for (const f of await this.store.fills())
      if (!f.external)
        this.foldFill(
          f.accountId,
          f.ticker,
          { orderId: f.orderId, side: f.side, qty: f.qty, price: f.price },
          f.at,
        );
    const counts = await reconcileWorking(this.store, this.venue, (id) => this.accountRef(id), {
      sync: async (o, report) => {
        this.rowOf.set((o.localOrderId as bigint).toString(), o);
        await this.sync(o, report);
      },
      gone: async (o) => {
        this.rowOf.set((o.localOrderId as bigint).toString(), o);
        await this.apply(o, 'expired', {
          detail: { message: 'not in the DLL order list at start-up (expired at the broker)' },
        });
      },
      notSent: async (o) => {
        await this.apply(o, 'rejected', {
          rejectReason: 'not_sent',
          detail: {
            message:
              'The server stopped before the broker took this order, and an order is never resent after a restart: enter it again (a new order id) if it is still wanted',
          },
        });
      },
      adopt: async (o, found) => {
        this.rowOf.set(found.localOrderId.toString(), o);
        const adopted = await this.store.setLocalId(o.id, found.localOrderId);
        this.remember(adopted);
        await this.sync(adopted, found);
      },
    });
    // Orders made on the account outside Tape (Profit itself, another terminal), and the
    // broker's positions, which include their trades.
    let external = 0;
    for (const accountId of await this.store.accountIds()) {
      external += await this.adoptListed(accountId);
      await this.readBrokerOf(accountId);
    }
    for (const o of await this.store.allWorking()) this.book.track(o);
    // Read now, in their order: an order adopted above is known; one still unknown is lettered.
    this.lanes.release();
    return { ...counts, external };
  }

  /**
   * The DLL's routing state (TStateCallback ROUTING): 5 is the broker connected. Losing it stops
   * new orders; when it is back, orders and positions are read again (resync) before any is taken.
   */
  routingChanged(state: number): void {
    if (!this.isReady) return; // start-up reconciliation reads everything anyway
    if (state !== BROKER_CONNECTED) {
      if (this.routing === 'up') this.log.warn({ state }, 'routing to the broker lost: orders paused');
      this.routing = 'down';
      return;
    }
    if (this.routing !== 'down') return;
    this.routing = 'resyncing';
    this.resync().then(
      (r) => {
        this.routing = 'up';
        this.log.info(r, 'routing back: orders and positions read again from the broker');
      },
      (err: Error) => {
        this.routing = 'up';
        this.log.error({ err: err.message }, 'orders not read again after the routing came back');
      },
    );
  }

  /** Whether orders are taken now: reconciled, and the broker connected and read again. */
  get routingState(): 'up' | 'down' | 'resyncing' {
    return this.routing;
  }

  /**
   * After the routing connection came back: the orders and positions of every account read again
   * from the broker (what happened meanwhile, in Tape or outside it). Resolves once done.
   */
  async resync(): Promise<{ orders: number; external: number }> {
    let orders = 0;
    let external = 0;
    for (const accountId of await this.store.accountIds()) {
      external += await this.adoptListed(accountId);
      for (const o of await this.store.list(accountId, { working: true, limit: 10_000 }))
        if (o.localOrderId !== null) {
          this.onOrderUpdate(o.localOrderId);
          orders++;
        }
      await this.readBrokerOf(accountId);
    }
    await this.settled();
    return { orders, external };
  }

  /** The venue's orders of the account no row carries: made outside Tape, adopted as external. */
  private async adoptListed(accountId: string): Promise<number> {
    let listed: OrderReport[];
    try {
      listed = this.venue.enumerate(await this.accountRef(accountId));
    } catch (err) {
      if (!(err instanceof VenueRefused)) throw err;
      this.log.warn({ accountId, err: err.message }, 'the broker did not list the account orders');
      return 0;
    }
    const known = new Set(
      (await this.store.knownLocalIds(listed.map((d) => d.localOrderId))).map((id) => id.toString()),
    );
    let n = 0;
    for (const report of listed)
      if (!known.has(report.localOrderId.toString()) && !this.rowOf.has(report.localOrderId.toString()))
        if (await this.adoptExternal(report)) n++;
    return n;
  }

  /**
   * An order on one of Tape's accounts that Tape did not send: stored as external (its client id
   * `ext-<local id>`) and brought to what the broker reports, like any order. Undefined when it
   * cannot be kept (an account or instrument Tape does not have): the caller letters it.
   */
  private async adoptExternal(report: OrderReport): Promise<OrderRow | undefined> {
    const inst = this.instruments.get(report.ticker);
    if (!inst || !(await this.accountRef(report.accountId).catch(() => undefined))) return undefined;
    const type = externalType(report);
    const { order } = await this.store.insertPending({
      accountId: report.accountId,
      userId: null,
      origin: 'external',
      clientOrderId: `ext-${report.localOrderId}`,
      requestHash: 'external',
      ticker: report.ticker,
      exchange: inst.exchange,
      side: report.side,
      type,
      qty: report.qty,
      price: type === 'market' ? null : report.price,
      stopPrice: type === 'stop_limit' ? report.stopPrice : null,
    });
    const adopted =
      order.localOrderId === null ? await this.store.setLocalId(order.id, report.localOrderId) : order;
    this.remember(adopted);
    this.book.track(adopted);
    this.log.info(
      { orderId: adopted.id, localOrderId: report.localOrderId.toString(), accountId: report.accountId },
      'order made outside Tape adopted',
    );
    this.events.order(adopted);
    await this.sync(adopted, report);
    return adopted;
  }

  /**
   * The account's positions read from the broker (synchronous: the DLL answers from its own
   * copy). Each ticker whose figure changed is pushed; a difference from Tape's own count, or
   * its end, is recorded. A refusal or malformed data keeps the last figures.
   */
  private async readBrokerOf(accountId: string): Promise<void> {
    await this.accountRef(accountId);
    this.readBroker(accountId);
  }

  /** As readBrokerOf, for an account whose broker is known (it has orders here). */
  private readBroker(accountId: string): void {
    const account = this.brokers.get(accountId);
    if (account === undefined || this.stopped) return;
    let listed: VenuePosition[];
    try {
      listed = this.venue.positions({ brokerId: account, accountId });
    } catch (err) {
      if (err instanceof InvalidVenuePosition) this.deadLetter(invalidPositionLetter(err));
      else if (err instanceof VenueRefused) {
        if (this.positionRefusals.get(accountId) !== err.message)
          this.log.warn({ accountId, err: err.message }, 'the broker did not give the positions');
        this.positionRefusals.set(accountId, err.message);
      } else throw err;
      return;
    }
    this.positionRefusals.delete(accountId);
    for (const ticker of this.book.setBroker(accountId, listed))
      this.pushPosition(accountId, ticker, this.book.position(accountId, ticker));
    for (const ticker of this.book.tickersOf(accountId)) this.compare(accountId, ticker);
  }

  /** Records when the broker's position starts or stops differing from Tape's count. */
  private compare(accountId: string, ticker: string): void {
    const broker = this.book.brokerPosition(accountId, ticker);
    const inst = this.instruments.get(ticker);
    if (!broker || !inst) return;
    const own = this.book.position(accountId, ticker);
    const key = `${accountId} ${ticker}`;
    const differs = broker.qty !== own.qty;
    if (differs === this.differs.has(key)) return;
    if (differs) this.differs.add(key);
    else this.differs.delete(key);
    const tape = { qty: own.qty, averagePrice: averagePrice(own, inst) ?? null };
    const theirs = { qty: broker.qty, averagePrice: broker.qty === 0 ? null : broker.averagePrice };
    this.log.info(
      { accountId, ticker, tape, broker: theirs },
      differs ? 'position differs from the broker' : 'position agrees with the broker again',
    );
    this.store
      .recordPositionDifference(accountId, ticker, tape, theirs)
      .catch((err: Error) =>
        this.log.error({ accountId, ticker, err: err.message }, 'position difference not recorded'),
      );
  }

  /** A read of the broker's positions a moment from now (once per account). */
  private rereadBroker(accountId: string): void {
    if (this.rereads.has(accountId)) return;
    const timer = setTimeout(() => {
      this.rereads.delete(accountId);
      this.readBroker(accountId);
    }, BROKER_REREAD_MS);
    timer.unref?.();
    this.rereads.set(accountId, timer);
  }

  /**
   * Submits an order: idempotent on (account, clientOrderId), write-ahead, risk-checked. The one
   * way in for every order, REST's and the server's own (a stop-limit included).
   */
  submit(
    accountId: string,
    userId: number,
    req: OrderRequest,
    cfg: RiskConfig = DEFAULT_RISK,
  ): Promise<SubmitResult> {
    if (!this.isReady || this.routing === 'resyncing')
      throw new OrderError(
        503,
        'reconciling',
        'Orders are being reconciled with the broker: try again in a moment',
      );
    if (this.routing === 'down')
      throw new OrderError(
        503,
        'broker_disconnected',
        'The connection to the broker is down: orders wait until it is back and the account has been read again',
        2,
      );
    const backlog = this.updateBacklog;
    if (backlog > MAX_UPDATE_BACKLOG)
      throw new OrderError(
        503,
        'behind_broker',
        `The server is ${backlog} order updates behind the broker, so positions and limits may be stale: new orders wait until it caught up; try again in a moment`,
        1,
      );
    const inFlight = this.submitting.get(accountId) ?? new Set<Promise<SubmitResult>>();
    if (inFlight.size >= MAX_SUBMITS_IN_FLIGHT)
      throw new OrderError(
        429,
        'too_many_pending',
        `${inFlight.size} orders of this account are still being sent; this one was not: try again in a moment`,
        1,
      );
    const run: Promise<SubmitResult> = this.submitNow(accountId, userId, req, cfg).finally(() => {
      inFlight.delete(run);
      if (inFlight.size === 0 && this.submitting.get(accountId) === inFlight)
        this.submitting.delete(accountId);
    });
    inFlight.add(run);
    this.submitting.set(accountId, inFlight);
    return run;
  }

  /**
   * The kill switch. On: from this call on no order or change of the account reaches the DLL
   * (the check right before each DLL call sees it, and nothing awaits between the two); resolves
   * once the account's submissions already under way have settled, so that every order the DLL
   * took before the switch is stored with its local id for the cancel that follows. Off: orders
   * go through again (call it once the switch is stored off).
   */
  async setKillSwitch(accountId: string, on: boolean): Promise<void> {
    if (!on) {
      this.halted.delete(accountId);
      return;
    }
    this.halted.add(accountId);
    await Promise.allSettled([...(this.submitting.get(accountId) ?? [])]);
  }

  /** Venue order announcements not read yet, over every account. */
  get updateBacklog(): number {
    return this.lanes.backlog;
  }

  private async submitNow(
    accountId: string,
    userId: number,
    req: OrderRequest,
    cfg: RiskConfig,
  ): Promise<SubmitResult> {
    const inst = this.instruments.get(req.ticker);
    const hash = requestHash(req);
    const { order, created } = await this.store.insertPending({
      accountId,
      userId,
      clientOrderId: req.clientOrderId,
      requestHash: hash,
      ticker: req.ticker,
      exchange: inst?.exchange ?? '?',
      side: req.side,
      type: req.type,
      qty: req.qty,
      price: req.type === 'market' ? null : (req.price ?? null),
      stopPrice: req.type === 'stop_limit' ? (req.stopPrice ?? null) : null,
    });
    if (!created) {
      if (order.requestHash !== hash) {
        throw new OrderError(
          409,
          'duplicate_client_order_id',
          `Order id ${req.clientOrderId} was already used with different details`,
        );
      }
      return { order, created: false };
    }
    const account = await this.accountRef(accountId);
    // From the check to the DLL call nothing awaits: the check counts every order of the account
    // that passed before it, and the next one counts this one.
    const risk = this.check(accountId, req, cfg, order.id);
    if (!risk.ok) {
      const rejected = await this.apply(order, 'rejected', {
        rejectReason: risk.reason,
        detail: { message: risk.message },
      });
      return { order: rejected ?? order, created: true, risk };
    }
    this.book.track(order);
    let localOrderId: bigint;
    try {
      localOrderId = this.venue.send({
        account,
        ticker: req.ticker,
        exchange: (inst as Instrument).exchange,
        side: req.side,
        type: req.type,
        price: req.price,
        stopPrice: req.stopPrice,
        qty: req.qty,
      });
    } catch (err) {
      // Only the venue's own refusal proves it did not take the order; anything else leaves the
      // row pending for reconciliation rather than guessing.
      if (!(err instanceof VenueRefused)) throw err;
      const rejected = await this.apply(order, 'rejected', {
        rejectReason: 'broker_refused',
        detail: { message: err.message, code: err.code },
      });
      return { order: rejected ?? order, created: true, risk };
    }
    const key = localOrderId.toString();
    this.rowOf.set(key, order);
    let sent: OrderRow;
    try {
      sent = await this.store.setLocalId(order.id, localOrderId);
    } catch (err) {
      // Left pending without its id: start-up reconciliation finds it in the DLL's list.
      this.rowOf.delete(key);
      throw err;
    }
    this.remember(sent);
    this.events.order(sent);
    // Updates the DLL announced while the id was being stored were skipped: read it once now.
    this.onOrderUpdate(localOrderId);
    return { order: sent, created: true, risk };
  }

  /** Every pre-trade check for a request of the account; the rate bucket is spent when it passes. */
  private check(accountId: string, req: OrderRequest, cfg: RiskConfig, self: number): RiskResult {
    const inst = this.instruments.get(req.ticker);
    const now = Date.now();
    const risk = riskCheck(this.halted.has(accountId) ? { ...cfg, killSwitch: true } : cfg, req, {
      instrument: inst && instrumentFor(req.ticker, inst.exchange),
      tradable: this.market.tradable(req.ticker),
      lastPrice: this.market.lastPrice(req.ticker),
      priceLimits: this.market.priceLimits(req.ticker),
      positionQty: this.positionQty(accountId, req.ticker),
      ...this.book.exposure(accountId, req.ticker, self),
      dayNetCents: this.dayNet(accountId),
      duplicateClientOrderId: false,
      bucket: this.buckets.get(accountId) ?? fullBucket(orderRate(cfg), now),
      now,
    });
    if (risk.ok) this.buckets.set(accountId, risk.bucket);
    return risk;
  }

  private async accountRef(accountId: string): Promise<VenueAccount> {
    let brokerId = this.brokers.get(accountId);
    if (brokerId === undefined) {
      brokerId = await this.store.brokerOf(accountId);
      if (brokerId === undefined)
        throw new OrderError(422, 'unknown_account', `No trading account ${accountId}`);
      this.brokers.set(accountId, brokerId);
    }
    return { brokerId, accountId };
  }

  private sent(order: OrderRow): bigint {
    if (isTerminal(order.state))
      throw new OrderError(409, 'order_closed', `Order ${order.id} is already ${order.state}`);
    if (order.localOrderId === null)
      throw new OrderError(409, 'not_sent', `Order ${order.id} has not reached the broker`);
    return order.localOrderId;
  }

  /** The venue's refusal of a request, as a 409 with its named code. */
  private route(f: () => void): void {
    try {
      f();
    } catch (err) {
      if (!(err instanceof VenueRefused)) throw err;
      throw new OrderError(409, 'broker_refused', err.message);
    }
  }

  async cancel(order: OrderRow): Promise<void> {
    const id = this.sent(order);
    const account = await this.accountRef(order.accountId);
    this.route(() => this.venue.cancel(account, id));
  }

  /**
   * A new price and/or quantity (and for a stop-limit still waiting, a new stop price): checked
   * like a new order, then sent as a change.
   */
  async modify(
    order: OrderRow,
    patch: { price?: number; qty?: number; stopPrice?: number },
    cfg: RiskConfig,
  ): Promise<RiskResult> {
    const id = this.sent(order);
    if (order.type === 'market')
      throw new OrderError(409, 'market_order', 'A market order has no price or quantity to change');
    const waiting = stopPhase(order) === 'waiting';
    if (patch.stopPrice !== undefined && !waiting)
      throw new OrderError(
        409,
        order.type === 'stop_limit' ? 'stop_triggered' : 'not_a_stop',
        order.type === 'stop_limit'
          ? 'The stop has triggered: the order works as a limit order now, only its price and quantity change'
          : 'Only a stop-limit order has a stop price',
      );
    const qty = patch.qty ?? order.qty;
    const price = patch.price ?? (order.price as number);
    const stopPrice = waiting ? (patch.stopPrice ?? (order.stopPrice as number)) : undefined;
    if (qty <= order.filledQty)
      throw new OrderError(
        422,
        'bad_quantity',
        `New quantity must be above the ${order.filledQty} already filled`,
      );
    // The remaining quantity is what the change puts at risk; a waiting stop is checked as one.
    const req: OrderRequest = {
      clientOrderId: order.clientOrderId,
      ticker: order.ticker,
      side: order.side,
      type: waiting ? 'stop_limit' : 'limit',
      qty: qty - order.filledQty,
      price,
      stopPrice,
    };
    const account = await this.accountRef(order.accountId);
    // From the check to the DLL call nothing awaits (the kill switch included).
    const risk = this.check(order.accountId, req, cfg, order.id);
    if (!risk.ok) return risk;
    const inst = this.instruments.get(order.ticker) as Instrument;
    if (qty % inst.lotSize !== 0)
      throw new OrderError(422, 'bad_quantity', `New quantity must be a multiple of ${inst.lotSize}`);
    this.route(() => this.venue.change(account, id, price, qty, stopPrice));
    return risk;
  }

  /**
   * Shutdown, before the DLL is finalized: the update being applied finishes; those still
   * queued are not read (the DLL is going away). Start-up reconciliation syncs every working
   * order with the DLL, so none of them is lost.
   */
  async stop(): Promise<void> {
    // No read of the broker's positions after this: the DLL is about to be finalized (and, in a
    // test process, logged in again by the next server, whose account this manager is not).
    this.stopped = true;
    for (const timer of this.rereads.values()) clearTimeout(timer);
    this.rereads.clear();
    const skipped = await this.lanes.stop();
    if (skipped > 0)
      this.log.info({ updates: skipped }, 'order updates left to the next start-up reconciliation');
  }

  /** Cancels every working order of an account (kill switch, or the trader's "cancel all"). */
  async cancelAll(accountId: string): Promise<number> {
    const working = await this.store.list(accountId, { working: true, limit: 10_000 });
    const account = await this.accountRef(accountId);
    let n = 0;
    for (const o of working) {
      if (o.localOrderId === null || o.state === 'pending_cancel') continue;
      try {
        this.venue.cancel(account, o.localOrderId);
        n++;
      } catch (err) {
        // Filled or canceled meanwhile: its own update will say so; the others are still canceled.
        if (!(err instanceof VenueRefused)) throw err;
        this.log.warn({ orderId: o.id, err: err.message }, 'cancel refused by the DLL');
      }
    }
    return n;
  }

  /**
   * Resolves true once every one of these orders is closed (a terminal state applied here),
   * false after `timeoutMs`. An order that closed before the call is seen on the caller's next read.
   */
  whenClosed(orders: readonly OrderRow[], timeoutMs: number): Promise<boolean> {
    const pending = new Set(orders.filter((o) => !isTerminal(o.state)).map((o) => o.id));
    if (pending.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const ids = [...pending];
      const done = (closed: boolean) => {
        clearTimeout(timer);
        for (const id of ids) {
          const waiters = this.closeWaiters.get(id);
          waiters?.delete(wake);
          if (waiters?.size === 0) this.closeWaiters.delete(id);
        }
        resolve(closed);
      };
      const wake = (id: number) => {
        pending.delete(id);
        if (pending.size === 0) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      for (const id of ids) {
        const waiters = this.closeWaiters.get(id) ?? new Set();
        waiters.add(wake);
        this.closeWaiters.set(id, waiters);
      }
    });
  }

  /**
   * The venue announced a change of an order: read later, outside the callback, in the
   * account's update lane (lanes.ts), and applied.
   */
  onOrderUpdate(localOrderId: bigint): void {
    this.lanes.announce(localOrderId);
  }

  /** Resolves once no update is being read (every announcement read, or left at stop()). */
  settled(): Promise<void> {
    return this.lanes.settled();
  }

  private updateFailed(localOrderId: bigint, err: Error): void {
    this.log.error({ localOrderId: localOrderId.toString(), err: err.message }, 'order update failed');
    this.deadLetter(
      err instanceof InvalidDllOrder
        ? invalidOrderLetter(err)
        : {
            source: 'profitdll.order',
            reason: 'update_failed',
            detail: err.message,
            payload: { localOrderId: localOrderId.toString() },
          },
    );
  }

  private async update(localOrderId: bigint): Promise<void> {
    const key = localOrderId.toString();
    const dll = this.venue.details(localOrderId);
    const known = this.rowOf.get(key);
    // Ours, its id not stored yet: submit() reads it again once it is.
    if (known && known.localOrderId === null) return;
    const order = known ?? (await this.store.byLocalId(localOrderId));
    if (!order) {
      // Made on one of Tape's accounts outside Tape (Profit itself, another terminal): kept as
      // an external order. On an account or instrument Tape does not have: lettered.
      if (await this.adoptExternal(dll)) return;
      this.deadLetter({
        source: 'profitdll.order',
        reason: 'unknown_order',
        detail: `local id ${localOrderId}`,
        payload: jsonSafe(dll),
      });
      return;
    }
    if (!known) this.remember(order);
    await this.sync(order, dll);
  }

  /** Tape's own count of the position (its fills), with their P&L and costs. */
  position(accountId: string, ticker: string): Position {
    return this.book.position(accountId, ticker);
  }

  /** The quantity held: the broker's once read (it includes trades made outside Tape), else Tape's. */
  positionQty(accountId: string, ticker: string): number {
    return this.book.positionQty(accountId, ticker);
  }

  /** The broker's position at the last read; undefined before it was read. */
  brokerPosition(accountId: string, ticker: string): VenuePosition | undefined {
    return this.book.brokerPosition(accountId, ticker);
  }

  /** Every ticker the account holds or held today, by Tape's count or the broker's. */
  tickersOf(accountId: string): string[] {
    return this.book.tickersOf(accountId);
  }

  positionsOf(accountId: string): Map<string, Position> {
    return this.book.positionsOf(accountId);
  }

  /** Today's realized P&L less today's costs: what the daily loss limit counts. */
  private dayNet(accountId: string): number {
    const day = this.book.day(accountId);
    return day.realizedCents - day.costsCents;
  }

  /** Today's realized P&L and costs of the account. */
  day(accountId: string): DayPnl {
    return this.book.day(accountId);
  }

  /** A cost schedule stored for the account, in effect from `from` (ms): its fills from then on are charged by it. */
  setCostSchedule(accountId: string, from: number, schedule: CostSchedule): void {
    this.book.costs.set(accountId, from, schedule);
  }

  /** Brings the stored order to what the venue reports, one table transition at a time. */
  private async sync(order: OrderRow, dll: OrderReport): Promise<void> {
    let current: OrderRow = order;
    // A stop the venue says triggered, or that has fills (which only a triggered stop can have).
    if (stopPhase(current) === 'waiting' && (dll.stopTriggered || dll.filledQty > 0)) {
      const next = await this.apply(current, 'triggered', {
        triggered: true,
        detail: { stopPrice: current.stopPrice, message: dll.text || 'stop triggered' },
      });
      if (!next) return;
      current = next;
    }
    let replacedAbove = false;
    if (
      dll.qty !== current.qty &&
      dll.qty > 0 &&
      current.type !== 'market' &&
      (current.state === 'new' || current.state === 'partially_filled' || current.state === 'pending_replace')
    ) {
      // A change took effect, reported in the same read as later fills (or with no status of its
      // own): applied first, so that the fills are counted against the new quantity.
      if (current.state !== 'pending_replace') {
        const asked = await this.apply(current, 'replace_requested', {});
        if (!asked) return;
        current = asked;
      }
      const next = await this.apply(current, 'replaced', {
        qty: dll.qty,
        price: dll.price ?? undefined,
        stopPrice: current.type === 'stop_limit' ? (dll.stopPrice ?? undefined) : undefined,
      });
      if (!next) return;
      current = next;
      replacedAbove = true;
    }
    if (dll.filledQty > current.filledQty) {
      // New executions: the price of the new part follows from the two averages.
      const qty = dll.filledQty - current.filledQty;
      const price = (dll.avgPrice * dll.filledQty - (current.avgFillPrice ?? 0) * current.filledQty) / qty;
      const inst = this.instruments.get(current.ticker) as Instrument;
      const snapped = Math.round(price / inst.tickSize) * inst.tickSize;
      const event: OrderEvent = dll.filledQty >= current.qty ? 'fill' : 'partial_fill';
      const next = await this.apply(current, event, {
        filledQty: dll.filledQty,
        avgFillPrice: dll.avgPrice,
        fill: { qty, price: Number(snapped.toFixed(inst.priceDecimals)) },
      });
      if (!next) return;
      current = next;
    }
    const event = STATUS_EVENT[dll.status];
    if (event === undefined) {
      this.deadLetter({
        source: 'profitdll.order',
        reason: 'unknown_status',
        detail: `status ${dll.venueStatus}`,
        payload: jsonSafe(dll),
      });
      return;
    }
    const stillWorking = isWorkingReport(dll.status);
    if (stillWorking && current.state === 'pending_cancel') {
      await this.apply(current, 'cancel_rejected', { detail: { message: dll.text || 'cancel refused' } });
      return;
    }
    if (stillWorking && current.state === 'pending_replace') {
      await this.apply(current, 'replace_rejected', { detail: { message: dll.text || 'change refused' } });
      return;
    }
    if (event === null || event === 'partial_fill' || event === 'fill') return; // fills handled above
    if (event === 'accepted' && current.state !== 'pending_new') return; // a repeat of "new"
    if (event === 'cancel_requested' && current.state === 'pending_cancel') return;
    if (event === 'replace_requested' && current.state === 'pending_replace') return;
    if (event === 'replaced') {
      if (replacedAbove) return;
      if (current.state !== 'pending_replace') {
        // The change request and its result arrived in one read: both are recorded.
        const next = await this.apply(current, 'replace_requested', {});
        if (!next) return;
        current = next;
      }
      await this.apply(current, 'replaced', {
        qty: dll.qty,
        price: dll.price ?? undefined,
        stopPrice: current.type === 'stop_limit' ? (dll.stopPrice ?? undefined) : undefined,
      });
      return;
    }
    await this.apply(
      current,
      event,
      event === 'rejected'
        ? { rejectReason: 'broker_rejected', detail: { message: dll.text || 'Rejected by the broker' } }
        : {},
    );
  }

  /** One table transition, persisted with its event (and fill); invalid ones are dead-lettered. */
  private async apply(
    order: OrderRow,
    event: OrderEvent,
    patch: {
      filledQty?: number;
      avgFillPrice?: number;
      rejectReason?: string;
      detail?: Record<string, unknown>;
      fill?: { qty: number; price: number };
      qty?: number;
      price?: number;
      stopPrice?: number;
      triggered?: boolean;
    },
  ): Promise<OrderRow | undefined> {
    let to: OrderState;
    try {
      to = transition(order.state, event, patch.filledQty ?? order.filledQty, stopPhase(order));
    } catch (err) {
      if (!(err instanceof InvalidTransition)) throw err;
      this.log.warn({ orderId: order.id, from: order.state, event }, 'invalid order transition refused');
      this.deadLetter({
        source: 'orders.transition',
        reason: 'invalid_transition',
        detail: err.message,
        payload: { orderId: order.id, from: order.state, event, patch },
      });
      return undefined;
    }
    const next = await this.store.transition(order.id, {
      event,
      from: order.state,
      fromFilledQty: order.filledQty,
      to,
      ...patch,
    });
    if (!next) {
      // The row moved on under us: nothing was applied (a fill computed from the old row would
      // count twice). The order is read again, from the database and the DLL.
      const fresh = await this.store.byId(order.id);
      if (fresh) {
        this.book.track(fresh);
        this.remember(fresh);
        if (fresh.localOrderId !== null && !isTerminal(fresh.state)) this.onOrderUpdate(fresh.localOrderId);
      }
      return undefined;
    }
    this.book.track(next);
    this.remember(next);
    if (patch.fill) {
      // An order made outside Tape moves only the broker's figure, read next.
      if (next.origin === 'tape')
        this.foldFill(
          next.accountId,
          next.ticker,
          { orderId: next.id, side: next.side, ...patch.fill },
          new Date().toISOString(),
        );
      this.readBroker(next.accountId);
      if (this.differs.has(`${next.accountId} ${next.ticker}`)) this.rereadBroker(next.accountId);
    }
    this.events.order(next);
    // After the fill is folded: a flatten woken here reads the position it left.
    if (isTerminal(next.state)) for (const wake of [...(this.closeWaiters.get(next.id) ?? [])]) wake(next.id);
    return next;
  }

  /** Keeps the row a DLL update starts from in step with the stored one. */
  private remember(o: OrderRow): void {
    if (o.localOrderId === null) return;
    if (isTerminal(o.state)) this.rowOf.delete(o.localOrderId.toString());
    else this.rowOf.set(o.localOrderId.toString(), o);
  }

  /** A fill into the account's book; its new position is pushed. */
  private foldFill(
    accountId: string,
    ticker: string,
    fill: { orderId: number; side: 'buy' | 'sell'; qty: number; price: number },
    at: string,
  ): void {
    const after = this.book.fold(accountId, ticker, fill, at);
    if (after) this.pushPosition(accountId, ticker, after);
  }

  /** Tape's count of the position, with the account's day and the broker's figure, to its sockets. */
  private pushPosition(accountId: string, ticker: string, own: Position): void {
    this.events.position(
      accountId,
      ticker,
      own,
      this.book.day(accountId),
      this.book.brokerPosition(accountId, ticker),
    );
  }
}
