import type { ReactNode } from 'react';
import type { InstrumentInfo, Top } from '../../sync-server/shared/market.ts';
import { askAlert } from '../alerts/AlertDialog.tsx';
import { AlertBell } from '../alerts/Bell.tsx';
import { b3Time, price, quantity, reaisCompact } from '../format.ts';
import { type PlainId, t, useT } from '../i18n/i18n.ts';
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
// is room; the compact board beside the chart keeps what a trader aims by. `key` names the column
// for CSS and tests (data-col), whatever the language.
const COLUMNS: ReadonlyArray<{
  key: string;
  label: PlainId;
  title?: PlainId;
  full?: true;
  className?: (c: Cell) => string;
  cell: (c: Cell) => ReactNode;
}> = [
  {
    key: 'Last',
    label: 'quotes.last',
    className: () => 'num',
    cell: ({ q, inst }) => price(q.last, inst?.priceDecimals ?? 2),
  },
  {
    key: 'Chg %',
    label: 'quotes.change',
    title: 'quotes.changeTitle',
    className: ({ q }) => {
      const { pct } = dayChange(q);
      return `num ${pct && pct > 0 ? 'up' : pct && pct < 0 ? 'down' : ''}`;
    },
    cell: ({ q }) => {
      const { pct, basis } = dayChange(q);
      if (pct === null) return '—';
      return (
        <span title={basis === 'open' ? t('quotes.againstOpen') : undefined}>
          {pct > 0 ? '+' : ''}
          {price(pct)}%{basis === 'open' ? '*' : ''}
        </span>
      );
    },
  },
  {
    key: 'Bid',
    label: 'quotes.bid',
    className: () => 'num up-soft',
    cell: ({ top, inst }) => withSize(top?.bid, top?.bidQty, inst?.priceDecimals ?? 2),
  },
  {
    key: 'Ask',
    label: 'quotes.ask',
    className: () => 'num down-soft',
    cell: ({ top, inst }) => withSize(top?.ask, top?.askQty, inst?.priceDecimals ?? 2),
  },
  {
    key: 'Prev. close',
    label: 'quotes.prevClose',
    full: true,
    className: () => 'num',
    cell: ({ q, inst }) => price(q.previousClose ?? null, inst?.priceDecimals ?? 2),
  },
  {
    key: 'Open',
    label: 'quotes.open',
    full: true,
    className: () => 'num',
    cell: ({ q, inst }) => price(q.open, inst?.priceDecimals ?? 2),
  },
  {
    key: 'High',
    label: 'quotes.high',
    full: true,
    className: () => 'num',
    cell: ({ q, inst }) => price(q.high, inst?.priceDecimals ?? 2),
  },
  {
    key: 'Low',
    label: 'quotes.low',
    full: true,
    className: () => 'num',
    cell: ({ q, inst }) => price(q.low, inst?.priceDecimals ?? 2),
  },
  {
    key: 'Volume',
    label: 'quotes.volume',
    full: true,
    className: () => 'num',
    cell: ({ q }) => quantity(q.volume),
  },
  {
    key: 'Fin. vol.',
    label: 'quotes.finVolume',
    title: 'quotes.finVolumeTitle',
    full: true,
    className: () => 'num',
    cell: ({ q, inst }) => reaisCompact(financialVolume(q, inst?.multiplier ?? 1)),
  },
  {
    key: 'Trades',
    label: 'quotes.trades',
    full: true,
    className: () => 'num',
    cell: ({ q }) => quantity(q.trades),
  },
  {
    key: 'Time',
    label: 'quotes.time',
    className: () => 'time',
    cell: ({ q, stale }) => (stale ? t('quotes.stale', { time: b3Time(q.receivedAt) }) : b3Time(q.time)),
  },
];

function Row({ cell, columns, selected }: { cell: Cell; columns: typeof COLUMNS; selected: boolean }) {
  const { q, stale } = cell;
  const t = useT();
  return (
    <tr
      data-ticker={q.ticker}
      className={`${stale ? 'stale' : ''}${selected ? ' selected' : ''}`}
      onClick={() => useUi.getState().selectTicker(q.ticker)}
      onDoubleClick={() => useUi.getState().openTicket('buy')}
    >
      <th scope="row">{q.ticker}</th>
      <td className="bell">
        <AlertBell
          label={t('priceAlerts.createFor', { ticker: q.ticker })}
          onClick={(e) => {
            // Not a click on the row: the selection stays as it is.
            e.stopPropagation();
            askAlert(q.ticker);
          }}
        />
      </td>
      {columns.map((c) => (
        <td
          key={c.key}
          className={`${c.className?.(cell) ?? ''}${c.key === 'Last' ? ` flash-${q.tick}` : ''}`}
          data-testid={c.key === 'Last' ? `last-${q.ticker}` : undefined}
          data-col={c.key}
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
  const t = useT();
  const columns = full ? COLUMNS : COLUMNS.filter((c) => !c.full);
  // Offline, the board lists what this device kept, even before the server names the tickers.
  const shown = tickers.length ? tickers : Object.keys(quotes).sort();
  return (
    <section aria-labelledby="quotes-title" className={`panel quotes-panel${full ? ' full' : ''}`}>
      <h2 id="quotes-title">{t('quotes.title')}</h2>
      <div className="quotes-scroll">
        <table className="quotes">
          <thead>
            <tr>
              <th scope="col">{t('quotes.ticker')}</th>
              <th scope="col" className="bell">
                <span className="sr-only">{t('priceAlerts.tab')}</span>
              </th>
              {columns.map((c) => (
                <th
                  key={c.key}
                  scope="col"
                  title={c.title && t(c.title)}
                  data-col={c.key}
                  className={c.key === 'Time' ? '' : 'num'}
                >
                  {t(c.label)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((ticker) => {
              const q = quotes[ticker];
              return q ? (
                <Row
                  key={ticker}
                  cell={{
                    q,
                    top: tops[ticker] ?? q.top,
                    inst: instruments[ticker],
                    stale: isStale(q.receivedAt),
                  }}
                  columns={columns}
                  selected={ticker === selected}
                />
              ) : (
                <tr key={ticker} data-ticker={ticker}>
                  <th scope="row">{ticker}</th>
                  <td colSpan={columns.length + 1} className="muted">
                    {t('quotes.waiting')}
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
