import { type ChangeEvent, type InputHTMLAttributes, useId } from 'react';
import {
  ALERT_KINDS,
  type AlertKind,
  ORDER_ALERT_EVENTS,
  type OrderAlertEvent,
} from '../../sync-server/shared/alerts.ts';
import { price, quantity } from '../format.ts';
import { type PlainId, say, useT } from '../i18n/i18n.ts';
import { dayChange } from '../market/quote.ts';
import { useMarket } from '../state/market.ts';
import type { AlertFields, ExpiryChoice } from './draft.ts';
import { cooldownText, isChangeKind, isPriceKind, KIND_WORDS, orderEventText, percentText } from './words.ts';

// The fields of an alert, as the create form, the inline edit and (the level alone) the dialog
// show them: each labelled, so a screen reader and the e2e find it by its name.

type Set = (patch: Partial<AlertFields>) => void;

const LEVEL_LABEL = (kind: AlertKind): PlainId =>
  isPriceKind(kind)
    ? 'priceAlerts.field.price'
    : isChangeKind(kind)
      ? 'priceAlerts.field.change'
      : 'priceAlerts.field.volume';

/** The level, with what it is measured against beside it: the last price and the tick, today's change or volume. */
export function LevelField({
  kind,
  ticker,
  value,
  onChange,
  autoFocus,
}: {
  kind: AlertKind;
  ticker: string;
  value: string;
  onChange(v: string): void;
  autoFocus?: boolean;
}) {
  const t = useT();
  const id = useId();
  const q = useMarket((s) => s.quotes[ticker]);
  const inst = useMarket((s) => s.instruments[ticker]);
  const digits = inst?.priceDecimals ?? 2;
  const pct = q ? dayChange(q).pct : null;
  const now = !q
    ? t('priceAlerts.noQuote')
    : isPriceKind(kind)
      ? t('priceAlerts.lastAndTick', {
          last: price(q.last, digits),
          tick: price(inst?.tickSize ?? 0.01, digits),
        })
      : isChangeKind(kind)
        ? t('priceAlerts.changeNow', { change: pct === null ? '—' : percentText(pct) })
        : t('priceAlerts.volumeNow', { volume: quantity(q.volume) });
  return (
    <div className="alert-level">
      <label>
        {t(LEVEL_LABEL(kind))}
        <input
          // biome-ignore lint/a11y/noAutofocus: the dialog opens to type the level
          autoFocus={autoFocus}
          inputMode={kind === 'volume_above' ? 'numeric' : 'decimal'}
          value={value}
          aria-describedby={`${id}-now`}
          onChange={(e) => onChange(e.target.value)}
          onFocus={(e) => e.target.select()}
        />
      </label>
      <small id={`${id}-now`} className="muted" data-testid="alert-level-now">
        {now}
      </small>
    </div>
  );
}

const EXPIRY_WORDS: Readonly<Record<ExpiryChoice, PlainId>> = {
  session: 'priceAlerts.expiry.session',
  date: 'priceAlerts.expiry.date',
  never: 'priceAlerts.expiry.never',
};

/** An input with its label: the label's words are its accessible name. */
export function Input({ label, ...input }: { label: string } & InputHTMLAttributes<HTMLInputElement>) {
  // A box or a radio before its words; a field under them.
  const check = input.type === 'checkbox' || input.type === 'radio';
  return (
    <label className={check ? 'check' : undefined}>
      {!check && label}
      <input {...input} />
      {check && label}
    </label>
  );
}

/** A select with its label, from value and words pairs. */
function Choice({
  label,
  value,
  options,
  pick,
}: {
  label: string;
  value: string;
  options: ReadonlyArray<readonly [string, string]>;
  pick(value: string): void;
}) {
  // Beside its label, not inside: the options' words would be the label's too ("Price" would
  // name the kind select, whose options say "Price above").
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => pick(e.target.value)}>
        {options.map(([v, words]) => (
          <option key={v} value={v}>
            {words}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Every field of an alert; the kind and the ticker only while it is being made. */
export function AlertFieldsEditor({ f, set, making }: { f: AlertFields; set: Set; making: boolean }) {
  const t = useT();
  const tickers = useMarket((s) => s.tickers);
  const order = f.kind === 'order';
  const cooldownS = Number(f.cooldown);
  const text = (k: 'cooldown' | 'expiryAt' | 'note') => (e: ChangeEvent<HTMLInputElement>) =>
    set({ [k]: e.target.value });
  // An order alert repeats by default (each fill is told), with no cooldown.
  const pickKind = (v: string) => {
    const kind = v as AlertKind;
    set(
      kind === 'order'
        ? { kind, repeat: true, cooldown: '0' }
        : { kind, ticker: f.ticker || (tickers[0] ?? '') },
    );
  };
  const tickerOptions: [string, string][] = [
    ...(order
      ? [['', t('priceAlerts.anyTicker')] as [string, string]]
      : f.ticker
        ? []
        : [['', '—'] as [string, string]]),
    ...tickers.map((tk): [string, string] => [tk, tk]),
  ];
  const toggle = (e: OrderAlertEvent) => (x: ChangeEvent<HTMLInputElement>) =>
    set({ events: x.target.checked ? [...f.events, e] : f.events.filter((y) => y !== e) });
  return (
    <>
      {making && (
        <>
          <Choice
            label={t('priceAlerts.field.kind')}
            value={f.kind}
            options={ALERT_KINDS.map((k) => [k, t(KIND_WORDS[k])])}
            pick={pickKind}
          />
          <Choice
            label={t('priceAlerts.field.ticker')}
            value={f.ticker}
            options={tickerOptions}
            pick={(v) => set({ ticker: v })}
          />
        </>
      )}
      {order ? (
        <fieldset className="alert-events">
          <legend>{t('priceAlerts.field.events')}</legend>
          {ORDER_ALERT_EVENTS.map((e) => (
            <Input
              key={e}
              type="checkbox"
              label={say(orderEventText(e))}
              checked={f.events.includes(e)}
              onChange={toggle(e)}
            />
          ))}
        </fieldset>
      ) : (
        <LevelField
          kind={f.kind}
          ticker={f.ticker}
          value={f.threshold}
          onChange={(threshold) => set({ threshold })}
        />
      )}
      <Input
        type="checkbox"
        label={t('priceAlerts.field.repeat')}
        checked={f.repeat}
        onChange={(e) => set({ repeat: e.target.checked })}
      />
      <div className="alert-level">
        <Input
          label={t('priceAlerts.field.cooldown')}
          type="number"
          min={0}
          value={f.cooldown}
          disabled={!f.repeat}
          onChange={text('cooldown')}
        />
        {f.repeat && Number.isInteger(cooldownS) && cooldownS > 0 && (
          <small className="muted">{cooldownText(cooldownS)}</small>
        )}
      </div>
      <Choice
        label={t('priceAlerts.field.expiry')}
        value={f.expiry}
        options={(Object.keys(EXPIRY_WORDS) as ExpiryChoice[]).map((k) => [k, t(EXPIRY_WORDS[k])])}
        pick={(v) => set({ expiry: v as ExpiryChoice })}
      />
      {f.expiry === 'date' && (
        <Input
          label={t('priceAlerts.field.expiryAt')}
          type="datetime-local"
          value={f.expiryAt}
          onChange={text('expiryAt')}
        />
      )}
      <Input label={t('priceAlerts.field.note')} value={f.note} maxLength={200} onChange={text('note')} />
    </>
  );
}
