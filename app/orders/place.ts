import { ApiError } from '../api/client.ts';
import { msg, type Text } from '../i18n/i18n.ts';
import { type NewOrder, sendOrder } from './api.ts';
import { useOutbox } from './outbox.ts';
import { buySell, stateText } from './words.ts';

/** What became of an order a trader placed, as the ticket and the ladder tell it. */
export type Placed = {
  kind: 'ok' | 'error' | 'outbox';
  text: Text;
  /** An order the server took: its verdict follows the order's state as it moves on. */
  sent?: { clientOrderId: string; what: Text };
};

/**
 * Sends an order from the ticket or the ladder. Offline (or no answer from the server) it waits
 * in the outbox for the trader to confirm it: never sent by itself. A refusal names its code.
 */
export async function placeOrder(
  order: NewOrder,
  opts: { offline: boolean; outboxMinutes: number },
): Promise<Placed> {
  const what = buySell(order.side, order.qty, order.ticker);
  if (opts.offline) {
    await useOutbox.getState().add(order, opts.outboxMinutes);
    return { kind: 'outbox', text: msg('place.offline', { what }) };
  }
  try {
    const o = await sendOrder(order);
    return {
      kind: 'ok',
      text: msg('place.sent', { what, state: stateText(o.state) }),
      sent: { clientOrderId: order.clientOrderId, what },
    };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'offline') {
      await useOutbox.getState().add(order, opts.outboxMinutes);
      return { kind: 'outbox', text: msg('place.noAnswer', { what }) };
    }
    const e = err as ApiError;
    const code = e.code ?? 'error';
    return {
      kind: 'error',
      text: msg('place.refused', { what, code, reason: { code, message: e.message } }),
    };
  }
}

/** A verdict's words now: a sent order's with the state the blotter has for it. */
export function verdictText(v: Placed, orders: readonly { clientOrderId: string; state: string }[]): Text {
  const now = v.sent && orders.find((o) => o.clientOrderId === v.sent?.clientOrderId);
  return now && v.sent ? msg('place.sent', { what: v.sent.what, state: stateText(now.state) }) : v.text;
}
