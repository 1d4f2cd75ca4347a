import { type CSSProperties, lazy, type ReactNode, Suspense, useEffect, useRef } from 'react';
import { type PlainId, say, useT } from '../i18n/i18n.ts';
import { Blotter } from '../orders/Blotter.tsx';
import { OrderTicket } from '../orders/OrderTicket.tsx';
import { OutboxPanel } from '../orders/OutboxPanel.tsx';
import { Positions } from '../orders/Positions.tsx';
import { Alerts } from '../screens/Alerts.tsx';
import { QuoteBoard } from '../screens/QuoteBoard.tsx';
import { useMarket } from '../state/market.ts';
import { useUi } from '../state/ui.ts';
import { hide, MAX_WIDTH, MIN_WIDTH, move, type PanelId, setHeight, setWidth, show } from './model.ts';
import { useWorkspace } from './store.ts';
import './workspace.css';

// Panels not needed for the first quote load on demand: the initial bundle stays small.
const CandleChart = lazy(() => import('../chart/CandleChart.tsx'));
// Times & Trades and the broker flow: one chunk, loaded when the Trade screen opens.
const TimesAndTrades = lazy(() => import('../tape/index.ts').then((m) => ({ default: m.TimesAndTrades })));
const BrokerFlow = lazy(() => import('../tape/index.ts').then((m) => ({ default: m.BrokerFlow })));
const Ladder = lazy(() => import('../ladder/index.ts').then((m) => ({ default: m.Ladder })));

const COLUMN_KEYS = ['left', 'middle', 'right'] as const;

/** What each panel is called where the trader arranges them. */
export const PANEL_NAMES: Record<PanelId, PlainId> = {
  quotes: 'panel.quotes',
  chart: 'panel.chart',
  ladder: 'panel.ladder',
  tape: 'panel.tape',
  flow: 'panel.flow',
  ticket: 'panel.ticket',
  blotter: 'panel.blotter',
  positions: 'panel.positions',
  alerts: 'panel.alerts',
};

function panel(id: PanelId, ticker: string | undefined): ReactNode {
  const lazyPanel = (node: ReactNode, className: string) => (
    <Suspense fallback={<section className={`panel ${className}`} />}>{ticker && node}</Suspense>
  );
  switch (id) {
    case 'quotes':
      return <QuoteBoard />;
    case 'chart':
      return lazyPanel(<CandleChart key={ticker} ticker={ticker as string} />, 'chart');
    case 'ladder':
      return lazyPanel(<Ladder key={ticker} ticker={ticker as string} />, 'ladder');
    case 'tape':
      return lazyPanel(<TimesAndTrades key={ticker} ticker={ticker as string} />, 'tape');
    case 'flow':
      return lazyPanel(<BrokerFlow key={ticker} ticker={ticker as string} />, 'flow');
    case 'ticket':
      return (
        <>
          <OrderTicket />
          <OutboxPanel />
        </>
      );
    case 'blotter':
      return <Blotter />;
    case 'positions':
      return <Positions />;
    case 'alerts':
      return <Alerts limit={5} />;
  }
}

/** A panel where the trader put it, with its move, hide and height controls while arranging. */
function Placed({ id, column, index, count }: { id: PanelId; column: number; index: number; count: number }) {
  // Selected, not read once: the feed's tickers arrive after the first render, and the chart,
  // the tape and the flow of the first one must appear then without a click.
  const selected = useUi((s) => s.ticker);
  const first = useMarket((s) => s.tickers[0]);
  const ticker = selected ?? first;
  const arranging = useWorkspace((s) => s.arranging);
  const height = useWorkspace((s) => s.workspace.heights[id]);
  const change = useWorkspace((s) => s.change);
  const box = useRef<HTMLDivElement>(null);
  const t = useT();
  const content = panel(id, ticker);
  const name = t(PANEL_NAMES[id]);
  // Dragged by the resize handle while arranging: the height it is left at is kept.
  const keepHeight = () => {
    const h = box.current?.offsetHeight;
    if (h && h !== height) void change((ws) => setHeight(ws, id, h));
  };
  const button = (label: string, text: string, disabled: boolean, act: () => void) => (
    <button type="button" className="small" aria-label={label} disabled={disabled} onClick={act}>
      {text}
    </button>
  );
  return (
    <div
      ref={box}
      className={`ws-panel${arranging ? ' arranging' : ''}${height ? ' sized' : ''}`}
      data-panel={id}
      style={height ? ({ '--ws-height': `${height}px` } as CSSProperties) : undefined}
      onPointerUp={arranging ? keepHeight : undefined}
    >
      {arranging && (
        <div className="ws-tools" role="toolbar" aria-label={t('ws.arrangeTools', { name })}>
          <strong>{name}</strong>
          {button(
            t('ws.moveLeft', { name }),
            '◀',
            column === 0,
            () => void change((ws) => move(ws, id, 'left')),
          )}
          {button(t('ws.moveUp', { name }), '▲', index === 0, () => void change((ws) => move(ws, id, 'up')))}
          {button(
            t('ws.moveDown', { name }),
            '▼',
            index === count - 1,
            () => void change((ws) => move(ws, id, 'down')),
          )}
          {button(
            t('ws.moveRight', { name }),
            '▶',
            column === 2,
            () => void change((ws) => move(ws, id, 'right')),
          )}
          {button(t('ws.shorter', { name }), '−', false, () =>
            change((ws) => setHeight(ws, id, (height ?? box.current?.offsetHeight ?? 400) - 80)),
          )}
          {button(t('ws.taller', { name }), '+', false, () =>
            change((ws) => setHeight(ws, id, (height ?? box.current?.offsetHeight ?? 400) + 80)),
          )}
          {height !== undefined &&
            button(
              t('ws.fit', { name }),
              t('ws.fitText'),
              false,
              () => void change((ws) => setHeight(ws, id, undefined)),
            )}
          {button(t('ws.hide', { name }), t('ws.hideText'), false, () => void change((ws) => hide(ws, id)))}
        </div>
      )}
      {content}
    </div>
  );
}

/** The bar above the Trade screen: arrange, the hidden panels to show again, back to Tape's layout. */
function ArrangeBar() {
  const { arranging, setArranging, workspace, change, reset, error } = useWorkspace();
  const t = useT();
  return (
    <div className="ws-bar">
      <button
        type="button"
        className="small"
        aria-pressed={arranging}
        onClick={() => setArranging(!arranging)}
      >
        {arranging ? t('ws.done') : t('ws.arrange')}
      </button>
      {arranging && (
        <>
          {workspace.hidden.map((id) => (
            <button
              key={id}
              type="button"
              className="small"
              onClick={() => void change((ws) => show(ws, id))}
            >
              {t('ws.show', { name: t(PANEL_NAMES[id]) })}
            </button>
          ))}
          <button type="button" className="small link" onClick={() => void reset()}>
            {t('ws.reset')}
          </button>
        </>
      )}
      {error && (
        <p role="alert" className="problem">
          {say(error)}
        </p>
      )}
    </div>
  );
}

/** The Trade screen as this user arranged it on this device (app/workspace/model.ts). */
export function TradeScreen() {
  const workspace = useWorkspace((s) => s.workspace);
  const arranging = useWorkspace((s) => s.arranging);
  const change = useWorkspace((s) => s.change);
  const t = useT();
  useEffect(() => () => useWorkspace.getState().setArranging(false), []);
  const widths = workspace.columns.map((c) => `minmax(0, ${c.width}fr)`).join(' ');
  return (
    <>
      <ArrangeBar />
      <div
        className="ws-grid"
        style={{ '--ws-columns': widths } as CSSProperties}
        data-testid="trade-workspace"
      >
        {workspace.columns.map((col, c) => (
          <div key={COLUMN_KEYS[c]} className="ws-column" data-column={c}>
            {arranging && (
              <fieldset className="ws-width">
                <legend className="sr-only">{t('ws.width', { n: c + 1 })}</legend>
                <button
                  type="button"
                  className="small"
                  aria-label={t('ws.narrower', { n: c + 1 })}
                  disabled={col.width <= MIN_WIDTH}
                  onClick={() => void change((ws) => setWidth(ws, c, col.width - 0.2))}
                >
                  ⇤
                </button>
                <span>{col.width.toFixed(1)}</span>
                <button
                  type="button"
                  className="small"
                  aria-label={t('ws.wider', { n: c + 1 })}
                  disabled={col.width >= MAX_WIDTH}
                  onClick={() => void change((ws) => setWidth(ws, c, col.width + 0.2))}
                >
                  ⇥
                </button>
              </fieldset>
            )}
            {col.panels.map((id, i) => (
              <Placed key={id} id={id} column={c} index={i} count={col.panels.length} />
            ))}
            {arranging && col.panels.length === 0 && <p className="muted ws-empty">{t('ws.empty')}</p>}
          </div>
        ))}
      </div>
    </>
  );
}
