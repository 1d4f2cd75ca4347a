import { useState } from 'react';
import type { OrderJson } from '../../sync-server/shared/orders.ts';
import { ApiError } from '../api/client.ts';
import { b3Time } from '../format.ts';
import { errorText, say, useT } from '../i18n/i18n.ts';
import { useDayLimits, useMarket } from '../state/market.ts';
import { useModifyOrder, useOrderEvents } from './api.ts';
import { isWorking } from './blotter.ts';
import { checkTicket } from './ticket.ts';
import { eventText, stateText } from './words.ts';

/** What an event's detail says in a few words (a reason, a new price or quantity, a fill). */
function summary(detail: unknown): string {
  if (!detail || typeof detail !== 'object') return '';
  return Object.entries(detail as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k} ${v}`)
    .join(' · ');
}

/** Under a blotter row: the order's event trail and, while it works, a change of price or quantity. */
export function OrderDetail({ order, canTrade }: { order: OrderJson; canTrade: boolean }) {
  const events = useOrderEvents(order.id);
  const t = useT();
  const modify = useModifyOrder();
  const inst = useMarket((s) => s.instruments[order.ticker]);
  const limits = useDayLimits(order.ticker);
  const [qty, setQty] = useState(String(order.qty));
  const [price, setPrice] = useState(order.price === null ? '' : String(order.price));
  // A stop still waiting is checked with its stop (the limit must stay on its side); once
  // triggered it is a limit order.
  const waiting = order.type === 'stop_limit' && order.triggeredAt === null;
  const draft = {
    ticker: order.ticker,
    side: order.side,
    type: waiting ? ('stop_limit' as const) : ('limit' as const),
    qty: Number(qty),
    price: Number(price.replace(',', '.')),
    stopPrice: order.stopPrice ?? undefined,
  };
  const problems = checkTicket(draft, inst, limits);
  const changed = draft.qty !== order.qty || draft.price !== order.price;
  const canModify = canTrade && isWorking(order) && order.type !== 'market';
  return (
    <div className="order-detail">
      <ol aria-label={t('detail.events', { id: order.clientOrderId })}>
        {(events.data ?? []).map((e) => (
          <li key={e.id}>
            <span className="time">{b3Time(e.at)}</span> <b>{say(eventText(e.event))}</b>{' '}
            <span className="muted">
              {e.fromState ? `${say(stateText(e.fromState))} → ` : ''}
              {say(stateText(e.toState))} {summary(e.detail)}
            </span>
          </li>
        ))}
        {events.isError && <li className="problem">{errorText(events.error)}</li>}
      </ol>
      {canModify && (
        <form
          className="modify"
          aria-label={t('detail.change', { id: order.clientOrderId })}
          onSubmit={(e) => {
            e.preventDefault();
            if (!changed || Object.keys(problems).length > 0) return;
            const patch = {
              ...(draft.qty !== order.qty ? { qty: draft.qty } : {}),
              ...(draft.price !== order.price ? { price: draft.price } : {}),
            };
            modify.mutate({ id: order.id, patch });
          }}
        >
          <label>
            {t('detail.quantity')}
            <input
              inputMode="numeric"
              value={qty}
              onChange={(e) => setQty(e.target.value.replace(/\D/g, ''))}
            />
          </label>
          <label>
            {t('detail.price')}
            <input
              inputMode="decimal"
              value={price}
              onChange={(e) => setPrice(e.target.value.replace(/[^\d.,]/g, ''))}
            />
          </label>
          <button type="submit" disabled={!changed || Object.keys(problems).length > 0 || modify.isPending}>
            {t('detail.submit')}
          </button>
          {(problems.qty ?? problems.price) && (
            <span className="problem">{problems.qty ?? problems.price}</span>
          )}
          {modify.isError && (
            <span className="problem" role="alert">
              {modify.error instanceof ApiError ? `${modify.error.code}: ` : ''}
              {errorText(modify.error)}
            </span>
          )}
          {modify.isSuccess && <span role="status">{t('detail.requested')}</span>}
        </form>
      )}
    </div>
  );
}
