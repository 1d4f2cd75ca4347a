import { useEffect, useState } from 'react';
import { b3Time, price } from '../format.ts';
import { say, useT } from '../i18n/i18n.ts';
import { isLive, useMarket } from '../state/market.ts';
import { isExpired, outboxWhat, useOutbox } from './outbox.ts';
import { sideText } from './words.ts';

/** Orders saved offline: each waits for the trader's Confirm or Discard, with the price now. */
export function OutboxPanel() {
  const entries = useOutbox((s) => s.entries);
  const quotes = useMarket((s) => s.quotes);
  const link = useMarket((s) => s.link);
  const [now, setNow] = useState(Date.now());
  const t = useT();
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(t);
  }, []);
  if (entries.length === 0) return null;
  const online = isLive(link);
  return (
    <section className="panel outbox" aria-labelledby="outbox-title">
      <h2 id="outbox-title">
        {t('outbox.title')} <small>{t('outbox.notSent', { count: entries.length })}</small>
      </h2>
      <p className="muted">{online ? t('outbox.online') : t('outbox.offline')}</p>
      <ul>
        {entries.map((e) => {
          const expired = isExpired(e, now);
          const last = e.ticker === undefined ? undefined : quotes[e.ticker]?.last;
          return (
            <li key={e.id} data-outbox={e.id} className={expired ? 'expired' : undefined}>
              {e.kind === 'flatten' || e.kind === 'bracket' ? (
                <b>{say(outboxWhat(e))}</b>
              ) : (
                <>
                  <span className={`side-${e.side}`}>{say(sideText(e.side))}</span> {e.qty} {e.ticker} @{' '}
                  {e.type === 'market' ? t('outbox.market') : price(e.price ?? null)}
                </>
              )}
              <small>
                {' '}
                {e.ticker !== undefined && (
                  <>· {t('outbox.now', { price: last === undefined ? '—' : price(last) })} </>
                )}
                · {t('outbox.entered', { time: b3Time(e.createdAt) })} ·{' '}
                {expired ? t('outbox.expired') : t('outbox.expires', { time: b3Time(e.expiresAt) })}
              </small>
              <span className="actions">
                <button
                  type="button"
                  className="small"
                  disabled={expired || !online}
                  onClick={() => void useOutbox.getState().confirm(e.id)}
                >
                  {t('outbox.confirm')}
                </button>
                <button
                  type="button"
                  className="small"
                  onClick={() => void useOutbox.getState().discard(e.id)}
                >
                  {t('outbox.discard')}
                </button>
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
