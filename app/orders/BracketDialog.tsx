import { useEffect, useRef, useState } from 'react';
import { create } from 'zustand';
import { errorText, useT } from '../i18n/i18n.ts';
import { useAlerts } from '../state/alerts.ts';
import { useMarket } from '../state/market.ts';
import { placeBracket, readBracketPrices } from './bracket.ts';
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
  const [qty, setQty] = useState(String(Math.abs(ask.qty)));
  const [tp, setTp] = useState('');
  const [stop, setStop] = useState('');
  const [limit, setLimit] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const close = () => useAsk.getState().set(undefined);
  const submit = async () => {
    const n = Number(qty);
    if (!Number.isInteger(n) || n <= 0) return setProblem(t('bracket.badQty'));
    const prices = readBracketPrices([tp, stop, limit], inst, last);
    if ('problem' in prices) return setProblem(prices.problem);
    setBusy(true);
    try {
      const placed = await placeBracket({
        clientId: newClientOrderId(),
        ticker: ask.ticker,
        qty: n,
        ...prices,
      });
      useAlerts.getState().push(placed.held ? 'warn' : 'info', placed.text);
      close();
    } catch (err) {
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
