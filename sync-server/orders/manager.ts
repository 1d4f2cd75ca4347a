import { createHash } from 'node:crypto';
import type { Logger } from '../log.ts';
import { type Instrument, instrumentFor } from '../market/instruments.ts';
import type { NewDeadLetter } from '../store/deadLetters.ts';
import type { OrderRow, OrderStore } from '../store/orders.ts';
import { applyFill, FLAT, type Position } from './positions.ts';
import {
  DEFAULT_RISK,
  fullBucket,
  type OrderRequest,
  type RiskConfig,
  type RiskResult,
  riskCheck,
  type TokenBucket,
} from './risk.ts';
import { InvalidTransition, isTerminal, type OrderEvent, type OrderState, transition } from './state.ts';

// The order manager: write-ahead, idempotent submission through the risk engine to the DLL,
// DLL order updates driven through the transition table, fills folded into positions.

/** What the manager needs from ProfitDLL's order API (native/profitdll.ts implements it). */
export interface OrderRouter {
  /** Sends the order; returns the DLL's local order id or throws with the DLL's named code. */
  send(o: {
    account: string;
    ticker: string;
    exchange: string;
    side: 'buy' | 'sell';
    type: 'limit' | 'market';
    price: number | undefined;
    qty: number;
    clOrderId: string;
  }): bigint;
  cancel(localOrderId: bigint): void;
  change(localOrderId: bigint, patch: { price?: number; qty?: number }): void;
  details(localOrderId: bigint): RouterOrder;
  enumerate(account: string): RouterOrder[];
}

export interface RouterOrder {
  readonly localOrderId: bigint;
  readonly clOrderId: string;
  /** ProfitDLL OrderStatus (API.md). */
  readonly status: number;
  readonly qty: number;
  readonly tradedQty: number;
  readonly averagePrice: number;
  readonly price: number;
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
  ) {
    super(message);
  }
}

export interface SubmitResult {
  readonly order: OrderRow;
  /** False when this clientOrderId was already known: nothing was sent again. */
  readonly created: boolean;
  readonly risk?: RiskResult;
}

const requestHash = (r: OrderRequest) =>
  createHash('sha256')
    .update(JSON.stringify([r.ticker, r.side, r.type, r.qty, r.price ?? null]))
    .digest('hex');

export class OrderManager {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly positions = new Map<string, Map<string, Position>>();
  private readonly realizedToday = new Map<string, { day: string; cents: number }>();
  private readonly queues = new Map<string, Promise<unknown>>();
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
   * Start-up: positions from stored fills, then every non-terminal order reconciled with the
   * DLL's own list. Orders written but never acknowledged by the DLL are NOT sent again.
   */
  async reconcile(): Promise<{ checked: number; notSent: number }> {
    for (const f of await this.store.fills())
      this.foldFill(f.accountId, f.ticker, { side: f.side, qty: f.qty, price: f.price }, f.at);
    const working = await this.store.allWorking();
    const byAccount = new Map<string, Map<string, RouterOrder>>();
    let notSent = 0;
    for (const o of working) {
      let dll = byAccount.get(o.accountId);
      if (!dll) {
        dll = new Map(this.router.enumerate(o.accountId).map((d) => [d.clOrderId, d]));
        byAccount.set(o.accountId, dll);
      }
      const found = dll.get(String(o.id));
      if (!found) {
        notSent++;
        await this.apply(o, 'rejected', {
          rejectReason: 'not_sent: the server stopped before the DLL took the order; it was not resent',
        });
        continue;
      }
      if (o.localOrderId === null) await this.store.setLocalId(o.id, found.localOrderId);
      await this.sync({ ...o, localOrderId: found.localOrderId }, found);
    }
    this.ready = true;
    return { checked: working.length, notSent };
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
    // One submission at a time per account: risk checks see every earlier order of the account.
    const run = (this.queues.get(accountId) ?? Promise.resolve()).then(() =>
      this.submitNow(accountId, userId, req, cfg),
    );
    this.queues.set(
      accountId,
      run.catch(() => undefined),
    );
    return run;
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
    const working = await this.store.list(accountId, { working: true, limit: 10_000 });
    const mine = working.filter((o) => o.ticker === req.ticker && o.id !== order.id);
    const leaves = (side: 'buy' | 'sell') =>
      mine.filter((o) => o.side === side).reduce((n, o) => n + o.qty - o.filledQty, 0);
    const now = Date.now();
    const risk = riskCheck(cfg, req, {
      instrument: inst && instrumentFor(req.ticker, inst.exchange),
      tradable: this.market.tradable(req.ticker),
      lastPrice: this.market.lastPrice(req.ticker),
      positionQty: this.position(accountId, req.ticker).qty,
      openBuyQty: leaves('buy'),
      openSellQty: leaves('sell'),
      openOrders: working.length - 1,
      realizedTodayCents: this.realized(accountId),
      duplicateClientOrderId: false,
      bucket: this.buckets.get(accountId) ?? fullBucket(cfg, now),
      now,
    });
    if (!risk.ok) {
      const rejected = await this.apply(order, 'rejected', {
        rejectReason: risk.reason,
        detail: { message: risk.message },
      });
      return { order: rejected ?? order, created: true, risk };
    }
    this.buckets.set(accountId, risk.bucket);
    let localOrderId: bigint;
    try {
      localOrderId = this.router.send({
        account: accountId,
        ticker: req.ticker,
        exchange: (inst as Instrument).exchange,
        side: req.side,
        type: req.type,
        price: req.price,
        qty: req.qty,
        clOrderId: String(order.id),
      });
    } catch (err) {
      const rejected = await this.apply(order, 'rejected', {
        rejectReason: 'broker_refused',
        detail: { message: (err as Error).message },
      });
      return { order: rejected ?? order, created: true, risk };
    }
    await this.store.setLocalId(order.id, localOrderId);
    const sent = (await this.store.byId(order.id)) as OrderRow;
    this.events.order(sent);
    return { order: sent, created: true, risk };
  }

  async cancel(order: OrderRow): Promise<void> {
    if (isTerminal(order.state))
      throw new OrderError(409, 'order_closed', `Order ${order.id} is already ${order.state}`);
    if (order.localOrderId === null)
      throw new OrderError(409, 'not_sent', `Order ${order.id} has not reached the broker`);
    this.router.cancel(order.localOrderId);
  }

  async modify(order: OrderRow, patch: { price?: number; qty?: number }): Promise<void> {
    if (isTerminal(order.state))
      throw new OrderError(409, 'order_closed', `Order ${order.id} is already ${order.state}`);
    if (order.localOrderId === null)
      throw new OrderError(409, 'not_sent', `Order ${order.id} has not reached the broker`);
    const inst = this.instruments.get(order.ticker) as Instrument;
    if (patch.qty !== undefined && (patch.qty <= order.filledQty || patch.qty % inst.lotSize !== 0)) {
      throw new OrderError(
        422,
        'bad_quantity',
        `New quantity must be a multiple of ${inst.lotSize} above the ${order.filledQty} already filled`,
      );
    }
    this.router.change(order.localOrderId, patch);
  }

  /** Cancels every working order of an account (kill switch, or the trader's "cancel all"). */
  async cancelAll(accountId: string): Promise<number> {
    const working = await this.store.list(accountId, { working: true, limit: 10_000 });
    let n = 0;
    for (const o of working) {
      if (o.localOrderId === null || o.state === 'pending_cancel') continue;
      this.router.cancel(o.localOrderId);
      n++;
    }
    return n;
  }

  /** The DLL announced a change: read its details (outside the callback) and apply them. */
  async onOrderUpdate(localOrderId: bigint): Promise<void> {
    const order = await this.store.byLocalId(localOrderId);
    const dll = this.router.details(localOrderId);
    if (!order) {
      // Possibly sent by another client of the same account (Profit itself): kept, not guessed at.
      this.deadLetter({
        source: 'profitdll.order',
        reason: 'unknown_order',
        detail: `local id ${localOrderId}`,
        payload: jsonSafe(dll),
      });
      return;
    }
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
    if (event === null || event === 'partial_fill' || event === 'fill') return; // fills handled above
    if (event === 'accepted' && current.state !== 'pending_new') return; // a repeat of "new"
    if (event === 'cancel_requested' && current.state === 'pending_cancel') return;
    if (event === 'replace_requested' && current.state === 'pending_replace') return;
    await this.apply(
      current,
      event,
      event === 'rejected' ? { rejectReason: dll.text || 'rejected by the broker' } : {},
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
    const next = await this.store.transition(order.id, { event, from: order.state, to, ...patch });
    if (!next) {
      // The row moved on meanwhile (a concurrent update): apply against the fresh row.
      const fresh = await this.store.byId(order.id);
      return fresh && fresh.state !== order.state ? this.apply(fresh, event, patch) : undefined;
    }
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

/** The B3 trading day (Brasília time, UTC−3) of an instant. */
const b3Day = (ms: number) => new Date(ms - 3 * 3_600_000).toISOString().slice(0, 10);

const jsonSafe = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))) as unknown;
