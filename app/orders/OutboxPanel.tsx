import { useEffect, useState } from 'react';
import { b3Time, price } from '../format.ts';
import { isLive, useMarket } from '../state/market.ts';
import { isExpired, useOutbox } from './outbox.ts';

/** Orders saved offline: each waits for the trader's Confirm or Discard, with the price now. */
export function OutboxPanel() {
  const entries = useOutbox((s) => s.entries);
  const quotes = useMarket((s) => s.quotes);
  const link = useMarket((s) => s.link);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(t);
  }, []);
  if (entries.length === 0) return null;
  const online = isLive(link);
  return (
    <section className="panel outbox" aria-labelledby="outbox-title">
      <h2 id="outbox-title">
        Outbox <small>{entries.length} not sent</small>
      </h2>
      <p className="muted">
        {online
          ? 'Back online. Check each order against the price now, then confirm or discard it.'
          : 'Offline: these orders stay on this device until you confirm them online.'}
      </p>
      <ul>
        {entries.map((e) => {
          const expired = isExpired(e, now);
          const last = quotes[e.ticker]?.last;
          return (
            <li key={e.id} data-outbox={e.id} className={expired ? 'expired' : undefined}>
              <span className={`side-${e.side}`}>{e.side}</span> {e.qty} {e.ticker} @{' '}
              {e.type === 'market' ? 'market' : price(e.price ?? null)}
              <small>
                {' '}
                · now {last === undefined ? '—' : price(last)} · entered {b3Time(e.createdAt)} ·{' '}
                {expired ? 'expired' : `expires ${b3Time(e.expiresAt)}`}
              </small>
              <span className="actions">
                <button
                  type="button"
                  className="small"
                  disabled={expired || !online}
                  onClick={() => void useOutbox.getState().confirm(e.id)}
                >
                  Confirm
                </button>
                <button
                  type="button"
                  className="small"
                  onClick={() => void useOutbox.getState().discard(e.id)}
                >
                  Discard
                </button>
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
