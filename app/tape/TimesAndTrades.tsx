import { memo, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { AgentJson, Trade } from '../../sync-server/shared/market.ts';
import { TradeFlag } from '../../sync-server/shared/market.ts';
import { b3TimeMs, price, quantity } from '../format.ts';
import { agentLabel, useAgents } from '../state/agents.ts';
import { tradeTape, useMarket } from '../state/market.ts';
import { aggressor } from './aggressor.ts';
import { brokerChoices, filterTape, parseMinQty, useTapeFilter } from './filters.ts';
import { paced } from './paced.ts';
import { useSeedTape } from './seed.ts';
import { anchorAt, anchoredScrollTop, type ScrollAnchor, virtualWindow } from './virtual.ts';
import './tape.css';

/** Every row is this tall (tape.css), so the window of rows in view is arithmetic. */
export const TAPE_ROW_PX = 24;
/**
 * The tape is drawn at most this often: 10 times a second keeps up with any rate (each draw shows
 * every trade since the last), for a sixth of the repaints of drawing each animation frame.
 */
const DRAW_EVERY_MS = 100;
// The header cells: class (its width in tape.css) and title.
const HEAD: ReadonlyArray<[string, string]> = [
  ['c-time', 'Time'],
  ['num c-price', 'Price'],
  ['num c-qty', 'Qty'],
  ['c-broker', 'Buyer'],
  ['c-broker', 'Seller'],
  ['c-agg', 'Aggressor'],
];

const TapeRow = memo(function TapeRow({
  t,
  decimals,
  agents,
}: {
  t: Trade;
  decimals: number;
  agents: ReadonlyMap<number, AgentJson>;
}) {
  const a = aggressor(t.tradeType);
  const edited = (t.flags & TradeFlag.edited) !== 0;
  const buyer = agents.get(t.buyAgent);
  const seller = agents.get(t.sellAgent);
  return (
    <tr className={`${a.side ? `agg-${a.side}` : ''}${edited ? ' edited' : ''}`} data-seq={t.seq}>
      <td className="time">
        {b3TimeMs(t.time)}
        {edited && (
          <span className="edit-mark" title="Edited by the exchange" role="img" aria-label="edited">
            ✎
          </span>
        )}
      </td>
      <td className="num price">{price(t.price, decimals)}</td>
      <td className="num">{quantity(t.qty)}</td>
      <td title={buyer?.name}>{agentLabel(agents, t.buyAgent)}</td>
      <td title={seller?.name}>{agentLabel(agents, t.sellAgent)}</td>
      <td className="agg" title={a.title}>
        {a.label}
      </td>
    </tr>
  );
});

/** Renders again when the ticker's tape changed (state/market.ts), at most every DRAW_EVERY_MS. */
function useTapeDraws(ticker: string): void {
  const [, setDraws] = useState(0);
  useEffect(() => {
    const draw = paced(() => setDraws((n) => n + 1), DRAW_EVERY_MS);
    const unsubscribe = useMarket.subscribe((s, prev) => {
      if (s.tapeVersion[ticker] !== prev.tapeVersion[ticker]) draw();
    });
    return () => {
      unsubscribe();
      draw.cancel();
    };
  }, [ticker]);
}

/**
 * The ticker's trades as they print, newest first ("Times & Trades"): only the rows in view are
 * rendered, so the whole tape (the last 2,000) costs what a screenful does at any rate.
 */
export function TimesAndTrades({ ticker }: { ticker: string }) {
  useTapeDraws(ticker);
  useSeedTape(ticker);
  const decimals = useMarket((s) => s.instruments[ticker]?.priceDecimals ?? 2);
  const agents = useAgents((s) => s.byId);
  const { minQty, broker, set } = useTapeFilter();
  const [minText, setMinText] = useState(minQty ? String(minQty) : '');
  const tape = tradeTape(ticker);
  const rows = filterTape(tape, { minQty, broker });

  const box = useRef<HTMLDivElement>(null);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  // Scrolled down, the reader's row holds still while trades come in above it.
  const [anchor, setAnchor] = useState<ScrollAnchor | undefined>(undefined);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(360);
  const top = anchor ? anchoredScrollTop(rows, TAPE_ROW_PX, anchor) : scrollTop;
  const w = virtualWindow(rows.length, TAPE_ROW_PX, top, viewport);

  useLayoutEffect(() => {
    const el = box.current;
    if (el && anchor && Math.abs(el.scrollTop - top) >= 1) el.scrollTop = top;
  });
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setViewport(el.clientHeight);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    setAnchor(anchorAt(rowsRef.current, TAPE_ROW_PX, el.scrollTop));
  };
  const toNewest = () => {
    if (box.current) box.current.scrollTop = 0;
    setAnchor(undefined);
    setScrollTop(0);
  };
  const choices = brokerChoices(agents, tape);
  const minInvalid = parseMinQty(minText) === undefined;

  return (
    <section className="panel tape" aria-labelledby="tape-title">
      <h2 id="tape-title">
        Times &amp; Trades <small>{ticker}</small>
        {anchor && (
          <button type="button" className="small" onClick={toNewest}>
            Newest ↑
          </button>
        )}
      </h2>
      <div className="tape-filters">
        <label>
          Min qty
          <input
            inputMode="numeric"
            value={minText}
            aria-invalid={minInvalid || undefined}
            placeholder="any"
            onChange={(e) => {
              setMinText(e.target.value);
              const q = parseMinQty(e.target.value);
              if (q !== undefined) set({ minQty: q });
            }}
          />
        </label>
        <label>
          Broker
          <select
            aria-label="Broker"
            value={broker ?? ''}
            onChange={(e) => set({ broker: e.target.value === '' ? undefined : Number(e.target.value) })}
          >
            <option value="">All brokers</option>
            {choices.map((c) => (
              <option key={c.id} value={c.id} title={c.name}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <small className="muted count" aria-live="off">
          {rows.length === (tape?.size ?? 0)
            ? `${quantity(rows.length)} trades`
            : `${quantity(rows.length)} of ${quantity(tape?.size ?? 0)}`}
        </small>
      </div>
      {minInvalid && <p className="problem">Min qty is a whole number of shares or contracts</p>}
      <div className="tape-scroll" ref={box} onScroll={onScroll} data-testid="tape-scroll">
        <table className="tape-table" aria-label={`Times & Trades ${ticker}`} aria-rowcount={rows.length + 1}>
          <thead>
            <tr>
              {HEAD.map(([className, title]) => (
                <th key={title} scope="col" className={className}>
                  {title}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {w.padTop > 0 && (
              <tr className="pad" style={{ height: w.padTop }}>
                <td colSpan={HEAD.length} />
              </tr>
            )}
            {rows.slice(w.start, w.end).map((t) => (
              <TapeRow key={t.seq} t={t} decimals={decimals} agents={agents} />
            ))}
            {w.padBottom > 0 && (
              <tr className="pad" style={{ height: w.padBottom }}>
                <td colSpan={HEAD.length} />
              </tr>
            )}
          </tbody>
        </table>
        {rows.length === 0 && (
          <p className="muted empty">
            {tape?.size ? 'No trade on the tape passes the filter' : 'Trades show here as they print'}
          </p>
        )}
      </div>
    </section>
  );
}
