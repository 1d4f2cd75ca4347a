import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { BROKER_CONNECTED } from '../../sync-server/shared/market.ts';
import type { OrderType } from '../../sync-server/shared/orders.ts';
import { price as fmt, parsePrice } from '../format.ts';
import { errorText, type PlainId, say, useT } from '../i18n/i18n.ts';
import { KeyList } from '../screens/KeyList.tsx';
import { useDayLimits, useMarket } from '../state/market.ts';
import { useSession } from '../state/session.ts';
import { useSettings } from '../state/settings.ts';
import { useUi } from '../state/ui.ts';
import { useOrders } from './api.ts';
import { placeBracket, readBracketPrices } from './bracket.ts';
import { type Placed, placeOrder, verdictText } from './place.ts';
import {
  checkTicket,
  newClientOrderId,
  stepPrice,
  stepQty,
  type TicketDraft,
  ticketSummary,
} from './ticket.ts';
import { buySell } from './words.ts';

/** The shortcuts, shown on the ticket itself so nobody has to remember them. */
export const TICKET_KEYS: ReadonlyArray<[string, PlainId]> = [
  ['F2 / F3', 'ticket.key.new'],
  ['Alt+B / Alt+S', 'ticket.key.side'],
  ['Alt+L / Alt+M / Alt+T', 'ticket.key.type'],
  ['↑ ↓', 'ticket.key.step'],
  ['PgUp PgDn', 'ticket.key.page'],
  ['Enter', 'ticket.key.send'],
  ['Esc', 'ticket.key.clear'],
];

type Verdict = Placed | undefined;

/** The ticket's order types, with their words and their Alt key. */
const TYPES: ReadonlyArray<[OrderType, PlainId, string]> = [
  ['limit', 'ticket.limit', 'l'],
  ['market', 'ticket.market', 'm'],
  ['stop_limit', 'ticket.stopLimit', 't'],
];

export function OrderTicket() {
  const t = useT();
  const tickers = useMarket((s) => s.tickers);
  const selected = useUi((s) => s.ticker);
  const request = useUi((s) => s.ticketRequest);
  const role = useSession((s) => s.user?.role);
  const link = useMarket((s) => s.link);
  // Routing in use and the broker not connected (TStateCallback ROUTING ≠ 5): the server takes no
  // order until it is back and the account has been read again. Offline, the outbox takes them.
  const routing = useMarket((s) => s.connector?.routing);
  const brokerDown = routing != null && routing !== BROKER_CONNECTED && link !== 'offline';
  const outboxMinutes = useSettings((s) => s.outboxMinutes);
  const confirmOrders = useSettings((s) => s.confirmOrders);
  const ticker = selected ?? tickers[0] ?? '';
  const inst = useMarket((s) => s.instruments[ticker]);
  const last = useMarket((s) => s.quotes[ticker]?.last);
  const { minLimit, maxLimit } = useDayLimits(ticker);
  const [side, setSide] = useState<'buy' | 'sell'>('buy');
  const [type, setType] = useState<OrderType>('limit');
  const [qty, setQty] = useState('');
  const [price, setPrice] = useState('');
  const [stopPrice, setStopPrice] = useState('');
  const [busy, setBusy] = useState(false);
  const [armed, setArmed] = useState(false);
  const [verdict, setVerdict] = useState<Verdict>();
  const qtyRef = useRef<HTMLInputElement>(null);
  // An OCO bracket with the entry (limit or market): take-profit, stop trigger and stop limit.
  const [oco, setOco] = useState(false);
  const [ocoPrices, setOcoPrices] = useState<[string, string, string]>(['', '', '']);
  const withOco = oco && type !== 'stop_limit';

  // A new instrument starts from one lot at the last price (not on every trade).
  useEffect(() => {
    if (!inst) return;
    setQty(String(inst.lotSize));
    setPrice(last === undefined ? '' : fmt(last, inst.priceDecimals));
    setStopPrice(last === undefined ? '' : fmt(last, inst.priceDecimals));
    setArmed(false);
  }, [inst]);

  useEffect(() => {
    if (!request) return;
    setSide(request.side);
    qtyRef.current?.focus();
    qtyRef.current?.select();
  }, [request]);

  const read = (text: string) => (text === '' ? undefined : parsePrice(text, inst?.priceDecimals, last));
  const draft: TicketDraft = {
    ticker,
    side,
    type,
    qty: Number(qty),
    price: type === 'market' ? undefined : read(price),
    ...(type === 'stop_limit' ? { stopPrice: read(stopPrice) } : {}),
  };
  const problems = checkTicket(draft, inst, { minLimit, maxLimit });
  const orders = useOrders().data?.orders ?? [];
  // A confirm restates what it sends: a change after arming asks again.
  const summary = ticketSummary(draft, inst?.priceDecimals);
  const restated = JSON.stringify([summary, withOco && ocoPrices]);
  useEffect(() => setArmed(false), [restated]);
  const valid = Object.keys(problems).length === 0;
  const canTrade = role === 'admin' || role === 'trader';

  async function submit() {
    if (!valid || busy || !canTrade || brokerDown) return;
    const bracket = withOco ? readBracketPrices(ocoPrices, inst, last) : undefined;
    if (bracket && 'problem' in bracket) return setVerdict({ kind: 'error', text: bracket.problem });
    if (confirmOrders && !armed) return setArmed(true);
    setArmed(false);
    const order = { clientOrderId: newClientOrderId(), ...draft };
    setBusy(true);
    try {
      if (bracket && draft.type !== 'stop_limit') {
        const { clientOrderId, side, qty, price } = order;
        const entry = { side, type: draft.type, qty, ...(price === undefined ? {} : { price }) };
        const placed = await placeBracket({ clientId: clientOrderId, ticker, entry, ...bracket });
        return setVerdict({ kind: placed.held ? 'outbox' : 'ok', text: placed.text });
      }
      setVerdict(
        await placeOrder(order, { offline: !navigator.onLine || link === 'offline', outboxMinutes }),
      );
    } catch (err) {
      setVerdict({ kind: 'error', text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  function onKey(e: KeyboardEvent<HTMLFormElement>) {
    const key = e.key.toLowerCase();
    const typed = TYPES.find(([, , k]) => k === key);
    if (e.altKey && (key === 'b' || key === 's' || typed)) {
      e.preventDefault();
      if (key === 'b' || key === 's') setSide(key === 'b' ? 'buy' : 'sell');
      else if (typed) setType(typed[0]);
      return;
    }
    if (e.key === 'Escape') {
      e.preventDefault();
      setArmed(false);
      setVerdict(undefined);
      if (inst) {
        setQty(String(inst.lotSize));
        const at = last === undefined ? '' : fmt(last, inst.priceDecimals);
        setPrice(at);
        setStopPrice(at);
      }
      return;
    }
    const steps = { ArrowUp: 1, ArrowDown: -1, PageUp: 10, PageDown: -10 }[e.key];
    const field = (e.target as HTMLElement).dataset.field;
    if (!steps || !inst || !field) return;
    e.preventDefault();
    if (field === 'qty') setQty(String(stepQty(Number(qty) || 0, inst, steps)));
    else {
      const [text, set] = field === 'stopPrice' ? [stopPrice, setStopPrice] : [price, setPrice];
      const typed = parsePrice(text, inst.priceDecimals, last);
      const from = Number.isFinite(typed) && typed > 0 ? typed : (last ?? inst.tickSize);
      set(fmt(stepPrice(from, inst, steps), inst.priceDecimals));
    }
  }

  return (
    <section className="panel ticket" aria-labelledby="ticket-title">
      <h2 id="ticket-title">{t('ticket.title')}</h2>
      <form
        onKeyDown={onKey}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <fieldset className="seg">
          <legend className="sr-only">{t('ticket.side')}</legend>
          {(['buy', 'sell'] as const).map((s) => (
            <button
              key={s}
              type="button"
              aria-pressed={side === s}
              className={`side-${s}${side === s ? ' on' : ''}`}
              onClick={() => setSide(s)}
            >
              {s === 'buy' ? t('ticket.buy') : t('ticket.sell')}
            </button>
          ))}
        </fieldset>
        <label>
          {t('ticket.ticker')}
          <select value={ticker} onChange={(e) => useUi.getState().selectTicker(e.target.value)}>
            {tickers.map((tk) => (
              <option key={tk}>{tk}</option>
            ))}
          </select>
          {problems.ticker && <span className="problem">{problems.ticker}</span>}
        </label>
        <fieldset className="seg">
          <legend className="sr-only">{t('ticket.type')}</legend>
          {TYPES.map(([k, label]) => (
            <button
              key={k}
              type="button"
              aria-pressed={type === k}
              className={type === k ? 'on' : ''}
              onClick={() => setType(k)}
            >
              {t(label)}
            </button>
          ))}
        </fieldset>
        <label>
          {t('ticket.quantity')} {inst && <small>{t('ticket.lot', { lot: inst.lotSize })}</small>}
          <input
            ref={qtyRef}
            data-field="qty"
            inputMode="numeric"
            value={qty}
            onChange={(e) => setQty(e.target.value.replace(/\D/g, ''))}
            aria-invalid={!!problems.qty}
          />
          {problems.qty && <span className="problem">{problems.qty}</span>}
        </label>
        {type === 'stop_limit' && (
          <label>
            {t('ticket.stopPrice')}{' '}
            {inst && <small>{t('ticket.tick', { tick: fmt(inst.tickSize, inst.priceDecimals) })}</small>}
            <input
              data-field="stopPrice"
              inputMode="decimal"
              value={stopPrice}
              onChange={(e) => setStopPrice(e.target.value.replace(/[^\d.,]/g, ''))}
              aria-invalid={!!problems.stopPrice}
              aria-describedby="ticket-stop-read"
            />
            {inst && draft.stopPrice !== undefined && Number.isFinite(draft.stopPrice) && (
              <small id="ticket-stop-read" className="muted" data-testid="stop-read">
                {t('ticket.stopHint', {
                  price: fmt(draft.stopPrice, inst.priceDecimals),
                  direction: side === 'buy' ? t('ticket.stopAbove') : t('ticket.stopBelow'),
                })}
              </small>
            )}
            {problems.stopPrice && <span className="problem">{problems.stopPrice}</span>}
          </label>
        )}
        <label>
          {type === 'stop_limit' ? t('ticket.limitPrice') : t('ticket.price')}{' '}
          {inst && <small>{t('ticket.tick', { tick: fmt(inst.tickSize, inst.priceDecimals) })}</small>}{' '}
          {inst && minLimit !== undefined && maxLimit !== undefined && (
            <small data-testid="price-limits" title={t('ticket.limitsTitle')}>
              {t('ticket.limits', {
                min: fmt(minLimit, inst.priceDecimals),
                max: fmt(maxLimit, inst.priceDecimals),
              })}
            </small>
          )}
          <input
            data-field="price"
            inputMode="decimal"
            value={type === 'market' ? '' : price}
            placeholder={type === 'market' ? t('ticket.marketPlaceholder') : ''}
            disabled={type === 'market'}
            onChange={(e) => setPrice(e.target.value.replace(/[^\d.,]/g, ''))}
            aria-invalid={!!problems.price}
            aria-describedby="ticket-price-read"
          />
          {/* How the typed text is read: "128.050" is 128 thousand on WIN, never 128. */}
          {inst && type !== 'market' && draft.price !== undefined && Number.isFinite(draft.price) && (
            <small id="ticket-price-read" className="muted" data-testid="price-read">
              = {fmt(draft.price, inst.priceDecimals)}
            </small>
          )}
          {problems.price && <span className="problem">{problems.price}</span>}
        </label>
        {type !== 'stop_limit' && (
          <fieldset className="oco">
            <label className="check">
              <input type="checkbox" checked={oco} onChange={(e) => setOco(e.target.checked)} />
              {t('ticket.oco')}
            </label>
            {oco &&
              (['bracket.takeProfit', 'bracket.stopPrice', 'bracket.stopLimit'] as const).map((label, i) => (
                <label key={label}>
                  {t(label)}
                  <input
                    inputMode="decimal"
                    value={ocoPrices[i]}
                    onChange={(e) => {
                      const next = [...ocoPrices] as [string, string, string];
                      next[i] = e.target.value.replace(/[^\d.,]/g, '');
                      setOcoPrices(next);
                    }}
                  />
                </label>
              ))}
          </fieldset>
        )}
        {armed && (
          <p role="alert" className="confirm-order" data-testid="ticket-confirm">
            <b>{say(summary)}</b>
            {withOco && (
              <span>
                {t('ticket.ocoSummary', { tp: ocoPrices[0], stop: ocoPrices[1], limit: ocoPrices[2] })}
              </span>
            )}
            <small>{t('ticket.confirm')}</small>
          </p>
        )}
        {brokerDown && (
          <p className="problem" data-testid="broker-down">
            {t('ticket.brokerDown')}
          </p>
        )}
        <button
          type="submit"
          className={`send side-${side}`}
          disabled={!valid || busy || !canTrade || brokerDown}
        >
          {armed ? t('ticket.confirmButton') : say(buySell(side, qty || 0, ticker))}
        </button>
        {!canTrade && <p className="muted">{t('ticket.viewers')}</p>}
        {verdict && (
          <p role="status" className={`verdict ${verdict.kind}`}>
            {say(verdictText(verdict, orders))}
          </p>
        )}
      </form>
      <KeyList title={t('ticket.keys')} keys={TICKET_KEYS} />
    </section>
  );
}
