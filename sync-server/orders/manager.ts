import { createHash } from 'node:crypto';
import { ProfitDllError } from '../../native/errors.ts';
import type { AccountRef } from '../../native/types.ts';
import { jsonSafe, type NewDeadLetter } from '../deadLetters/queue.ts';
import type { Logger } from '../log.ts';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import { b3Day } from '../shared/market.ts';
import type { OrderState, Position, RiskConfig } from '../shared/orders.ts';
import type { OrderRow, OrderStore } from '../store/orders.ts';
import { fullBucket, type TokenBucket } from '../tokenBucket.ts';
import { applyFill, FLAT } from './positions.ts';
import {
  DEFAULT_RISK,
  type OrderRequest,
  orderRate,
  type PriceLimits,
  type RiskResult,
  riskCheck,
} from './risk.ts';
import { InvalidDllOrder, invalidOrderLetter } from './router.ts';
import { InvalidTransition, isTerminal, type OrderEvent, transition } from './state.ts';

// The order manager: write-ahead, idempotent submission through the risk engine to the DLL,
// DLL order updates driven through the transition table, fills folded into positions.

/** What the manager needs from ProfitDLL's order API (router.ts adapts the binding to it). */
export interface OrderRouter {
  /** Sends the order; returns the DLL's local order id or throws with the DLL's named code. */
  send(o: {
    account: AccountRef;
    ticker: string;
    exchange: string;
    side: 'buy' | 'sell';
    type: 'limit' | 'market';
    price: number | undefined;
    qty: number;
  }): bigint;
  cancel(account: AccountRef, localOrderId: bigint): void;
  /** A new limit price and total quantity. */
  change(account: AccountRef, localOrderId: bigint, price: number, qty: number): void;
  details(localOrderId: bigint): RouterOrder;
  enumerate(account: AccountRef): RouterOrder[];
}

/** An order as the DLL reports it, already validated (router.ts parseDllOrder). */
export interface RouterOrder {
  readonly localOrderId: bigint;
  /** The DLL's own ClOrderID ('' when the call does not report it). */
  readonly clOrderId: string;
  readonly accountId: string;
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  /** ProfitDLL OrderStatus (API.md). */
  readonly status: number;
  readonly qty: number;
  readonly tradedQty: number;
  readonly averagePrice: number;
  /** Limit price; null for a market order. */
  readonly price: number | null;
  /** When the DLL took the order (ms since the epoch), if it says. */
  readonly createdAt: number | null;
  readonly text: string;
}

// ProfitDLL OrderStatus → the lifecycle event it reports.
const STATUS_EVENT: Readonly<Record<number, OrderEvent | null>> = {
  10: null, // pending new: nothing new yet
  16: null, // received
  0: 'accepted',
  1: 'partial_fill',
  2: 'fill',
  4: 'canceled',
  5: 'replaced',
  6: 'cancel_requested',
  8: 'rejected',
  12: 'expired',
  14: 'replace_requested',
  15: 'canceled', // partially filled, then canceled
  17: 'expired', // partially filled, then expired
  18: 'rejected',
};

export interface MarketLookup {
  lastPrice(ticker: string): number | undefined;
  /** The exchange's price limits for the day, when it sets them. */
  priceLimits(ticker: string): PriceLimits | undefined;
  tradable(ticker: string): boolean;
}

export interface OrderEvents {
  /** Pushed to the owning account's sockets. */
  order(order: OrderRow): void;
  position(accountId: string, ticker: string, position: Position): void;
}

export class OrderError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For a 429 or 503: when to try again. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

/** Submissions of one account in progress at once; past this a new one gets a 429. */
export const MAX_SUBMITS_IN_FLIGHT = 20;
/**
 * DLL order announcements not read yet; past this new orders get a 503 until the server caught
 * up, since the risk check would see stale fills and working orders.
 */
export const MAX_UPDATE_BACKLOG = 500;
/**
 * Orders announced before start-up reconciliation finished, held to be read once it has; past
 * this many an announcement is dead-lettered (`held_overflow`) rather than held.
 */
export const MAX_HELD_UPDATES = 2_000;

/** What the risk check needs of a working order. */
interface OpenOrder {
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly filledQty: number;
}

/** DLL order announcements of one account waiting to be read, one read at a time. */
interface Lane {
  /** Announced, not read yet (one entry per order, in order of first announcement). */
  readonly dirty: Map<string, bigint>;
  busy: boolean;
}

export interface SubmitResult {
  readonly order: OrderRow;
  /** False when this clientOrderId was already known: nothing was sent again. */
  readonly created: boolean;
  readonly risk?: RiskResult;
}

/** What makes two requests under one clientOrderId the same order (orders.request_hash). */
export const requestHash = (r: OrderRequest) =>
  createHash('sha256')
    .update(JSON.stringify([r.ticker, r.side, r.type, r.qty, r.price ?? null]))
    .digest('hex');

export class OrderManager {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly positions = new Map<string, Map<string, Position>>();
  private readonly realizedToday = new Map<string, { day: number; cents: number }>();
  /** Submissions in progress, by account. */
  private readonly submitting = new Map<string, Set<Promise<SubmitResult>>>();
  /**
   * Accounts whose kill switch was turned on through this manager: the check right before each
   * DLL call refuses them, whatever config the request was read with.
   */
  private readonly halted = new Set<string>();
  /** Every working order of each account, as stored: what the risk check counts. */
  private readonly open = new Map<string, Map<number, OpenOrder>>();
  private readonly brokers = new Map<string, number>();
  /**
   * The stored row of each order this server sent or found working, by local id, until it
   * closes: a DLL update starts from it without a read, and its account picks the update lane.
   * A row whose localOrderId is still null is one whose id is being stored.
   */
  private readonly rowOf = new Map<string, OrderRow>();
  /** Update lanes by account ('' for orders of no known account). */
  private readonly lanes = new Map<string, Lane>();
  /** The lane an order's pending or running read is in, so one order is never read twice at once. */
  private readonly laneOf = new Map<string, Lane>();
  private readonly running = new Set<Promise<void>>();
  /**
   * Announced before reconciliation finished, in order of first announcement: an order the
   * previous run sent is adopted by reconciliation, so it is read only after that.
   */
  private readonly held = new Map<string, bigint>();
  /** Set at shutdown: DLL updates still queued are left to the next start's reconciliation. */
  private stopped = false;
  private skippedAtStop = 0;
  private ready = false;

  constructor(
    private readonly store: OrderStore,
    private readonly router: OrderRouter,
    private readonly market: MarketLookup,
    private readonly events: OrderEvents,
    private readonly deadLetter: (l: NewDeadLetter) => void,
    private readonly log: Logger,
    private readonly instruments: ReadonlyMap<string, Instrument>,
  ) {}

  get isReady(): boolean {
    return this.ready;
  }

  /**
   * Start-up: positions from stored fills, then every working order reconciled with the DLL's
   * own list before new orders are accepted. An order written but never acknowledged is looked
   * for in the DLL's list (the DLL may have taken it just before a crash) and adopted when
   * found; otherwise it is closed as not sent. Nothing is ever sent again.
   */
  async reconcile(): Promise<{ checked: number; adopted: number; notSent: number; gone: number }> {
    for (const f of await this.store.fills())
      this.foldFill(f.accountId, f.ticker, { side: f.side, qty: f.qty, price: f.price }, f.at);
    const working = await this.store.allWorking();
    const counts = { checked: working.length, adopted: 0, notSent: 0, gone: 0 };
    const accounts = [...new Set(working.map((o) => o.accountId))];
    for (const accountId of accounts) {
      const mine = working.filter((o) => o.accountId === accountId);
      const dll = this.router.enumerate(await this.accountRef(accountId));
      const known = new Set(
        (await this.store.knownLocalIds(dll.map((d) => d.localOrderId))).map((id) => id.toString()),
      );
      const unclaimed = dll.filter((d) => !known.has(d.localOrderId.toString()));
      for (const o of mine) {
        if (o.localOrderId !== null) {
          this.rowOf.set(o.localOrderId.toString(), o);
          const found = dll.find((d) => d.localOrderId === o.localOrderId);
          if (found) await this.sync(o, found);
          else {
            counts.gone++;
            await this.apply(o, 'expired', {
              detail: { message: 'not in the DLL order list at start-up (expired at the broker)' },
            });
          }
          continue;
        }
        // Same instrument, side, quantity and price, taken no earlier than we wrote the row.
        const created = Date.parse(o.createdAt) - 1_000;
        const i = unclaimed.findIndex(
          (d) =>
            d.ticker === o.ticker &&
            d.side === o.side &&
            d.qty === o.qty &&
            (o.type === 'market' ? d.price === null : d.price === o.price) &&
            (d.createdAt === null || d.createdAt >= created),
        );
        if (i < 0) {
          counts.notSent++;
          await this.apply(o, 'rejected', {
            rejectReason: 'not_sent',
            detail: {
              message:
                'The server stopped before the broker took this order, and an order is never resent after a restart: enter it again (a new order id) if it is still wanted',
            },
          });
          continue;
        }
        const [found] = unclaimed.splice(i, 1) as [RouterOrder];
        counts.adopted++;
        this.rowOf.set(found.localOrderId.toString(), o);
        const adopted = await this.store.setLocalId(o.id, found.localOrderId);
        this.remember(adopted);
        await this.sync(adopted, found);
      }
    }
    for (const o of await this.store.allWorking()) this.track(o);
    this.ready = true;
    // Read now, in their order: an order adopted above is known; one still unknown is lettered.
    const held = [...this.held.values()];
    this.held.clear();
    for (const id of held) this.onOrderUpdate(id);
    return counts;
  }

  /** Submits an order: idempotent on (account, clientOrderId), write-ahead, risk-checked. */
  submit(
    accountId: string,
    userId: number,
    req: OrderRequest,
    cfg: RiskConfig = DEFAULT_RISK,
  ): Promise<SubmitResult> {
    if (!this.ready)
      throw new OrderError(
        503,
        'reconciling',
        'Orders are being reconciled with the broker: try again in a moment',
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

  /** DLL order announcements not read yet, over every account. */
  get updateBacklog(): number {
    let n = this.held.size;
    for (const lane of this.lanes.values()) n += lane.dirty.size;
    return n;
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
      price: req.type === 'limit' ? (req.price ?? null) : null,
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
    this.track(order);
    let localOrderId: bigint;
    try {
      localOrderId = this.router.send({
        account,
        ticker: req.ticker,
        exchange: (inst as Instrument).exchange,
        side: req.side,
        type: req.type,
        price: req.price,
        qty: req.qty,
      });
    } catch (err) {
      // Only the DLL's own refusal proves it did not take the order; anything else leaves the
      // row pending for reconciliation rather than guessing.
      if (!(err instanceof ProfitDllError)) throw err;
      const rejected = await this.apply(order, 'rejected', {
        rejectReason: 'broker_refused',
        detail: { message: err.message, code: err.codeName },
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
    const others = [...(this.open.get(accountId) ?? new Map<number, OpenOrder>())]
      .filter(([id]) => id !== self)
      .map(([, o]) => o);
    const leaves = (side: 'buy' | 'sell') =>
      others
        .filter((o) => o.ticker === req.ticker && o.side === side)
        .reduce((n, o) => n + o.qty - o.filledQty, 0);
    const now = Date.now();
    const risk = riskCheck(this.halted.has(accountId) ? { ...cfg, killSwitch: true } : cfg, req, {
      instrument: inst && instrumentFor(req.ticker, inst.exchange),
      tradable: this.market.tradable(req.ticker),
      lastPrice: this.market.lastPrice(req.ticker),
      priceLimits: this.market.priceLimits(req.ticker),
      positionQty: this.position(accountId, req.ticker).qty,
      openBuyQty: leaves('buy'),
      openSellQty: leaves('sell'),
      openOrders: others.length,
      realizedTodayCents: this.realized(accountId),
      duplicateClientOrderId: false,
      bucket: this.buckets.get(accountId) ?? fullBucket(orderRate(cfg), now),
      now,
    });
    if (risk.ok) this.buckets.set(accountId, risk.bucket);
    return risk;
  }

  private async accountRef(accountId: string): Promise<AccountRef> {
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

  /** The DLL's refusal of a request, as a 409 with its named code. */
  private route(f: () => void): void {
    try {
      f();
    } catch (err) {
      if (!(err instanceof ProfitDllError)) throw err;
      throw new OrderError(409, 'broker_refused', err.message);
    }
  }

  async cancel(order: OrderRow): Promise<void> {
    const id = this.sent(order);
    const account = await this.accountRef(order.accountId);
    this.route(() => this.router.cancel(account, id));
  }

  /** A new price and/or quantity: checked like a new order, then sent as a change. */
  async modify(
    order: OrderRow,
    patch: { price?: number; qty?: number },
    cfg: RiskConfig,
  ): Promise<RiskResult> {
    const id = this.sent(order);
    if (order.type === 'market')
      throw new OrderError(409, 'market_order', 'A market order has no price or quantity to change');
    const qty = patch.qty ?? order.qty;
    const price = patch.price ?? (order.price as number);
    if (qty <= order.filledQty)
      throw new OrderError(
        422,
        'bad_quantity',
        `New quantity must be above the ${order.filledQty} already filled`,
      );
    // The remaining quantity is what the change puts at risk.
    const req: OrderRequest = {
      clientOrderId: order.clientOrderId,
      ticker: order.ticker,
      side: order.side,
      type: 'limit',
      qty: qty - order.filledQty,
      price,
    };
    const account = await this.accountRef(order.accountId);
    // From the check to the DLL call nothing awaits (the kill switch included).
    const risk = this.check(order.accountId, req, cfg, order.id);
    if (!risk.ok) return risk;
    const inst = this.instruments.get(order.ticker) as Instrument;
    if (qty % inst.lotSize !== 0)
      throw new OrderError(422, 'bad_quantity', `New quantity must be a multiple of ${inst.lotSize}`);
    this.route(() => this.router.change(account, id, price, qty));
    return risk;
  }

  /**
   * Shutdown, before the DLL is finalized: the update being applied finishes; those still
   * queued are not read (the DLL is going away). Start-up reconciliation syncs every working
   * order with the DLL, so none of them is lost.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.settled();
    this.skippedAtStop += this.updateBacklog;
    if (this.skippedAtStop > 0)
      this.log.info(
        { updates: this.skippedAtStop },
        'order updates left to the next start-up reconciliation',
      );
  }

  /** Cancels every working order of an account (kill switch, or the trader's "cancel all"). */
  async cancelAll(accountId: string): Promise<number> {
    const working = await this.store.list(accountId, { working: true, limit: 10_000 });
    const account = await this.accountRef(accountId);
    let n = 0;
    for (const o of working) {
      if (o.localOrderId === null || o.state === 'pending_cancel') continue;
      try {
        this.router.cancel(account, o.localOrderId);
        n++;
      } catch (err) {
        // Filled or canceled meanwhile: its own update will say so; the others are still canceled.
        if (!(err instanceof ProfitDllError)) throw err;
        this.log.warn({ orderId: o.id, err: err.message }, 'cancel refused by the DLL');
      }
    }
    return n;
  }

  /**
   * The DLL announced a change of an order. Its details are read later, outside the callback,
   * and applied. A read returns the order's current state, so announcements of an order not read
   * yet collapse into one read; one order is never read twice at once. Each account has its own
   * lane, read one order at a time in the order of announcement (its fills fold into positions
   * in that order); accounts do not wait for each other. Until start-up reconciliation has
   * finished, announcements are held (bounded) and read after it, so an order the previous run
   * sent is adopted before its acknowledgement is read, not dead-lettered as unknown.
   */
  onOrderUpdate(localOrderId: bigint): void {
    if (this.stopped) {
      this.skippedAtStop++;
      return;
    }
    const key = localOrderId.toString();
    if (!this.ready) {
      this.hold(key, localOrderId);
      return;
    }
    let lane = this.laneOf.get(key);
    if (!lane) {
      const accountId = this.rowOf.get(key)?.accountId ?? '';
      lane = this.lanes.get(accountId);
      if (!lane) {
        lane = { dirty: new Map(), busy: false };
        this.lanes.set(accountId, lane);
      }
      this.laneOf.set(key, lane);
    }
    lane.dirty.set(key, localOrderId);
    if (lane.busy) return;
    lane.busy = true;
    const run = this.drainLane(lane);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private hold(key: string, localOrderId: bigint): void {
    if (this.held.has(key)) return;
    if (this.held.size >= MAX_HELD_UPDATES) {
      this.deadLetter({
        source: 'profitdll.order',
        reason: 'held_overflow',
        detail: `local id ${localOrderId}: announced before start-up reconciliation finished, past the ${MAX_HELD_UPDATES} held; not read (reconciliation syncs every working order Tape has)`,
        payload: { localOrderId: key },
      });
      return;
    }
    this.held.set(key, localOrderId);
  }

  /** Resolves once no update is being read (every announcement read, or left at stop()). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private async drainLane(lane: Lane): Promise<void> {
    try {
      for (let next = first(lane.dirty); next && !this.stopped; next = first(lane.dirty)) {
        const [key, localOrderId] = next;
        lane.dirty.delete(key);
        try {
          await this.update(localOrderId);
        } catch (err) {
          this.updateFailed(localOrderId, err as Error);
        }
        // Announced again while it was read: it stays in this lane for the next read.
        if (!lane.dirty.has(key)) this.laneOf.delete(key);
      }
    } finally {
      lane.busy = false;
    }
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
    const dll = this.router.details(localOrderId);
    const known = this.rowOf.get(key);
    // Ours, its id not stored yet: submit() reads it again once it is.
    if (known && known.localOrderId === null) return;
    const order = known ?? (await this.store.byLocalId(localOrderId));
    if (!order) {
      // Sent by another client of the same account (Profit itself): kept, not guessed at.
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

  position(accountId: string, ticker: string): Position {
    return this.positions.get(accountId)?.get(ticker) ?? FLAT;
  }

  positionsOf(accountId: string): Map<string, Position> {
    return this.positions.get(accountId) ?? new Map();
  }

  realized(accountId: string): number {
    const r = this.realizedToday.get(accountId);
    return r && r.day === b3Day(Date.now()) ? r.cents : 0;
  }

  /** Brings the stored order to what the DLL reports, one table transition at a time. */
  private async sync(order: OrderRow, dll: RouterOrder): Promise<void> {
    let current: OrderRow = order;
    if (dll.tradedQty > current.filledQty) {
      // New executions: the price of the new part follows from the two averages.
      const qty = dll.tradedQty - current.filledQty;
      const price =
        (dll.averagePrice * dll.tradedQty - (current.avgFillPrice ?? 0) * current.filledQty) / qty;
      const inst = this.instruments.get(current.ticker) as Instrument;
      const snapped = Math.round(price / inst.tickSize) * inst.tickSize;
      const event: OrderEvent = dll.tradedQty >= current.qty ? 'fill' : 'partial_fill';
      const next = await this.apply(current, event, {
        filledQty: dll.tradedQty,
        avgFillPrice: dll.averagePrice,
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
        detail: `status ${dll.status}`,
        payload: jsonSafe(dll),
      });
      return;
    }
    const stillWorking = dll.status === 0 || dll.status === 1;
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
      if (current.state !== 'pending_replace') {
        // The change request and its result arrived in one read: both are recorded.
        const next = await this.apply(current, 'replace_requested', {});
        if (!next) return;
        current = next;
      }
      await this.apply(current, 'replaced', { qty: dll.qty, price: dll.price ?? undefined });
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
    },
  ): Promise<OrderRow | undefined> {
    let to: OrderState;
    try {
      to = transition(order.state, event, patch.filledQty ?? order.filledQty);
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
        this.track(fresh);
        this.remember(fresh);
        if (fresh.localOrderId !== null && !isTerminal(fresh.state)) this.onOrderUpdate(fresh.localOrderId);
      }
      return undefined;
    }
    this.track(next);
    this.remember(next);
    if (patch.fill)
      this.foldFill(
        next.accountId,
        next.ticker,
        { side: next.side, ...patch.fill },
        new Date().toISOString(),
      );
    this.events.order(next);
    return next;
  }

  /** Keeps the row a DLL update starts from in step with the stored one. */
  private remember(o: OrderRow): void {
    if (o.localOrderId === null) return;
    if (isTerminal(o.state)) this.rowOf.delete(o.localOrderId.toString());
    else this.rowOf.set(o.localOrderId.toString(), o);
  }

  /** Keeps the working orders the risk check counts in step with the stored row. */
  private track(o: OrderRow): void {
    let book = this.open.get(o.accountId);
    if (isTerminal(o.state)) {
      book?.delete(o.id);
      if (book?.size === 0) this.open.delete(o.accountId);
      return;
    }
    if (!book) {
      book = new Map();
      this.open.set(o.accountId, book);
    }
    book.set(o.id, { ticker: o.ticker, side: o.side, qty: o.qty, filledQty: o.filledQty });
  }

  private foldFill(
    accountId: string,
    ticker: string,
    fill: { side: 'buy' | 'sell'; qty: number; price: number },
    at: string,
  ) {
    const inst = this.instruments.get(ticker);
    if (!inst) return;
    const book = this.positions.get(accountId) ?? new Map<string, Position>();
    this.positions.set(accountId, book);
    const before = book.get(ticker) ?? FLAT;
    const after = applyFill(before, fill, inst);
    book.set(ticker, after);
    const day = b3Day(Date.parse(at));
    if (day === b3Day(Date.now())) {
      const r = this.realizedToday.get(accountId);
      const base = r && r.day === day ? r.cents : 0;
      this.realizedToday.set(accountId, { day, cents: base + after.realizedCents - before.realizedCents });
    }
    this.events.position(accountId, ticker, after);
  }
}

const first = <K, V>(m: Map<K, V>): [K, V] | undefined => m.entries().next().value;
