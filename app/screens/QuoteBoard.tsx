import { useEffect, useState } from 'react';
import { type QuoteView, useMarket } from '../state/market.ts';

const STALE_AFTER_MS = 10_000;
const num = (v: number, digits = 2) =>
  v.toLocaleString('pt-BR', { minimumFractionDigits: digits, maximumFractionDigits: digits });
// B3 runs on Brasília time whatever the trader's device is set to.
const b3Time = (ms: number) => new Date(ms).toLocaleTimeString('pt-BR', { timeZone: 'America/Sao_Paulo' });

function Row({ q, now, decimals }: { q: QuoteView; now: number; decimals: number }) {
  const change = q.open ? ((q.last - q.open) / q.open) * 100 : 0;
  const stale = now - q.receivedAt > STALE_AFTER_MS;
  return (
    <tr data-ticker={q.ticker} className={stale ? 'stale' : undefined}>
      <th scope="row">{q.ticker}</th>
      <td key={q.seq} className={`num flash-${q.tick}`} data-testid={`last-${q.ticker}`}>
        {num(q.last, decimals)}
      </td>
      <td className={`num ${change > 0 ? 'up' : change < 0 ? 'down' : ''}`}>
        {change > 0 ? '+' : ''}
        {num(change)}%
      </td>
      <td className="num">{q.volume.toLocaleString('pt-BR')}</td>
      <td className="num">{q.trades.toLocaleString('pt-BR')}</td>
      <td className="time">{stale ? 'stale' : b3Time(q.time)}</td>
    </tr>
  );
}

export function QuoteBoard() {
  const tickers = useMarket((s) => s.tickers);
  const quotes = useMarket((s) => s.quotes);
  const instruments = useMarket((s) => s.instruments);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return (
    <section aria-labelledby="quotes-title" className="panel">
      <h2 id="quotes-title">Quotes</h2>
      <table className="quotes">
        <thead>
          <tr>
            <th scope="col">Ticker</th>
            <th scope="col">Last</th>
            <th scope="col">Chg %</th>
            <th scope="col">Volume</th>
            <th scope="col">Trades</th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {tickers.map((t) => {
            const q = quotes[t];
            return q ? (
              <Row key={t} q={q} now={now} decimals={instruments[t]?.priceDecimals ?? 2} />
            ) : (
              <tr key={t} data-ticker={t}>
                <th scope="row">{t}</th>
                <td colSpan={5} className="muted">
                  waiting for the first trade…
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
