import type { BracketJson } from '../../sync-server/shared/orders.ts';
import { price } from '../format.ts';
import { isMessageId, type PlainId, useT } from '../i18n/i18n.ts';
import { useMarket } from '../state/market.ts';
import { useBrackets, useCancelBracket } from './api.ts';

// The account's OCO brackets under the positions: what each protects, its two legs' prices, its
// state (and once closed, why), and a cancel for an open one.

const OPEN = new Set(['pending', 'active']);

export function BracketList({ canTrade }: { canTrade: boolean }) {
  const t = useT();
  const q = useBrackets();
  const cancel = useCancelBracket();
  const instruments = useMarket((s) => s.instruments);
  // The open ones, and the last few that closed.
  const list = q.data ?? [];
  const shown = [
    ...list.filter((b) => OPEN.has(b.state)),
    ...list.filter((b) => !OPEN.has(b.state)).slice(0, 5),
  ];
  if (shown.length === 0) return null;
  const word = (id: string) => (isMessageId(id) ? t(id as PlainId) : id.split('.').at(-1));
  const status = (b: BracketJson) =>
    b.reason && !OPEN.has(b.state)
      ? `${word(`brackets.state.${b.state}`)}: ${word(`brackets.reason.${b.reason}`)}`
      : word(`brackets.state.${b.state}`);
  return (
    <section className="bracket-list" aria-labelledby="brackets-title">
      <h3 id="brackets-title">{t('brackets.title')}</h3>
      <ul>
        {shown.map((b) => {
          const d = instruments[b.ticker]?.priceDecimals;
          return (
            <li key={b.id} data-bracket={b.id} data-state={b.state}>
              <b>
                {t('brackets.what', {
                  ticker: b.ticker,
                  side: word(`brackets.side.${b.side}`) ?? b.side,
                  qty: b.qty,
                })}
              </b>{' '}
              <span>
                {t('brackets.legs', {
                  tp: price(b.takeProfit, d),
                  stop: price(b.stopPrice, d),
                  limit: price(b.stopLimit, d),
                })}
              </span>{' '}
              <span className="muted" data-testid="bracket-state">
                {status(b)}
              </span>
              {canTrade && OPEN.has(b.state) && (
                <button
                  type="button"
                  className="small"
                  disabled={cancel.isPending}
                  onClick={() => cancel.mutate(b.id)}
                >
                  {t('brackets.cancel')}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
