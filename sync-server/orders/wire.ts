import type { Instrument } from '../shared/instruments.ts';
import {
  type BracketJson,
  netPnl,
  type OrderJson,
  type Position,
  type PositionJson,
  unrealizedCents,
} from '../shared/orders.ts';
import type { Bracket } from './brackets.ts';
import type { OrderRow } from './model.ts';
import type { VenuePosition } from './ports.ts';
import { averagePrice, heldPosition } from './positions.ts';

// Orders and positions as REST answers and the account push show them: one shape for both.

export const orderJson = (o: OrderRow): OrderJson => ({
  id: o.id,
  accountId: o.accountId,
  clientOrderId: o.clientOrderId,
  ticker: o.ticker,
  side: o.side,
  type: o.type,
  qty: o.qty,
  price: o.price,
  stopPrice: o.stopPrice,
  triggeredAt: o.triggeredAt,
  state: o.state,
  filledQty: o.filledQty,
  avgFillPrice: o.avgFillPrice,
  localOrderId: o.localOrderId?.toString() ?? null,
  rejectReason: o.rejectReason,
  createdAt: o.createdAt,
  updatedAt: o.updatedAt,
  external: o.origin === 'external',
});

/** The position as REST and the push show it: held (the broker's once read), beside Tape's count. */
export function positionJson(
  ticker: string,
  own: Position,
  inst: Instrument,
  mark: number | undefined,
  broker: VenuePosition | undefined,
): PositionJson {
  const p = heldPosition(own, broker, inst);
  const unrealized = mark === undefined ? null : unrealizedCents(p, mark, inst);
  return {
    ticker,
    qty: p.qty,
    averagePrice: averagePrice(p, inst) ?? null,
    costCents: p.costCents,
    tapeQty: own.qty,
    broker: broker ? { qty: broker.qty, averagePrice: broker.qty === 0 ? null : broker.averagePrice } : null,
    outside: p !== own,
    realizedCents: p.realizedCents,
    lastPrice: mark ?? null,
    unrealizedCents: unrealized,
    costsCents: p.costsCents,
    netCents: netPnl(p, unrealized),
  };
}

/** A bracket as REST and the push show it (whose user it is stays on the server). */
export const bracketJson = ({ userId: _, ...b }: Bracket): BracketJson => b;
