import { centavos, type Instrument, isValidPrice } from '../shared/instruments.ts';
import type { RiskConfig } from '../shared/orders.ts';
import { type Rate, type TokenBucket, takeToken } from '../tokenBucket.ts';

// Pre-trade risk: pure functions over one frozen config per account and a snapshot of the
// account and the market. Each failed check returns a named reason the UI shows as is.

/** Defaults for a new account; admins change them per account over REST. */
export const DEFAULT_RISK: RiskConfig = Object.freeze({
  killSwitch: false,
  maxOrderQty: 10_000,
  maxOrderNotionalCents: 100_000_000, // R$ 1,000,000.00
  maxPositionQty: 50_000,
  maxOpenOrders: 50,
  dailyLossLimitCents: 5_000_000, // R$ 50,000.00
  priceBandPct: 5,
  ordersPerSecond: 10,
  orderBurst: 20,
});

export type Side = 'buy' | 'sell';
export type OrderType = 'limit' | 'market';

export interface OrderRequest {
  readonly clientOrderId: string;
  readonly ticker: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly qty: number;
  /** Limit price; absent for market orders. */
  readonly price?: number | undefined;
}

export interface PriceLimits {
  readonly min: number;
  readonly max: number;
}

export interface RiskSnapshot {
  readonly instrument: Instrument | undefined;
  /** False when trading in the instrument is halted or not allowed for this account. */
  readonly tradable: boolean;
  readonly lastPrice: number | undefined;
  /** The exchange's price limits for the day (its daily callback); undefined when it sets none. */
  readonly priceLimits: PriceLimits | undefined;
  /** Signed position in the instrument (+ long, − short). */
  readonly positionQty: number;
  /** Quantity still open in this instrument's working orders, by side. */
  readonly openBuyQty: number;
  readonly openSellQty: number;
  /** Working orders across all instruments. */
  readonly openOrders: number;
  /** Today's realized P&L, centavos (negative = loss). */
  readonly realizedTodayCents: number;
  readonly duplicateClientOrderId: boolean;
  readonly bucket: TokenBucket;
  readonly now: number;
}

export const RiskReason = {
  killSwitch: 'kill_switch',
  duplicateClientOrderId: 'duplicate_client_order_id',
  unknownInstrument: 'unknown_instrument',
  notTradable: 'instrument_not_tradable',
  badQuantity: 'quantity_not_lot_multiple',
  priceRequired: 'limit_price_required',
  priceOffTick: 'price_off_tick_grid',
  noReferencePrice: 'no_reference_price',
  priceBand: 'price_outside_band',
  exchangeLimits: 'price_outside_exchange_limits',
  maxOrderQty: 'max_order_quantity',
  maxOrderNotional: 'max_order_notional',
  maxPosition: 'max_position',
  maxOpenOrders: 'max_open_orders',
  dailyLoss: 'daily_loss_limit',
  rateLimited: 'submit_rate_limit',
} as const;
export type RiskReason = (typeof RiskReason)[keyof typeof RiskReason];

export type RiskResult =
  | { readonly ok: true; readonly bucket: TokenBucket; readonly notionalCents: number }
  | { readonly ok: false; readonly reason: RiskReason; readonly message: string };

const fail = (reason: RiskReason, message: string): RiskResult => ({ ok: false, reason, message });
const brl = (cents: number) => `R$ ${(cents / 100).toLocaleString('pt-BR', { minimumFractionDigits: 2 })}`;

/** The account's order submit rate as a token-bucket rate. */
export const orderRate = (cfg: RiskConfig): Rate => ({
  perSecond: cfg.ordersPerSecond,
  burst: cfg.orderBurst,
});

/** Every check, in order; the first that fails names the reason. A pass also returns the spent bucket. */
export function riskCheck(cfg: RiskConfig, req: OrderRequest, snap: RiskSnapshot): RiskResult {
  if (cfg.killSwitch)
    return fail(RiskReason.killSwitch, 'Trading is halted for this account by the risk desk');
  if (snap.duplicateClientOrderId) {
    return fail(
      RiskReason.duplicateClientOrderId,
      `Order id ${req.clientOrderId} was already used with different details`,
    );
  }
  const inst = snap.instrument;
  if (!inst) return fail(RiskReason.unknownInstrument, `${req.ticker} is not a known instrument`);
  if (!snap.tradable) return fail(RiskReason.notTradable, `${req.ticker} cannot be traded now`);
  if (!Number.isSafeInteger(req.qty) || req.qty <= 0 || req.qty % inst.lotSize !== 0) {
    return fail(
      RiskReason.badQuantity,
      `Quantity must be a positive multiple of ${inst.lotSize} for ${req.ticker}`,
    );
  }
  if (req.type === 'limit') {
    if (req.price === undefined || !Number.isFinite(req.price) || req.price <= 0) {
      return fail(RiskReason.priceRequired, 'A limit order needs a positive price');
    }
    if (!isValidPrice(req.price, inst.tickSize)) {
      return fail(RiskReason.priceOffTick, `Price must be a multiple of ${inst.tickSize} for ${req.ticker}`);
    }
  }
  const last = snap.lastPrice;
  if (last === undefined)
    return fail(RiskReason.noReferencePrice, `No trade in ${req.ticker} yet to check the price against`);
  const price = req.type === 'limit' ? (req.price as number) : last;
  if (req.type === 'limit' && (Math.abs(price - last) / last) * 100 > cfg.priceBandPct) {
    return fail(
      RiskReason.priceBand,
      `Price is more than ${cfg.priceBandPct}% away from the last trade (${last})`,
    );
  }
  const limits = snap.priceLimits;
  if (req.type === 'limit' && limits && (price < limits.min || price > limits.max)) {
    return fail(
      RiskReason.exchangeLimits,
      `Price is outside the exchange's limits for today (${limits.min} to ${limits.max}): B3 would refuse it`,
    );
  }
  if (req.qty > cfg.maxOrderQty) return fail(RiskReason.maxOrderQty, `At most ${cfg.maxOrderQty} per order`);
  const notionalCents = centavos(price, req.qty, inst);
  if (notionalCents > cfg.maxOrderNotionalCents) {
    return fail(
      RiskReason.maxOrderNotional,
      `Order value ${brl(notionalCents)} is over the ${brl(cfg.maxOrderNotionalCents)} limit`,
    );
  }
  // Worst case: every open order on this side fills too.
  const after =
    req.side === 'buy'
      ? snap.positionQty + snap.openBuyQty + req.qty
      : snap.positionQty - snap.openSellQty - req.qty;
  if (Math.abs(after) > cfg.maxPositionQty) {
    return fail(
      RiskReason.maxPosition,
      `Position in ${req.ticker} could reach ${after}; the limit is ±${cfg.maxPositionQty}`,
    );
  }
  if (snap.openOrders >= cfg.maxOpenOrders)
    return fail(RiskReason.maxOpenOrders, `At most ${cfg.maxOpenOrders} working orders`);
  const reduces = Math.abs(after) < Math.abs(snap.positionQty);
  if (-snap.realizedTodayCents >= cfg.dailyLossLimitCents && !reduces) {
    return fail(
      RiskReason.dailyLoss,
      `Daily loss limit of ${brl(cfg.dailyLossLimitCents)} reached: only orders that reduce a position`,
    );
  }
  const bucket = takeToken(snap.bucket, orderRate(cfg), snap.now);
  if (!bucket)
    return fail(RiskReason.rateLimited, `More than ${cfg.ordersPerSecond} orders per second: wait a moment`);
  return { ok: true, bucket, notionalCents };
}
