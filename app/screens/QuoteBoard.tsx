import type { ReactNode } from 'react';
import type { InstrumentInfo, Top } from '../../sync-server/shared/market.ts';
import { b3Time, price, quantity, reaisCompact } from '../format.ts';
import { dayChange, financialVolume } from '../market/quote.ts';
import { useIsStale } from '../market/stale.ts';
import { type QuoteView, useMarket } from '../state/market.ts';
import { useUi } from '../state/ui.ts';

interface Cell {
  readonly q: QuoteView;
  readonly top: Top | undefined;
  readonly inst: InstrumentInfo | undefined;
  readonly stale: boolean;
}

/** A price with its quantity under it, as the board's bid and ask show them. */
const withSize = (p: number | undefined, qty: number | undefined, digits: number) =>
  p === undefined ? (
    '—'
  ) : (
    <>
      {price(p, digits)}
      <small className="size">{quantity(qty ?? 0)}</small>
    </>
  );

// One list for the header and the cells. `full`: only on the full board (Monitor), where there
// is room; the compact board beside the chart keeps what a trader aims by.
const COLUMNS: ReadonlyArray<{
  label: string;
  title?: string;
  full?: true;
  className?: (c: Cell) => string;
  cell: (c: Cell) => ReactNode;
}> = [
  {
    label: 'Last',
    className: () => 'num',
    cell: ({ q, inst }) => price(q.last, inst?.priceDecimals ?? 2),
  },
  {
    label: 'Chg %',
    title: 'Change against the previous close',
    className: ({ q }) => {
      const { pct } = dayChange(q);
      return `num ${pct && pct > 0 ? 'up' : pct && pct < 0 ? 'down' : ''}`;
    },
    cell: ({ q }) => {
      const { pct, basis } = dayChange(q);
      if (pct === null) return '—';
      return (
        <span title={basis === 'open' ? 'Against the open: the previous close is not known yet' : undefined}>
          {pct > 0 ? '+' : ''}
          {price(pct)}%{basis === 'open' ? '*' : ''}
        </span>
      );
    },
  },
  {
    label: 'Bid',
    className: () => 'num up-soft',
    cell: ({ top, inst }) => withSize(top?.bid, top?.bidQty, inst?.priceDecimals ?? 2),
  },
  {
    label: 'Ask',
    className: () => 'num down-soft',
    cell: ({ top, inst }) => withSize(top?.ask, top?.askQty, inst?.priceDecimals ?? 2),
  },
  {
    label: 'Prev. close',
    full: true,
    className: () => 'num',
    cell: ({ q, inst }) => price(q.previousClose ?? null, inst?.priceDecimals ?? 2),
  },
  {
    label: 'Open',
    full: true,
    className: () => 'num',
    cell: ({ q, inst }) => price(q.open, inst?.priceDecimals ?? 2),
  },
  {
    label: 'High',
    full: true,
    className: () => 'num',
    cell: ({ q, inst }) => price(q.high, inst?.priceDecimals ?? 2),
  },
  {
    label: 'Low',
    full: true,
    className: () => 'num',
    cell: ({ q, inst }) => price(q.low, inst?.priceDecimals ?? 2),
  },
  { label: 'Volume', full: true, className: () => 'num', cell: ({ q }) => quantity(q.volume) },
  {
    label: 'Fin. vol.',
    title: 'Reais traded today',
    full: true,
    className: () => 'num',
    cell: ({ q, inst }) => reaisCompact(financialVolume(q, inst?.multiplier ?? 1)),
  },
  { label: 'Trades', full: true, className: () => 'num', cell: ({ q }) => quantity(q.trades) },
  {
    label: 'Time',
    className: () => 'time',
    cell: ({ q, stale }) => (stale ? `stale · ${b3Time(q.receivedAt)}` : b3Time(q.time)),
  },
];

function Row({ cell, columns, selected }: { cell: Cell; columns: typeof COLUMNS; selected: boolean }) {
  const { q, stale } = cell;
  return (
    <tr
      data-ticker={q.ticker}
      className={`${stale ? 'stale' : ''}${selected ? ' selected' : ''}`}
      onClick={() => useUi.getState().selectTicker(q.ticker)}
      onDoubleClick={() => useUi.getState().openTicket('buy')}
    >
      <th scope="row">{q.ticker}</th>
      {columns.map((c) => (
        <td
          key={c.label}
          className={`${c.className?.(cell) ?? ''}${c.label === 'Last' ? ` flash-${q.tick}` : ''}`}
          data-testid={c.label === 'Last' ? `last-${q.ticker}` : undefined}
          data-col={c.label}
        >
          {c.cell(cell)}
        </td>
      ))}
    </tr>
  );
}

/**
 * Every ticker on the feed, as B3 quotes it. A quote is stale when not updated for the set time
 * or when the feed is not live. `full`: every column (the Monitor screen); else the ones beside
 * the chart.
 */
export function QuoteBoard({ full = false }: { full?: boolean }) {
  const tickers = useMarket((s) => s.tickers);
  const quotes = useMarket((s) => s.quotes);
  const tops = useMarket((s) => s.tops);
  const instruments = useMarket((s) => s.instruments);
  const selected = useUi((s) => s.ticker);
  const isStale = useIsStale();
  const columns = full ? COLUMNS : COLUMNS.filter((c) => !c.full);
  // Offline, the board lists what this device kept, even before the server names the tickers.
  const shown = tickers.length ? tickers : Object.keys(quotes).sort();
  return (
    <section aria-labelledby="quotes-title" className={`panel quotes-panel${full ? ' full' : ''}`}>
      <h2 id="quotes-title">Quotes</h2>
      <div className="quotes-scroll">
        <table className="quotes">
          <thead>
            <tr>
              <th scope="col">Ticker</th>
              {columns.map((c) => (
                <th
                  key={c.label}
                  scope="col"
                  title={c.title}
                  data-col={c.label}
                  className={c.label === 'Time' ? '' : 'num'}
                >
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((t) => {
              const q = quotes[t];
              return q ? (
                <Row
                  key={t}
                  cell={{ q, top: tops[t] ?? q.top, inst: instruments[t], stale: isStale(q.receivedAt) }}
                  columns={columns}
                  selected={t === selected}
                />
              ) : (
                <tr key={t} data-ticker={t}>
                  <th scope="row">{t}</th>
                  <td colSpan={columns.length} className="muted">
                    waiting for the first trade…
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
