// B3 trading rules Tape needs to validate prices and quantities.

export type Exchange = 'B' | 'F';

export interface Instrument {
  readonly ticker: string;
  readonly exchange: Exchange;
  /** Minimum price increment. */
  readonly tickSize: number;
  /** Quantities are positive multiples of this. */
  readonly lotSize: number;
  /** Decimals needed to print a price on this instrument's grid. */
  readonly priceDecimals: number;
  /** BRL per price point per unit: 1 for stocks, R$0.20 per point for WIN, R$10 for WDO. */
  readonly multiplier: number;
}

const FUTURE_MONTH = '[FGHJKMNQUVXZ]';
const RULES: readonly {
  pattern: RegExp;
  exchange: Exchange;
  tickSize: number;
  lotSize: number;
  multiplier: number;
}[] = [
  {
    pattern: new RegExp(`^WIN${FUTURE_MONTH}\\d{2}$`),
    exchange: 'F',
    tickSize: 5,
    lotSize: 1,
    multiplier: 0.2,
  },
  {
    pattern: new RegExp(`^IND${FUTURE_MONTH}\\d{2}$`),
    exchange: 'F',
    tickSize: 5,
    lotSize: 1,
    multiplier: 1,
  },
  {
    pattern: new RegExp(`^WDO${FUTURE_MONTH}\\d{2}$`),
    exchange: 'F',
    tickSize: 0.5,
    lotSize: 1,
    multiplier: 10,
  },
  {
    pattern: new RegExp(`^DOL${FUTURE_MONTH}\\d{2}$`),
    exchange: 'F',
    tickSize: 0.5,
    lotSize: 1,
    multiplier: 50,
  },
  // Fractional market: the stock's ticker plus F, any quantity.
  { pattern: /^[A-Z]{4}\d{1,2}F$/, exchange: 'B', tickSize: 0.01, lotSize: 1, multiplier: 1 },
  // Standard market: round lots of 100.
  { pattern: /^[A-Z]{4}\d{1,2}$/, exchange: 'B', tickSize: 0.01, lotSize: 100, multiplier: 1 },
];

const decimalsOf = (x: number) => {
  const s = String(x);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
};

/** The instrument for a ticker on B3, or undefined when Tape does not know its rules. */
export function instrumentFor(ticker: string, exchange: string): Instrument | undefined {
  const rule = RULES.find((r) => r.pattern.test(ticker));
  if (!rule || rule.exchange !== exchange) return undefined;
  return Object.freeze({
    ticker,
    exchange: rule.exchange,
    tickSize: rule.tickSize,
    lotSize: rule.lotSize,
    priceDecimals: decimalsOf(rule.tickSize),
    multiplier: rule.multiplier,
  });
}

/** True when `price` is a whole number of ticks (within float noise). */
export function onTickGrid(price: number, tickSize: number): boolean {
  const ticks = price / tickSize;
  return Math.abs(ticks - Math.round(ticks)) < 1e-6;
}

/** Price in integer ticks: the exact form prices are compared and stored in. */
export const toTicks = (price: number, tickSize: number) => Math.round(price / tickSize);

/** Finite, at least one tick, and on the grid: the one test of a price wherever one arrives. */
export const isValidPrice = (price: number, tickSize: number) =>
  Number.isFinite(price) && toTicks(price, tickSize) >= 1 && onTickGrid(price, tickSize);

/** Money in integer centavos for `qty` units at `price`: the one rounding rule for notionals and P&L. */
export const centavos = (price: number, qty: number, inst: Pick<Instrument, 'multiplier'>) =>
  Math.round(price * qty * inst.multiplier * 100);
