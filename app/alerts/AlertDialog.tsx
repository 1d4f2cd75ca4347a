import { useEffect, useRef, useState } from 'react';
import { create } from 'zustand';
import { price as fmt, parsePrice } from '../format.ts';
import { errorText, useT } from '../i18n/i18n.ts';
import { useAlerts } from '../state/alerts.ts';
import { useMarket } from '../state/market.ts';
import { createdText, useCreateAlert } from './api.ts';
import { kindFor, onTick } from './draft.ts';
import { Input, LevelField } from './Fields.tsx';
import './alerts.css';

// A price alert at a price, from where the trader is looking: a quote board row, the ladder (a
// row's price, or its centre), the chart (the crosshair's price, else the last). It lasts the
// session and fires once; the Alerts screen has the rest. Enter creates it, Esc closes.

interface Ask {
  readonly ticker: string;
  readonly price: number | undefined;
  /** Each ask is a fresh form, even for the same ticker and price. */
  readonly at: number;
}

interface AlertAskState {
  ask: Ask | undefined;
  open(ticker: string, price?: number): void;
  /** Closes the dialog; given an ask, only if that one is still the one open. */
  close(ask?: Ask): void;
}

export const useAlertAsk = create<AlertAskState>((set) => ({
  ask: undefined,
  open: (ticker, price) => set({ ask: { ticker, price, at: Date.now() } }),
  close: (ask) => set((s) => (ask === undefined || s.ask === ask ? { ask: undefined } : s)),
}));

/** Opens the alert dialog for `ticker`, at `price` (else its last price). */
export const askAlert = (ticker: string, price?: number) => useAlertAsk.getState().open(ticker, price);

const WAYS = [
  ['price_above', 'priceAlerts.dialog.above'],
  ['price_below', 'priceAlerts.dialog.below'],
] as const;

export function AlertDialog() {
  const ask = useAlertAsk((s) => s.ask);
  return ask ? <AlertForm key={ask.at} ask={ask} /> : null;
}

function AlertForm({ ask }: { ask: Ask }) {
  const t = useT();
  const inst = useMarket((s) => s.instruments[ask.ticker]);
  const last = useMarket((s) => s.quotes[ask.ticker]?.last);
  const digits = inst?.priceDecimals ?? 2;
  const tick = inst?.tickSize ?? 0.01;
  const start = ask.price ?? last;
  const [text, setText] = useState(start === undefined ? '' : fmt(onTick(start, tick, digits), digits));
  const level = parsePrice(text, digits, last);
  // Above or below from where the level is against the last price, until the trader picks one.
  const [picked, setPicked] = useState<'price_above' | 'price_below'>();
  const kind = picked ?? kindFor(Number.isFinite(level) ? level : (start ?? 0), last);
  const [problem, setProblem] = useState<string>();
  const createAlert = useCreateAlert();
  const close = () => useAlertAsk.getState().close(ask);
  // Modal in the top layer: the desk behind is inert, Esc closes it (the dialog's own cancel).
  const box = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = box.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  const way = ([k, words]: (typeof WAYS)[number]) => (
    <Input
      key={k}
      type="radio"
      name="way"
      label={t(words)}
      checked={kind === k}
      onChange={() => setPicked(k)}
    />
  );
  const submit = () => {
    if (!Number.isFinite(level) || level <= 0) return setProblem(t('priceAlerts.problem.price'));
    createAlert.mutate(
      { kind, ticker: ask.ticker, threshold: level, expiry: { kind: 'session' } },
      {
        onSuccess: (c) => {
          useAlerts.getState().push(c.kind === 'held' ? 'warn' : 'info', createdText(c));
          close();
        },
        onError: (err) => setProblem(errorText(err)),
      },
    );
  };
  return (
    <dialog ref={box} className="panel alert-ask" aria-labelledby="alert-ask-title" onClose={close}>
      <h2 id="alert-ask-title">{t('priceAlerts.dialog.title', { ticker: ask.ticker })}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <fieldset className="alert-way">
          <legend className="sr-only">{t('priceAlerts.field.kind')}</legend>
          {WAYS.map(way)}
        </fieldset>
        <LevelField
          kind={kind}
          ticker={ask.ticker}
          value={text}
          autoFocus
          onChange={(v) => {
            setText(v);
            setProblem(undefined);
          }}
        />
        <p className="muted">{t('priceAlerts.dialog.note')}</p>
        {problem && (
          <p className="problem" role="alert">
            {problem}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={createAlert.isPending}>
            {t('priceAlerts.create')}
          </button>
          <button type="button" onClick={close}>
            {t('priceAlerts.cancel')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
