import { ApiError } from '../api/client.ts';
import { type NewOrder, sendOrder } from './api.ts';
import { useOutbox } from './outbox.ts';

/** What became of an order a trader placed, as the ticket and the ladder tell it. */
export type Placed = { kind: 'ok' | 'error' | 'outbox'; text: string };

/**
 * Sends an order from the ticket or the ladder. Offline (or no answer from the server) it waits
 * in the outbox for the trader to confirm it: never sent by itself. A refusal names its code.
 */
export async function placeOrder(
  order: NewOrder,
  opts: { offline: boolean; outboxMinutes: number },
): Promise<Placed> {
  const what = `${order.side === 'buy' ? 'Buy' : 'Sell'} ${order.qty} ${order.ticker}`;
  if (opts.offline) {
    await useOutbox.getState().add(order, opts.outboxMinutes);
    return { kind: 'outbox', text: `${what}: offline, saved to the outbox (not sent)` };
  }
  try {
    const o = await sendOrder(order);
    return { kind: 'ok', text: `${what}: ${o.state.replace('_', ' ')}` };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'offline') {
      await useOutbox.getState().add(order, opts.outboxMinutes);
      return { kind: 'outbox', text: `${what}: no answer from the server, kept in the outbox` };
    }
    const e = err as ApiError;
    return { kind: 'error', text: `${what} refused — ${e.code ?? 'error'}: ${e.message}` };
  }
}
