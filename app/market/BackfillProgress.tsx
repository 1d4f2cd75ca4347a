import { type ReactNode, useEffect, useState } from 'react';
import { quantity } from '../format.ts';
import { t, useT } from '../i18n/i18n.ts';
import { type BackfillView, LIVE_SHOWN_MS, shown, useBackfill } from '../state/backfill.ts';
import './backfill.css';

// A bar per ticker while the server fills its session's history (the /ws `backfill` messages):
// the percent, the trades so far; "live" for a moment once it is; a failure stays, with the
// server's reason as the title. Each bar stays in the page (hidden) once gone, at its last
// value, for the tests that ask whether it reached 100.

function label(v: BackfillView): string {
  if (v.state === 'filling') return t('backfill.filling', { percent: v.percent, trades: quantity(v.trades) });
  if (v.state === 'live') return t('backfill.live', { trades: quantity(v.trades) });
  return t('backfill.failed');
}

export function BackfillProgress(): ReactNode {
  const byTicker = useBackfill((s) => s.byTicker);
  const [now, setNow] = useState(Date.now);
  useT();
  const views = Object.values(byTicker);
  // Draws again when a "live" bar's moment is over.
  useEffect(() => {
    const ends = views
      .map((v) => (v.state === 'live' && v.endedAt !== undefined ? v.endedAt + LIVE_SHOWN_MS : 0))
      .filter((at) => at > now);
    if (ends.length === 0) return;
    const timer = setTimeout(() => setNow(Date.now()), Math.min(...ends) - now);
    return () => clearTimeout(timer);
  });
  if (views.length === 0) return null;
  const at = Date.now();
  return (
    <section className="backfill" aria-label={t('backfill.title')} hidden={!views.some((v) => shown(v, at))}>
      {views.map((v) => (
        <div
          key={v.ticker}
          className="backfill-row"
          data-testid={`backfill-${v.ticker}`}
          data-state={v.state}
          role="progressbar"
          aria-label={t('backfill.row', { ticker: v.ticker })}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={v.percent}
          aria-valuetext={label(v)}
          title={v.reason}
          hidden={!shown(v, at)}
        >
          <strong>{v.ticker}</strong>
          <span className="backfill-bar">
            <span style={{ width: `${v.percent}%` }} />
          </span>
          <span>{label(v)}</span>
        </div>
      ))}
    </section>
  );
}
