import { centavos, type Instrument } from '../shared/instruments.ts';
import type { Position } from '../shared/orders.ts';

// Positions and P&L from fills, in integer centavos so every identity holds to the cent:
// realized + unrealized = (sell proceeds − buy costs) + marked value of what is still held.

export interface Fill {
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly price: number;
}

export const FLAT: Position = Object.freeze({ qty: 0, costCents: 0, realizedCents: 0, costsCents: 0 });

/**
 * The position after one fill. Closing units take their share of the cost basis. The costs the
 * fill is charged are the account book's to add (costs.ts): they are carried through unchanged.
 */
export function applyFill(p: Position, fill: Fill, inst: Instrument): Position {
  if (!Number.isSafeInteger(fill.qty) || fill.qty <= 0) throw new RangeError(`fill quantity ${fill.qty}`);
  const dir = fill.side === 'buy' ? 1 : -1;
  const value = centavos(fill.price, fill.qty, inst);
  // The part of the fill that reduces an opposite position, then the part that opens or adds.
  const closing = Math.sign(p.qty) === -dir ? Math.min(fill.qty, Math.abs(p.qty)) : 0;
  if (closing === 0) {
    return {
      qty: p.qty + dir * fill.qty,
      costCents: p.costCents + dir * value,
      realizedCents: p.realizedCents,
      costsCents: p.costsCents,
    };
  }
  const closingValue = centavos(fill.price, closing, inst);
  const removedCost = Math.round((p.costCents * closing) / Math.abs(p.qty));
  // Long closed by a sell: proceeds − cost; short closed by a buy: (−cost) − price paid.
  const realized = -dir * closingValue - removedCost;
  const opening = fill.qty - closing;
  const openingValue = value - closingValue;
  return {
    qty: p.qty + dir * fill.qty,
    costCents: p.costCents - removedCost + dir * (opening > 0 ? openingValue : 0),
    realizedCents: p.realizedCents + realized,
    costsCents: p.costsCents,
  };
}

/** Average entry price of the open quantity, or undefined when flat. */
export const averagePrice = (p: Position, inst: Instrument) =>
  p.qty === 0 ? undefined : p.costCents / 100 / inst.multiplier / p.qty;

/**
 * The position held, as shown and marked: Tape's own when the broker agrees (or was not read),
 * else the broker's quantity at the broker's average price (its figure includes trades made
 * outside Tape). Realized P&L and costs stay those of Tape's own fills: the broker's are not known.
 */
export function heldPosition(
  own: Position,
  broker: { readonly qty: number; readonly averagePrice: number } | undefined,
  inst: Instrument,
): Position {
  if (!broker) return own;
  const ownAverage = averagePrice(own, inst) ?? 0;
  if (
    broker.qty === own.qty &&
    (own.qty === 0 || Math.abs(broker.averagePrice - ownAverage) < inst.tickSize / 2)
  )
    return own;
  const basis = centavos(broker.averagePrice, Math.abs(broker.qty), inst);
  return { ...own, qty: broker.qty, costCents: Math.sign(broker.qty) * basis };
}

export interface Exposure {
  /** Σ |marked value| over instruments, centavos. */
  readonly grossCents: number;
  /** Σ signed marked value, centavos. */
  readonly netCents: number;
  readonly realizedCents: number;
  readonly unrealizedCents: number;
  /** Σ brokerage and fees the positions' fills were charged, centavos. */
  readonly costsCents: number;
}

/** The account-wide summary of positions marked to the last trades. */
export function exposure(
  positions: readonly { position: Position; mark: number | undefined; inst: Instrument }[],
): Exposure {
  let grossCents = 0;
  let netCents = 0;
  let realized = 0;
  let unrealized = 0;
  let costs = 0;
  for (const { position: p, mark, inst } of positions) {
    realized += p.realizedCents;
    costs += p.costsCents;
    if (p.qty === 0) continue;
    // Without a trade yet, the position is carried at cost.
    const marked =
      mark === undefined ? p.costCents : Math.sign(p.qty) * centavos(mark, Math.abs(p.qty), inst);
    grossCents += Math.abs(marked);
    netCents += marked;
    unrealized += marked - p.costCents;
  }
  return { grossCents, netCents, realizedCents: realized, unrealizedCents: unrealized, costsCents: costs };
}
