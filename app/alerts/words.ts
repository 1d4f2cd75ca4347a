import type {
  AlertExpiry,
  AlertFiringJson,
  AlertJson,
  AlertKind,
  AlertStatus,
  OrderAlertEvent,
} from '../../sync-server/shared/alerts.ts';
import { b3DateTime, price, quantity } from '../format.ts';
import { type Message, msg, type PlainId, type Text } from '../i18n/i18n.ts';

// An alert in words, as the Alerts screen, the dialog and a firing's notice say it. Prices stay
// as B3 writes them (38,50; 128.050) in either language; the words around them follow it.

/** An alert's condition: the server's (AlertJson) or one still on this device (NewAlertJson). */
interface Condition {
  readonly kind: AlertKind;
  readonly ticker?: string | null;
  readonly threshold?: number | null;
  readonly orderEvents?: readonly OrderAlertEvent[] | null;
}

/** What the create form's kind select says of each kind. */
export const KIND_WORDS: Readonly<Record<AlertKind, PlainId>> = {
  price_above: 'priceAlerts.kind.price_above',
  price_below: 'priceAlerts.kind.price_below',
  change_above: 'priceAlerts.kind.change_above',
  change_below: 'priceAlerts.kind.change_below',
  volume_above: 'priceAlerts.kind.volume_above',
  order: 'priceAlerts.kind.order',
};

const EVENT_WORDS: Readonly<Record<OrderAlertEvent, PlainId>> = {
  filled: 'priceAlerts.event.filled',
  partially_filled: 'priceAlerts.event.partially_filled',
  rejected: 'priceAlerts.event.rejected',
  cancelled: 'priceAlerts.event.cancelled',
};

/** An alert the server has, or one held on this device until it is back online. */
export type ShownStatus = AlertStatus | 'held';

const STATUS_WORDS: Readonly<Record<ShownStatus, PlainId>> = {
  active: 'priceAlerts.status.active',
  paused: 'priceAlerts.status.paused',
  fired: 'priceAlerts.status.fired',
  expired: 'priceAlerts.status.expired',
  held: 'priceAlerts.status.held',
};

const NOTIFIED_WORDS: Readonly<Record<AlertFiringJson['notified'], PlainId>> = {
  sent: 'priceAlerts.notified.sent',
  quiet: 'priceAlerts.notified.quiet',
  rate: 'priceAlerts.notified.rate',
  none: 'priceAlerts.notified.none',
};

export const isPriceKind = (k: AlertKind): k is 'price_above' | 'price_below' =>
  k === 'price_above' || k === 'price_below';
export const isChangeKind = (k: AlertKind): k is 'change_above' | 'change_below' =>
  k === 'change_above' || k === 'change_below';

export const orderEventText = (e: OrderAlertEvent): Message => msg(EVENT_WORDS[e]);
export const statusText = (s: ShownStatus): Message => msg(STATUS_WORDS[s]);
export const notifiedText = (n: AlertFiringJson['notified']): Message => msg(NOTIFIED_WORDS[n]);

/** A change in percent with its sign: "+3,00 %", "-2,50 %". */
export const percentText = (v: number) => `${v > 0 ? '+' : ''}${price(v)} %`;

/** Texts one after the other, "executada, rejeitada", said in the language of the moment. */
export function listText(items: readonly Text[]): Text {
  const [first = '', ...rest] = items;
  return rest.reduce<Text>((head, tail) => msg('priceAlerts.list', { head, tail }), first);
}

/** "PETR4 acima de 38,50", "VALE3 variação ≥ +3,00 %", "Ordens: executada, rejeitada". */
export function conditionText(c: Condition, digits = 2): Message {
  const ticker = c.ticker ?? '';
  const v = c.threshold ?? 0;
  switch (c.kind) {
    case 'price_above':
      return msg('priceAlerts.cond.price_above', { ticker, level: price(v, digits) });
    case 'price_below':
      return msg('priceAlerts.cond.price_below', { ticker, level: price(v, digits) });
    case 'change_above':
      return msg('priceAlerts.cond.change_above', { ticker, level: percentText(v) });
    case 'change_below':
      return msg('priceAlerts.cond.change_below', { ticker, level: percentText(v) });
    case 'volume_above':
      return msg('priceAlerts.cond.volume_above', { ticker, level: quantity(v) });
    case 'order': {
      const events = listText((c.orderEvents ?? []).map(orderEventText));
      return !c.ticker
        ? msg('priceAlerts.cond.order', { events })
        : msg('priceAlerts.cond.orderOf', { ticker, events });
    }
  }
}

/** A cooldown as a trader reads it: "30 s", "5 min", "1 h 30 min". */
export function cooldownText(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [h ? `${h} h` : '', m ? `${m} min` : '', s ? `${s} s` : ''].filter(Boolean);
  return parts.length ? parts.join(' ') : '0 s';
}

/** "uma vez", "repete, intervalo de 5 min", "a cada evento" (an order alert without a cooldown). */
export function repeatText(a: Pick<AlertJson, 'repeat' | 'cooldownS'>): Message {
  if (!a.repeat) return msg('priceAlerts.once');
  return a.cooldownS > 0
    ? msg('priceAlerts.repeats', { cooldown: cooldownText(a.cooldownS) })
    : msg('priceAlerts.everyTime');
}

/** "fim do pregão (02/12/2026, 18:30)", "em 20/12/2026, 18:00", "nunca", in Brasília time. */
export function expiryText(e: AlertExpiry): Message {
  if (e.kind === 'never') return msg('priceAlerts.expiry.neverIs');
  const at = b3DateTime(e.at);
  return e.kind === 'session'
    ? msg('priceAlerts.expiry.sessionAt', { at })
    : msg('priceAlerts.expiry.dateAt', { at });
}

const FIRED_AT = new Intl.DateTimeFormat('pt-BR', {
  timeZone: 'America/Sao_Paulo',
  dateStyle: 'short',
  timeStyle: 'medium',
});
/** When a firing happened, Brasília time to the second: "02/12/2026, 10:32:15". */
export const firedAtText = (at: string) => FIRED_AT.format(new Date(at));

/** What a firing measured beside its price: the change, the session's volume, the order's id. */
export function firingValue(f: AlertFiringJson): Text {
  if (f.kind === 'order') return f.orderId === null ? '—' : `#${f.orderId}`;
  if (f.value === null) return '—';
  if (isChangeKind(f.kind)) return percentText(f.value);
  if (f.kind === 'volume_above') return quantity(f.value);
  return '—';
}
