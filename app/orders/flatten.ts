import type { OrderJson } from '../../sync-server/shared/orders.ts';
import { ApiError, api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { queryClient } from '../api/queryClient.ts';
import { msg, type Text } from '../i18n/i18n.ts';
import { useOutbox } from './outbox.ts';
import type { Placed } from './place.ts';
import { newClientOrderId } from './ticket.ts';
import { buySell } from './words.ts';

// Flatten (zerar) and reverse (inverter) from the positions panel and their hotkeys: the server
// cancels the ticker's working orders, waits for them to close, then sends one market order for
// the position (twice it to reverse). Offline, the request waits in the outbox like an order.

export interface FlattenRequest {
  /** The market order's id; per ticker `<id>.<ticker>` when the whole account is flattened. */
  readonly clientOrderId: string;
  /** Absent: every ticker of the account. */
  readonly ticker?: string;
  readonly reverse: boolean;
}

export interface FlattenAnswer {
  readonly positions: ReadonlyArray<{
    readonly ticker: string;
    readonly positionQty: number;
    readonly order: OrderJson | null;
  }>;
}

export const flattenRequest = (ticker: string | undefined, reverse: boolean): FlattenRequest => ({
  clientOrderId: newClientOrderId(),
  ...(ticker === undefined ? {} : { ticker }),
  reverse,
});

/** What the request will do, as the confirmation and the outbox say it. */
export function flattenWhat(r: { ticker?: string; reverse: boolean }, positionQty?: number): Text {
  if (r.ticker === undefined) return msg('flatten.whatAll');
  if (positionQty === undefined || positionQty === 0)
    return msg(r.reverse ? 'flatten.whatReverse' : 'flatten.what', { ticker: r.ticker });
  const qty = Math.abs(positionQty) * (r.reverse ? 2 : 1);
  return msg(r.reverse ? 'flatten.whatReverseQty' : 'flatten.whatQty', {
    ticker: r.ticker,
    order: buySell(positionQty > 0 ? 'sell' : 'buy', qty, r.ticker),
  });
}

export async function sendFlatten(r: FlattenRequest): Promise<FlattenAnswer> {
  try {
    return await api<FlattenAnswer>('/api/v1/positions/flatten', { body: r });
  } finally {
    void queryClient.invalidateQueries({ queryKey: keys.orders() });
    void queryClient.invalidateQueries({ queryKey: keys.positions() });
  }
}

/** Sends a flatten; offline (or no answer) it waits in the outbox for the trader's confirm. */
export async function placeFlatten(
  r: FlattenRequest,
  opts: { offline: boolean; outboxMinutes: number },
): Promise<Placed> {
  const what = flattenWhat(r);
  if (opts.offline) {
    await useOutbox.getState().addFlatten(r, opts.outboxMinutes);
    return { kind: 'outbox', text: msg('flatten.offline', { what }) };
  }
  try {
    const answer = await sendFlatten(r);
    const sent = answer.positions.filter((p) => p.order !== null).length;
    return { kind: 'ok', text: msg('flatten.sent', { what, count: sent }) };
  } catch (err) {
    if (err instanceof ApiError && err.code === 'offline') {
      await useOutbox.getState().addFlatten(r, opts.outboxMinutes);
      return { kind: 'outbox', text: msg('flatten.noAnswer', { what }) };
    }
    const e = err as ApiError;
    const code = e.code ?? 'error';
    return { kind: 'error', text: msg('flatten.refused', { what, reason: { code, message: e.message } }) };
  }
}
