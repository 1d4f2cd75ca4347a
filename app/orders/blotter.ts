import {
  type BracketJson,
  type OrderJson,
  type OrderState,
  TERMINAL,
} from '../../sync-server/shared/orders.ts';

/** An order the ticket sent that the server has not answered yet: shown, never counted as live. */
export const SENDING = 'sending';

/**
 * Folds one order report into the blotter list (newest first). The report replaces the row
 * with the same id, or the optimistic row with the same client order id; an older report
 * (by `updatedAt`) never overwrites a newer one, so pushes and fetches can arrive in any order.
 */
export function upsertOrder(list: readonly OrderJson[], order: OrderJson): OrderJson[] {
  const i = list.findIndex(
    (o) => o.id === order.id || (o.state === SENDING && o.clientOrderId === order.clientOrderId),
  );
  if (i < 0) return [order, ...list];
  const prev = list[i] as OrderJson;
  if (prev.state !== SENDING && prev.updatedAt > order.updatedAt) return list as OrderJson[];
  const next = list.slice();
  next[i] = order;
  return next;
}

/** At the exchange and cancellable: neither still being sent nor finished. */
export const isWorking = (o: OrderJson) => o.state !== SENDING && !TERMINAL.has(o.state as OrderState);

/** A bracket's change into the list (a new one first; an older report never overwrites a newer). */
export const upsertBracket = (list: readonly BracketJson[], b: BracketJson): BracketJson[] =>
  list.some((x) => x.id === b.id)
    ? list.map((x) => (x.id === b.id && x.updatedAt <= b.updatedAt ? b : x))
    : [b, ...list];
