import { price as priceText } from '../shared/format.ts';
import { centavos, type Instrument, isValidPrice } from '../shared/instruments.ts';
import type { OrderType, RiskConfig } from '../shared/orders.ts';
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

/** An account's risk config: the stored settings over the defaults. */
export const riskConfig = async (
  store: { riskConfig(accountId: string): Promise<unknown | undefined> },
  account: string,
): Promise<RiskConfig> => ({
  ...DEFAULT_RISK,
  ...((await store.riskConfig(account)) as Partial<RiskConfig> | undefined),
});

export type Side = 'buy' | 'sell';
export type { OrderType };

export interface OrderRequest {
  readonly clientOrderId: string;
  readonly ticker: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly qty: number;
  /** Limit price; absent for market orders. */
  readonly price?: number | undefined;
  /** A stop-limit's stop price (it triggers on a trade at or through it); only for stop_limit. */
  readonly stopPrice?: number | undefined;
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
  /**
   * Today's realized P&L less today's costs (brokerage and B3 fees), centavos (negative = loss):
   * what the daily loss limit measures, as the trader's statement will.
   */
  readonly dayNetCents: number;
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
  stopPriceRequired: 'stop_price_required',
  stopPriceOffTick: 'stop_price_off_tick_grid',
  stopLimitInverted: 'stop_limit_inverted',
  stopPriceNotStop: 'stop_price_only_for_stop_limit',
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
  const limited = req.type === 'limit' || req.type === 'stop_limit';
  if (limited) {
    if (req.price === undefined || !Number.isFinite(req.price) || req.price <= 0) {
      return fail(RiskReason.priceRequired, `A ${req.type.replace('_', '-')} order needs a positive price`);
    }
    if (!isValidPrice(req.price, inst.tickSize)) {
      return fail(
        RiskReason.priceOffTick,
        `Price must be a multiple of ${priceText(inst.tickSize, inst.priceDecimals)} for ${req.ticker}`,
      );
    }
  }
  const stop = req.stopPrice;
  if (req.type !== 'stop_limit' && stop !== undefined)
    return fail(RiskReason.stopPriceNotStop, `A ${req.type} order has no stop price: send a stop_limit`);
  if (req.type === 'stop_limit') {
    if (stop === undefined || !Number.isFinite(stop) || stop <= 0)
      return fail(RiskReason.stopPriceRequired, 'A stop-limit order needs a positive stop price');
    if (!isValidPrice(stop, inst.tickSize))
      return fail(
        RiskReason.stopPriceOffTick,
        `Stop price must be a multiple of ${priceText(inst.tickSize, inst.priceDecimals)} for ${req.ticker}`,
      );
    // B3's convention: the limit caps what a triggered stop pays (buy) or takes (sell).
    if (req.side === 'buy' ? (req.price as number) < stop : (req.price as number) > stop)
      return fail(
        RiskReason.stopLimitInverted,
        req.side === 'buy'
          ? 'A buy stop-limit needs its limit price at or above its stop price'
          : 'A sell stop-limit needs its limit price at or below its stop price',
      );
  }
  const last = snap.lastPrice;
  if (last === undefined)
    return fail(RiskReason.noReferencePrice, `No trade in ${req.ticker} yet to check the price against`);
  // What the order pays: the limit (the last trade for a market order); what the fat-finger band
  // measures: the price that makes it trade, a stop-limit's stop.
  const price = limited ? (req.price as number) : last;
  const banded = req.type === 'stop_limit' ? (stop as number) : price;
  if (limited && (Math.abs(banded - last) / last) * 100 > cfg.priceBandPct) {
    return fail(
      RiskReason.priceBand,
      `${req.type === 'stop_limit' ? 'Stop price' : 'Price'} is more than ${cfg.priceBandPct}% away from the last trade (${priceText(last, inst.priceDecimals)})`,
    );
  }
  const limits = snap.priceLimits;
  const outside = (p: number) => limits !== undefined && (p < limits.min || p > limits.max);
  if (limited && limits && (outside(price) || (req.type === 'stop_limit' && outside(stop as number)))) {
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
  if (-snap.dayNetCents >= cfg.dailyLossLimitCents && !reduces) {
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
