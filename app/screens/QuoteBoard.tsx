import { b3Time, price } from '../format.ts';
import { useIsStale } from '../market/stale.ts';
import { type QuoteView, useMarket } from '../state/market.ts';
import { useUi } from '../state/ui.ts';

function Row({
  q,
  stale,
  decimals,
  selected,
}: {
  q: QuoteView;
  stale: boolean;
  decimals: number;
  selected: boolean;
}) {
  const change = q.open ? ((q.last - q.open) / q.open) * 100 : 0;
  return (
    <tr
      data-ticker={q.ticker}
      className={`${stale ? 'stale' : ''}${selected ? ' selected' : ''}`}
      onClick={() => useUi.getState().selectTicker(q.ticker)}
      onDoubleClick={() => useUi.getState().openTicket('buy')}
    >
      <th scope="row">{q.ticker}</th>
      <td key={q.seq} className={`num flash-${q.tick}`} data-testid={`last-${q.ticker}`}>
        {price(q.last, decimals)}
      </td>
      <td className={`num ${change > 0 ? 'up' : change < 0 ? 'down' : ''}`}>
        {change > 0 ? '+' : ''}
        {price(change)}%
      </td>
      <td className="num wide">{q.volume.toLocaleString('pt-BR')}</td>
      <td className="num wide">{q.trades.toLocaleString('pt-BR')}</td>
      <td className="time">{stale ? `stale · ${b3Time(q.receivedAt)}` : b3Time(q.time)}</td>
    </tr>
  );
}

/** Every ticker on the feed. A quote is stale when not updated for the set time or when the feed is not live. */
export function QuoteBoard() {
  const tickers = useMarket((s) => s.tickers);
  const quotes = useMarket((s) => s.quotes);
  const instruments = useMarket((s) => s.instruments);
  const selected = useUi((s) => s.ticker);
  const isStale = useIsStale();
  // Offline, the board lists what this device kept, even before the server names the tickers.
  const shown = tickers.length ? tickers : Object.keys(quotes).sort();
  return (
    <section aria-labelledby="quotes-title" className="panel quotes-panel">
      <h2 id="quotes-title">Quotes</h2>
      <table className="quotes">
        <thead>
          <tr>
            <th scope="col">Ticker</th>
            <th scope="col">Last</th>
            <th scope="col">Chg %</th>
            <th scope="col" className="wide">
              Volume
            </th>
            <th scope="col" className="wide">
              Trades
            </th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((t) => {
            const q = quotes[t];
            return q ? (
              <Row
                key={t}
                q={q}
                stale={isStale(q.receivedAt)}
                decimals={instruments[t]?.priceDecimals ?? 2}
                selected={t === selected}
              />
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
