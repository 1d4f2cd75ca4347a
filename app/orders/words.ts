import { isMessageId, type Message, msg, type PlainId, type Refusal, type Text } from '../i18n/i18n.ts';

// An order's words as the blotter, the ticket and the alerts say them: the server's side, state,
// event and reject codes through the catalogue (none of them has a placeholder); a word it does
// not know yet, as the server wrote it.

export const sideText = (side: 'buy' | 'sell'): Message => msg(side === 'buy' ? 'side.buy' : 'side.sell');

export function stateText(state: string): Text {
  const id = `order.state.${state}`;
  return isMessageId(id) ? msg(id as PlainId) : state.replace('_', ' ');
}

export function eventText(event: string): Text {
  const id = `order.event.${event}`;
  return isMessageId(id) ? msg(id as PlainId) : event.replaceAll('_', ' ');
}

/** "compra 100 PETR4". */
export const orderWhat = (o: { side: 'buy' | 'sell'; qty: number | string; ticker: string }): Message =>
  msg('order.what', { side: sideText(o.side), qty: o.qty, ticker: o.ticker });

/** "Comprar 100 PETR4": the ticket's button, and what a verdict is about. */
export const buySell = (side: 'buy' | 'sell', qty: number | string, ticker: string): Message =>
  msg(side === 'buy' ? 'order.buy' : 'order.sell', { qty, ticker });

/** A reject reason code (`max_order_quantity`): the code itself where the catalogue has no words. */
export const rejectText = (code: string): Refusal => ({ code, message: code });
