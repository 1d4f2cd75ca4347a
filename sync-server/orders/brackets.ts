import type { Logger } from '../log.ts';
import { price as priceText } from '../shared/format.ts';
import { type Instrument, isValidPrice } from '../shared/instruments.ts';
import type { BracketJson, RiskConfig } from '../shared/orders.ts';
import type { OrderManager } from './manager.ts';
import { OrderError, type OrderRow } from './model.ts';
import type { OrderRepository } from './ports.ts';
import type { OrderRequest } from './risk.ts';
import { isTerminal } from './state.ts';

// OCO brackets, managed here because the DLL has none: a take-profit (limit) and a stop-loss
// (stop-limit) on the closing side of a position. One rule sizes both legs, every time anything
// moves (a fill of a leg or of the entry, a position change, a restart):
//
//   remaining R = min(protected − exit fills, position on the bracket's side), at least 0
//
// where `protected` is what the entry has filled (or the quantity asked for on an open position)
// and `exit fills` what both legs have filled. A working leg with more than R left is reduced to
// R (a change, SendChangeOrderV2), or cancelled when R is 0; nothing else is ever sent after the
// legs, except a leg's growth when the entry filled more. The guarantee and its limit (the
// exchange may fill both legs before a change reaches it) are in docs/architecture.md.

export type BracketSide = BracketJson['side'];

/** A bracket as stored (store/brackets.ts); userId is whose orders its legs are. */
export interface Bracket extends BracketJson {
  readonly userId: number;
}

export type NewBracket = Pick<
  Bracket,
  | 'accountId'
  | 'userId'
  | 'clientId'
  | 'ticker'
  | 'side'
  | 'qty'
  | 'takeProfit'
  | 'stopPrice'
  | 'stopLimit'
  | 'entryOrderId'
  | 'state'
>;

export type BracketPatch = Partial<
  Pick<Bracket, 'qty' | 'takeProfitOrderId' | 'stopLossOrderId' | 'entryOrderId' | 'state' | 'reason'>
>;

/** Where brackets are stored (store/brackets.ts implements it). */
export interface BracketRepository {
  insert(b: NewBracket): Promise<{ bracket: Bracket; created: boolean }>;
  update(id: number, p: BracketPatch): Promise<Bracket>;
  byId(id: number): Promise<Bracket | undefined>;
  byClientId(accountId: string, clientId: string): Promise<Bracket | undefined>;
  allOpen(): Promise<Bracket[]>;
}

export interface BracketEvents {
  /** Pushed to the owning account's sockets. */
  bracket(b: Bracket): void;
}

/** What a trader asks for: a bracket with a new entry, or on the open position. */
export interface BracketRequest {
  readonly clientId: string;
  readonly ticker: string;
  /** A new order whose fills the legs protect (its side makes the position's). */
  readonly entry?: Omit<OrderRequest, 'clientOrderId' | 'ticker'> | undefined;
  /** On the open position: how much of it (at most all of it). */
  readonly qty?: number | undefined;
  readonly takeProfit: number;
  readonly stopPrice: number;
  readonly stopLimit: number;
}

type Manager = Pick<OrderManager, 'submit' | 'cancel' | 'modify' | 'positionQty' | 'isReady'>;
type Orders = Pick<OrderRepository, 'byId' | 'byClientId'>;

const OPEN = new Set(['pending', 'active']);
const legIds = (b: Pick<Bracket, 'clientId'>) => ({
  entry: `${b.clientId}.e`,
  tp: `${b.clientId}.tp`,
  sl: `${b.clientId}.sl`,
});

/**
 * Why a bracket request is refused (a named code and what to do), or undefined. `reference` is
 * the price the legs must be on either side of: the entry's limit, or the last trade.
 */
export function bracketProblem(
  req: BracketRequest,
  ctx: {
    instrument: Instrument | undefined;
    reference: number | undefined;
    /** Signed position now, and what open brackets of the ticker already protect. */
    positionQty: number;
    protectedQty: number;
  },
): { code: string; message: string } | undefined {
  const inst = ctx.instrument;
  if (!inst) return { code: 'unknown_ticker', message: `No instrument ${req.ticker}` };
  const grid = (name: string, p: number) =>
    isValidPrice(p, inst.tickSize)
      ? undefined
      : {
          code: 'bad_price',
          message: `The ${name} must be a multiple of the tick (${priceText(inst.tickSize, inst.priceDecimals)})`,
        };
  const offGrid =
    grid('take-profit', req.takeProfit) ??
    grid('stop price', req.stopPrice) ??
    grid('stop limit', req.stopLimit);
  if (offGrid) return offGrid;
  let side: BracketSide;
  if (req.entry) {
    side = req.entry.side === 'buy' ? 'long' : 'short';
  } else {
    if (ctx.positionQty === 0)
      return { code: 'no_position', message: `No open ${req.ticker} position to bracket` };
    side = ctx.positionQty > 0 ? 'long' : 'short';
    const free = Math.abs(ctx.positionQty) - ctx.protectedQty;
    const qty = req.qty ?? free;
    if (qty % inst.lotSize !== 0)
      return { code: 'bad_quantity', message: `The quantity must be a multiple of ${inst.lotSize}` };
    if (qty <= 0 || qty > free)
      return {
        code: 'beyond_position',
        message:
          ctx.protectedQty > 0
            ? `Only ${free} of the ${Math.abs(ctx.positionQty)} ${req.ticker} are not bracketed yet`
            : `The bracket's ${qty} is more than the ${Math.abs(ctx.positionQty)} ${req.ticker} held`,
      };
  }
  const long = side === 'long';
  if (long ? req.takeProfit <= req.stopPrice : req.takeProfit >= req.stopPrice)
    return {
      code: 'bad_bracket',
      message: long
        ? 'The take-profit must be above the stop price (the position is long)'
        : 'The take-profit must be below the stop price (the position is short)',
    };
  if (long ? req.stopLimit > req.stopPrice : req.stopLimit < req.stopPrice)
    return {
      code: 'bad_bracket',
      message: long
        ? "A sell stop's limit must be at or below its stop price"
        : "A buy stop's limit must be at or above its stop price",
    };
  const ref = ctx.reference;
  if (ref !== undefined && (long ? req.takeProfit <= ref : req.takeProfit >= ref))
    return {
      code: 'bad_bracket',
      message: `The take-profit must be ${long ? 'above' : 'below'} ${req.entry?.price !== undefined ? 'the entry price' : 'the last trade'} (${priceText(ref, inst.priceDecimals)})`,
    };
  if (ref !== undefined && (long ? req.stopPrice >= ref : req.stopPrice <= ref))
    return {
      code: 'bad_bracket',
      message: `The stop price must be ${long ? 'below' : 'above'} ${req.entry?.price !== undefined ? 'the entry price' : 'the last trade'} (${priceText(ref, inst.priceDecimals)})`,
    };
  return undefined;
}

/** A leg still on the book as far as Tape knows (not closed, not being cancelled). */
const working = (o: OrderRow | undefined): o is OrderRow =>
  o !== undefined && !isTerminal(o.state) && o.state !== 'pending_cancel';

export class Brackets {
  /** Which bracket an order (entry or leg) belongs to. */
  private readonly ofOrder = new Map<number, number>();
  /** The open brackets of an account's ticker, by `${account}|${ticker}`. */
  private readonly ofTicker = new Map<string, Set<number>>();
  /** Each bracket's work, one step after the other. */
  private readonly chains = new Map<number, Promise<void>>();
  /** The newest row of each order of a bracket, as the manager's events brought it. */
  private readonly rows = new Map<number, OrderRow>();
  /** What was last asked of a leg (`cancel`, or the total quantity of a change), by order id. */
  private readonly asked = new Map<number, number | 'cancel'>();

  constructor(
    private readonly manager: Manager,
    private readonly orders: Orders,
    private readonly store: BracketRepository,
    private readonly events: BracketEvents,
    private readonly riskOf: (accountId: string) => Promise<RiskConfig>,
    private readonly log: Logger,
  ) {}

  /** The manager's order event (service.ts forwards every one). */
  onOrder(o: OrderRow): void {
    const id = this.ofOrder.get(o.id);
    if (id === undefined) return;
    const prev = this.rows.get(o.id);
    // A change or cancel answered (done or refused): the next step may ask again.
    if (
      (prev?.state === 'pending_replace' && o.state !== 'pending_replace') ||
      (prev?.state === 'pending_cancel' && !isTerminal(o.state) && o.state !== 'pending_cancel')
    )
      this.asked.delete(o.id);
    this.rows.set(o.id, o);
    this.kick(id);
  }

  /** A position moved: the ticker's brackets are sized against it again. */
  onPosition(accountId: string, ticker: string): void {
    for (const id of this.ofTicker.get(`${accountId}|${ticker}`) ?? []) this.kick(id);
  }

  /** Resolves once every bracket's work so far is done. */
  async settled(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  /**
   * Start-up, after the manager's reconciliation: every open bracket sized against its legs as
   * reconciled (a leg that filled during the outage cancels or reduces the other).
   */
  async resume(): Promise<number> {
    const open = await this.store.allOpen();
    for (const b of open) this.watch(b);
    for (const b of open) this.kick(b.id);
    await this.settled();
    return open.length;
  }

  /** A new bracket (idempotent on clientId): the entry sent, or the legs on the open position. */
  async create(
    accountId: string,
    userId: number,
    req: BracketRequest,
    instrument: Instrument | undefined,
    reference: number | undefined,
    cfg: RiskConfig,
  ): Promise<{ bracket: Bracket; created: boolean }> {
    if (!this.manager.isReady)
      throw new OrderError(
        503,
        'reconciling',
        'Orders are being reconciled with the broker: try again in a moment',
      );
    // A repeat (same clientId) is answered with the bracket it made, whatever moved since.
    const known = await this.store.byClientId(accountId, req.clientId);
    if (known) return { bracket: known, created: false };
    const positionQty = this.manager.positionQty(accountId, req.ticker);
    let protectedQty = 0;
    for (const id of this.ofTicker.get(`${accountId}|${req.ticker}`) ?? []) {
      const other = await this.store.byId(id);
      if (other && OPEN.has(other.state) && other.entryOrderId === null) protectedQty += other.qty;
    }
    const problem = bracketProblem(req, { instrument, reference, positionQty, protectedQty });
    if (problem) throw new OrderError(422, problem.code, problem.message);
    const side: BracketSide = req.entry
      ? req.entry.side === 'buy'
        ? 'long'
        : 'short'
      : positionQty > 0
        ? 'long'
        : 'short';
    const { bracket, created } = await this.store.insert({
      accountId,
      userId,
      clientId: req.clientId,
      ticker: req.ticker,
      side,
      qty: req.entry ? 0 : (req.qty ?? Math.abs(positionQty) - protectedQty),
      takeProfit: req.takeProfit,
      stopPrice: req.stopPrice,
      stopLimit: req.stopLimit,
      entryOrderId: null,
      state: req.entry ? 'pending' : 'active',
    });
    if (!created) return { bracket, created };
    let b = bracket;
    if (req.entry) {
      const entry = await this.manager.submit(
        accountId,
        userId,
        { ...req.entry, clientOrderId: legIds(b).entry, ticker: req.ticker },
        cfg,
      );
      this.rows.set(entry.order.id, entry.order);
      b = await this.store.update(b.id, { entryOrderId: entry.order.id });
      this.events.bracket(b);
    } else this.events.bracket(b);
    // Watched from here on: a step never sees a bracket whose entry is still being sent.
    this.watch(b);
    if (b.entryOrderId !== null) {
      // An entry that filled while it was being linked (a market order fills at once) was
      // announced before the watch began: its stored row says so.
      const fresh = await this.orders.byId(b.entryOrderId);
      const cached = this.rows.get(b.entryOrderId);
      if (
        fresh &&
        (!cached ||
          fresh.filledQty > cached.filledQty ||
          (isTerminal(fresh.state) && !isTerminal(cached.state)))
      )
        this.rows.set(fresh.id, fresh);
    }
    this.kick(b.id);
    await this.chains.get(b.id);
    return { bracket: (await this.store.byId(b.id)) ?? b, created };
  }

  /** Cancels the bracket: both legs (and its entry, when it still works). */
  async cancel(b: Bracket, reason = 'canceled'): Promise<Bracket> {
    await this.close(b.id, reason);
    return (await this.store.byId(b.id)) ?? b;
  }

  /**
   * A flatten of the ticker (flatten.ts): its brackets close first, so that none sends or
   * resizes a leg while the flatten cancels the ticker's orders and sends its market order.
   */
  async closeTicker(accountId: string, ticker: string | undefined): Promise<void> {
    const ids = [...this.ofTicker.entries()]
      .filter(
        ([k]) => k.startsWith(`${accountId}|`) && (ticker === undefined || k === `${accountId}|${ticker}`),
      )
      .flatMap(([, s]) => [...s]);
    await Promise.all(ids.map((id) => this.close(id, 'flattened')));
  }

  private async close(id: number, reason: string): Promise<void> {
    const run = (this.chains.get(id) ?? Promise.resolve()).then(async () => {
      const b = await this.store.byId(id);
      if (!b || !OPEN.has(b.state)) return;
      this.events.bracket(await this.store.update(id, { state: 'canceled', reason }));
    });
    this.chain(id, run);
    await run;
    this.kick(id);
    await this.chains.get(id);
  }

  private watch(b: Bracket): void {
    const key = `${b.accountId}|${b.ticker}`;
    const set = this.ofTicker.get(key) ?? new Set<number>();
    set.add(b.id);
    this.ofTicker.set(key, set);
    for (const o of [b.entryOrderId, b.takeProfitOrderId, b.stopLossOrderId])
      if (o !== null) this.ofOrder.set(o, b.id);
  }

  private forget(b: Bracket): void {
    this.ofTicker.get(`${b.accountId}|${b.ticker}`)?.delete(b.id);
    for (const o of [b.entryOrderId, b.takeProfitOrderId, b.stopLossOrderId])
      if (o !== null) {
        this.ofOrder.delete(o);
        this.rows.delete(o);
        this.asked.delete(o);
      }
  }

  private chain(id: number, run: Promise<void>): void {
    const done = run.catch((err: Error) =>
      this.log.error({ bracket: id, err: err.message }, 'bracket step failed'),
    );
    this.chains.set(id, done);
    done.then(() => {
      if (this.chains.get(id) === done) this.chains.delete(id);
    });
  }

  private kick(id: number): void {
    this.chain(
      id,
      (this.chains.get(id) ?? Promise.resolve()).then(() => this.step(id)),
    );
  }

  private async row(
    id: number | null,
    clientOrderId: string,
    accountId: string,
  ): Promise<OrderRow | undefined> {
    if (id !== null) return this.rows.get(id) ?? (await this.orders.byId(id));
    // Sent before a crash that came before its id was stored with the bracket.
    return this.orders.byClientId(accountId, clientOrderId);
  }

  /** Sizes the bracket's legs to what it protects now; closes it once nothing of it works. */
  private async step(id: number): Promise<void> {
    let b = await this.store.byId(id);
    if (!b) return;
    const ids = legIds(b);
    const entry =
      b.entryOrderId !== null || b.state === 'pending'
        ? await this.row(b.entryOrderId, ids.entry, b.accountId)
        : undefined;
    const tp = await this.row(b.takeProfitOrderId, ids.tp, b.accountId);
    const sl = await this.row(b.stopLossOrderId, ids.sl, b.accountId);
    for (const o of [entry, tp, sl]) if (o) this.ofOrder.set(o.id, b.id);
    if (b.state === 'pending' && entry === undefined) {
      // The server stopped before the entry was written: nothing was sent, nothing to protect.
      b = await this.store.update(b.id, { state: 'closed', reason: 'entry_not_sent' });
      this.events.bracket(b);
      this.forget(b);
      return;
    }
    const open = OPEN.has(b.state);
    const hasEntry = entry !== undefined || b.state === 'pending';
    const protectedQty = hasEntry ? (entry?.filledQty ?? 0) : b.qty;
    const exitFills = (tp?.filledQty ?? 0) + (sl?.filledQty ?? 0);
    const sign = b.side === 'long' ? 1 : -1;
    const held = sign * this.manager.positionQty(b.accountId, b.ticker);
    const legClosed =
      (tp !== undefined && isTerminal(tp.state)) || (sl !== undefined && isTerminal(sl.state));
    // Once a leg is closed the pair is no more: the other goes too.
    const remaining = open && !legClosed ? Math.max(0, Math.min(protectedQty - exitFills, held)) : 0;

    // First what could stop an overfill: each working leg cut to what remains, or cancelled.
    for (const leg of [tp, sl]) {
      if (!working(leg)) continue;
      const left = leg.qty - leg.filledQty;
      if (remaining === 0) await this.cancelLeg(leg);
      else if (left > remaining) await this.resize(leg, leg.filledQty + remaining);
    }

    // A closed bracket, or one whose pair is broken, takes no more of its entry either: what it
    // would fill would have no legs (they are never sent twice).
    if ((!open || legClosed) && entry && working(entry)) await this.cancelLeg(entry);
    if (!open) {
      if ([entry, tp, sl].every((o) => !o || isTerminal(o.state))) this.forget(b);
      return;
    }

    const legsSent = tp !== undefined || sl !== undefined;
    if (!legsSent && remaining > 0) {
      await this.sendLegs(b, remaining, protectedQty);
      return;
    }
    // The entry filled more since the legs were sized: they grow by as much (and only then).
    if (legsSent && hasEntry && protectedQty > b.qty && remaining > 0) {
      for (const leg of [tp, sl])
        if (working(leg) && leg.qty - leg.filledQty < remaining)
          await this.resize(leg, leg.filledQty + remaining);
      b = await this.store.update(b.id, { qty: protectedQty });
      this.events.bracket(b);
    }

    const entryDone = !hasEntry || (entry !== undefined && isTerminal(entry.state));
    const legsDone = [tp, sl].every((o) => !o || isTerminal(o.state));
    if (entryDone && legsDone && (legsSent || remaining === 0)) {
      const reason =
        exitFills > protectedQty
          ? 'overfilled'
          : (tp?.filledQty ?? 0) > 0 && (sl?.filledQty ?? 0) === 0
            ? 'take_profit'
            : (sl?.filledQty ?? 0) > 0 && (tp?.filledQty ?? 0) === 0
              ? 'stop_loss'
              : exitFills > 0
                ? 'both_legs'
                : legsSent
                  ? 'leg_closed'
                  : hasEntry
                    ? 'entry_closed'
                    : 'nothing_to_protect';
      if (reason === 'overfilled')
        this.log.error({ bracket: b.id, protectedQty, exitFills }, 'bracket legs filled beyond the position');
      b = await this.store.update(b.id, { state: 'closed', reason, qty: protectedQty });
      this.events.bracket(b);
      this.forget(b);
    }
  }

  /** Both legs, sized to `qty`; the second to what is left once the first is on the book. */
  private async sendLegs(b: Bracket, qty: number, protectedQty: number): Promise<void> {
    const cfg = await this.riskOf(b.accountId);
    const ids = legIds(b);
    const closing = b.side === 'long' ? 'sell' : 'buy';
    const tp = await this.manager.submit(
      b.accountId,
      b.userId,
      { clientOrderId: ids.tp, ticker: b.ticker, side: closing, type: 'limit', qty, price: b.takeProfit },
      cfg,
    );
    this.ofOrder.set(tp.order.id, b.id);
    const tpNow = this.rows.get(tp.order.id) ?? tp.order;
    this.rows.set(tp.order.id, tpNow);
    let next = await this.store.update(b.id, {
      takeProfitOrderId: tp.order.id,
      state: 'active',
      qty: protectedQty,
    });
    if (tpNow.state === 'rejected') {
      next = await this.store.update(b.id, { state: 'canceled', reason: 'leg_rejected' });
      this.events.bracket(next);
      return;
    }
    // The take-profit may have filled already: the stop covers only what it left.
    const slQty = qty - tpNow.filledQty;
    if (slQty > 0 && !isTerminal(tpNow.state)) {
      const sl = await this.manager.submit(
        b.accountId,
        b.userId,
        {
          clientOrderId: ids.sl,
          ticker: b.ticker,
          side: closing,
          type: 'stop_limit',
          qty: slQty,
          price: b.stopLimit,
          stopPrice: b.stopPrice,
        },
        cfg,
      );
      this.ofOrder.set(sl.order.id, b.id);
      if (!this.rows.has(sl.order.id)) this.rows.set(sl.order.id, sl.order);
      next = await this.store.update(b.id, { stopLossOrderId: sl.order.id });
      if (sl.order.state === 'rejected')
        next = await this.store.update(b.id, { state: 'canceled', reason: 'leg_rejected' });
    }
    this.events.bracket(next);
    // What happened to the legs meanwhile is sized by the next step.
    this.kick(b.id);
  }

  private async cancelLeg(o: OrderRow): Promise<void> {
    if (this.asked.get(o.id) === 'cancel' || o.localOrderId === null) return;
    this.asked.set(o.id, 'cancel');
    try {
      await this.manager.cancel(o);
    } catch (err) {
      // Closed meanwhile, or refused (filling): its own update says which, and sizes again.
      if (!(err instanceof OrderError)) throw err;
      this.asked.delete(o.id);
      this.log.warn({ orderId: o.id, err: err.message }, 'bracket leg cancel refused');
    }
  }

  /** A change of the leg's total quantity; when it cannot be sent, a cutback becomes a cancel. */
  private async resize(o: OrderRow, qty: number): Promise<void> {
    if (this.asked.get(o.id) === qty || this.asked.get(o.id) === 'cancel' || o.localOrderId === null) return;
    const cut = qty < o.qty;
    this.asked.set(o.id, qty);
    try {
      const risk = await this.manager.modify(o, { qty }, await this.riskOf(o.accountId));
      if (risk.ok) return;
      this.log.warn({ orderId: o.id, reason: risk.reason }, 'bracket leg change refused by risk');
    } catch (err) {
      if (!(err instanceof OrderError)) throw err;
      this.log.warn({ orderId: o.id, err: err.message }, 'bracket leg change refused');
    }
    this.asked.delete(o.id);
    if (cut) await this.cancelLeg(o);
  }
}
