import { useEffect, useRef, useState } from 'react';
import { create } from 'zustand';
import { isValidPrice } from '../../sync-server/shared/instruments.ts';
import { ApiError } from '../api/client.ts';
import { parsePrice, price } from '../format.ts';
import { errorText, msg, useT } from '../i18n/i18n.ts';
import { useAlerts } from '../state/alerts.ts';
import { useMarket } from '../state/market.ts';
import { useSettings } from '../state/settings.ts';
import { sendBracket } from './api.ts';
import { useOutbox } from './outbox.ts';
import { newClientOrderId } from './ticket.ts';

// An OCO bracket on an open position (the positions panel's OCO button): a take-profit and a
// stop-loss typed in pt-BR, sent once; the server sends both legs and pairs them (brackets.ts).

interface Ask {
  readonly ticker: string;
  /** The signed position: long brackets sell, short ones buy. */
  readonly qty: number;
}

const useAsk = create<{ ask: Ask | undefined; set(ask: Ask | undefined): void }>((set) => ({
  ask: undefined,
  set: (ask) => set({ ask }),
}));

/** Opens the bracket dialog for a position. */
export const askBracket = (ask: Ask) => useAsk.getState().set(ask);

export function BracketDialog() {
  const ask = useAsk((s) => s.ask);
  // A fresh form for each position asked.
  return ask ? <BracketForm key={`${ask.ticker}:${ask.qty}`} ask={ask} /> : null;
}

function BracketForm({ ask }: { ask: Ask }) {
  const t = useT();
  const inst = useMarket((s) => s.instruments[ask.ticker]);
  const last = useMarket((s) => s.quotes[ask.ticker]?.last);
  const decimals = inst?.priceDecimals ?? 2;
  const [qty, setQty] = useState(String(Math.abs(ask.qty)));
  const [tp, setTp] = useState('');
  const [stop, setStop] = useState('');
  const [limit, setLimit] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const close = () => useAsk.getState().set(undefined);
  const read = (text: string) => parsePrice(text, decimals, last);
  const submit = async () => {
    const prices = [read(tp), read(stop), read(limit)];
    const n = Number(qty);
    if (!Number.isInteger(n) || n <= 0) return setProblem(t('bracket.badQty'));
    if (prices.some((p) => !Number.isFinite(p) || (inst && !isValidPrice(p, inst.tickSize))))
      return setProblem(t('bracket.badPrice'));
    const [takeProfit, stopPrice, stopLimit] = prices as [number, number, number];
    const bracket = {
      clientId: newClientOrderId(),
      ticker: ask.ticker,
      qty: n,
      takeProfit,
      stopPrice,
      stopLimit,
    };
    const { outboxMinutes } = useSettings.getState();
    // Offline (or no answer) it waits in the outbox, like an order, for a confirm with the price then.
    const hold = async () => {
      await useOutbox.getState().addBracket(bracket, outboxMinutes);
      useAlerts.getState().push('warn', msg('bracket.held', { ticker: ask.ticker }));
      close();
    };
    if (!navigator.onLine || useMarket.getState().link === 'offline') return hold();
    setBusy(true);
    try {
      await sendBracket(bracket);
      useAlerts.getState().push(
        'info',
        msg('bracket.sent', {
          ticker: ask.ticker,
          tp: price(takeProfit, decimals),
          stop: price(stopPrice, decimals),
        }),
      );
      close();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'offline') return hold();
      setProblem(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const field = (
    label: string,
    value: string,
    set: (v: string) => void,
    ref?: React.RefObject<HTMLInputElement | null>,
  ) => (
    <label>
      {label}
      <input
        ref={ref}
        inputMode="decimal"
        value={value}
        onChange={(e) => {
          set(e.target.value);
          setProblem(undefined);
        }}
      />
    </label>
  );
  return (
    <div
      className="panel flatten-ask bracket-ask"
      role="dialog"
      aria-modal="true"
      aria-labelledby="bracket-ask-title"
      onKeyDown={(e) => {
        if (e.key === 'Escape') close();
      }}
    >
      <h2 id="bracket-ask-title">{t('bracket.title', { ticker: ask.ticker })}</h2>
      <p className="muted">{t('bracket.intro')}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {field(t('bracket.qty'), qty, setQty)}
        {field(t('bracket.takeProfit'), tp, setTp, first)}
        {field(t('bracket.stopPrice'), stop, setStop)}
        {field(t('bracket.stopLimit'), limit, setLimit)}
        {problem && (
          <p className="problem" role="alert">
            {problem}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {t('bracket.send')}
          </button>
          <button type="button" onClick={close}>
            {t('bracket.keep')}
          </button>
        </div>
      </form>
    </div>
  );
}
