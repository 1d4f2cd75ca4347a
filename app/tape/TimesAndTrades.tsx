import { memo, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { AgentJson, Trade } from '../../sync-server/shared/market.ts';
import { TradeFlag } from '../../sync-server/shared/market.ts';
import { b3TimeMs, price, quantity } from '../format.ts';
import { type PlainId, type t as T, useT } from '../i18n/i18n.ts';
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
const HEAD: ReadonlyArray<[string, PlainId]> = [
  ['c-time', 'tape.time'],
  ['num c-price', 'tape.price'],
  ['num c-qty', 'tape.qty'],
  ['c-broker', 'tape.buyer'],
  ['c-broker', 'tape.seller'],
  ['c-agg', 'tape.aggressor'],
];

const TapeRow = memo(function TapeRow({
  trade,
  decimals,
  agents,
  t,
}: {
  trade: Trade;
  decimals: number;
  agents: ReadonlyMap<number, AgentJson>;
  /** The language's `t`: a new one draws the memoised row again. */
  t: typeof T;
}) {
  const a = aggressor(trade.tradeType);
  const edited = (trade.flags & TradeFlag.edited) !== 0;
  const buyer = agents.get(trade.buyAgent);
  const seller = agents.get(trade.sellAgent);
  return (
    <tr className={`${a.side ? `agg-${a.side}` : ''}${edited ? ' edited' : ''}`} data-seq={trade.seq}>
      <td className="time">
        {b3TimeMs(trade.time)}
        {edited && (
          <span className="edit-mark" title={t('tape.editedTitle')} role="img" aria-label={t('tape.edited')}>
            ✎
          </span>
        )}
      </td>
      <td className="num price">{price(trade.price, decimals)}</td>
      <td className="num">{quantity(trade.qty)}</td>
      <td title={buyer?.name}>{agentLabel(agents, trade.buyAgent)}</td>
      <td title={seller?.name}>{agentLabel(agents, trade.sellAgent)}</td>
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
  const t = useT();
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
        {t('panel.tape')} <small>{ticker}</small>
        {anchor && (
          <button type="button" className="small" onClick={toNewest}>
            {t('tape.newest')}
          </button>
        )}
      </h2>
      <div className="tape-filters">
        <label>
          {t('tape.minQty')}
          <input
            inputMode="numeric"
            value={minText}
            aria-invalid={minInvalid || undefined}
            placeholder={t('tape.any')}
            onChange={(e) => {
              setMinText(e.target.value);
              const q = parseMinQty(e.target.value);
              if (q !== undefined) set({ minQty: q });
            }}
          />
        </label>
        <label>
          {t('tape.broker')}
          <select
            aria-label={t('tape.broker')}
            value={broker ?? ''}
            onChange={(e) => set({ broker: e.target.value === '' ? undefined : Number(e.target.value) })}
          >
            <option value="">{t('tape.allBrokers')}</option>
            {choices.map((c) => (
              <option key={c.id} value={c.id} title={c.name}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <small className="muted count" aria-live="off">
          {rows.length === (tape?.size ?? 0)
            ? t('tape.count', { count: rows.length })
            : t('tape.countOf', { n: quantity(rows.length), total: quantity(tape?.size ?? 0) })}
        </small>
      </div>
      {minInvalid && <p className="problem">{t('tape.minQtyBad')}</p>}
      <div className="tape-scroll" ref={box} onScroll={onScroll} data-testid="tape-scroll">
        <table className="tape-table" aria-label={t('tape.aria', { ticker })} aria-rowcount={rows.length + 1}>
          <thead>
            <tr>
              {HEAD.map(([className, title]) => (
                <th key={title} scope="col" className={className}>
                  {t(title)}
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
            {rows.slice(w.start, w.end).map((trade) => (
              <TapeRow key={trade.seq} trade={trade} decimals={decimals} agents={agents} t={t} />
            ))}
            {w.padBottom > 0 && (
              <tr className="pad" style={{ height: w.padBottom }}>
                <td colSpan={HEAD.length} />
              </tr>
            )}
          </tbody>
        </table>
        {rows.length === 0 && (
          <p className="muted empty">{tape?.size ? t('tape.noneFiltered') : t('tape.empty')}</p>
        )}
      </div>
    </section>
  );
}
