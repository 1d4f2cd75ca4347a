import {
  type CSSProperties,
  type KeyboardEvent,
  type MouseEvent,
  memo,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { toTicks } from '../../sync-server/shared/instruments.ts';
import type { OrderJson } from '../../sync-server/shared/orders.ts';
import { askAlert } from '../alerts/AlertDialog.tsx';
import { AlertBell } from '../alerts/Bell.tsx';
import { price as fmt, quantity } from '../format.ts';
import { errorText, msg, say, type t as T, useT } from '../i18n/i18n.ts';
import { watchBooks } from '../live/socket.ts';
import { useCancelOrder, useModifyOrder, useOrders } from '../orders/api.ts';
import { isWorking } from '../orders/blotter.ts';
import { type Placed, placeOrder, verdictText } from '../orders/place.ts';
import { checkTicket, newClientOrderId } from '../orders/ticket.ts';
import { buySell } from '../orders/words.ts';
import { KeyList } from '../screens/KeyList.tsx';
import { useBook } from '../state/book.ts';
import { tradeTape, useDayLimits, useMarket } from '../state/market.ts';
import { useSession } from '../state/session.ts';
import { useSettings } from '../state/settings.ts';
import {
  bookByTicks,
  keyAction,
  LADDER_KEYS,
  type LadderRow,
  ladderRows,
  ownByTicks,
  rowTicks,
  volumeByTicks,
} from './model.ts';
import './ladder.css';

const ABOVE = 12;
const BELOW = 12;
const PHONE = '(max-width: 720px)';

type Armed = { side: 'buy' | 'sell'; ticks: number } | undefined;

/** Working, a limit, and no cancel asked yet: what the ladder moves and cancels. */
const cancellable = (o: OrderJson) => isWorking(o) && o.price !== null && o.state !== 'pending_cancel';

interface RowProps {
  row: LadderRow;
  digits: number;
  tick: number;
  last: boolean;
  bestBid: boolean;
  bestAsk: boolean;
  cursor: boolean;
  selected: boolean;
  armed: 'buy' | 'sell' | undefined;
  /** Stable across renders (the ladder's handlers go through a ref): not compared. */
  onSide(side: 'buy' | 'sell', ticks: number): void;
  onOwn(side: 'buy' | 'sell', ticks: number): void;
  onOwnCancel(ticks: number, e: MouseEvent): void;
  /** A click on the price: with Alt, an alert at it. */
  onPrice(ticks: number, e: MouseEvent): void;
  /** The language's `t`: a new one draws the memoised row again. */
  t: typeof T;
}

const ROW_FIELDS = [
  'ticks',
  'bidQty',
  'bidCount',
  'askQty',
  'askCount',
  'volume',
  'ownBuy',
  'ownSell',
] as const;
const FLAGS = ['digits', 'tick', 'last', 'bestBid', 'bestAsk', 'cursor', 'selected', 'armed', 't'] as const;
/**
 * A row is drawn again only when what it shows changed: the rows are rebuilt on every book or
 * tape frame, but most of them show the same numbers (at 1,000 trades/s every row re-rendering
 * every frame cost the Trade screen its frame rate).
 */
const sameRow = (a: RowProps, b: RowProps) =>
  ROW_FIELDS.every((k) => a.row[k] === b.row[k]) && FLAGS.every((k) => a[k] === b[k]);

const Row = memo(function Row({
  row,
  digits,
  tick,
  last,
  bestBid,
  bestAsk,
  cursor,
  selected,
  armed,
  onSide,
  onOwn,
  onOwnCancel,
  onPrice,
  t,
}: RowProps) {
  const p = fmt(row.ticks * tick, digits);
  const cls = [
    last ? 'last' : '',
    bestBid ? 'best-bid' : '',
    bestAsk ? 'best-ask' : '',
    cursor ? 'cursor' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const own = (side: 'buy' | 'sell', qty: number) => (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the keys act on the ladder's cursor (onKey)
    <td
      className={`own own-${side}${selected ? ' selected' : ''}`}
      data-testid={`own-${side}-${p}`}
      onClick={() => onOwn(side, row.ticks)}
      onContextMenu={(e) => onOwnCancel(row.ticks, e)}
      title={qty ? t('ladder.ownTitle') : undefined}
    >
      {qty ? quantity(qty) : ''}
    </td>
  );
  // The book's side of the row: a click there buys (bid) or sells (ask) at its price.
  const book = (side: 'buy' | 'sell', name: 'bid' | 'ask', qty: number, count: number) => (
    // biome-ignore lint/a11y/useKeyWithClickEvents: B / S at the cursor (onKey)
    <td
      className={`${name}${armed === side ? ' armed' : ''}`}
      data-testid={`${name}-${p}`}
      onClick={() => onSide(side, row.ticks)}
    >
      {qty ? (
        <>
          {quantity(qty)}
          <small>{count}</small>
        </>
      ) : (
        ''
      )}
    </td>
  );
  return (
    <tr className={cls} data-ticks={row.ticks} data-price={p}>
      {own('buy', row.ownBuy)}
      {book('buy', 'bid', row.bidQty, row.bidCount)}
      <th scope="row" className="price" onClick={(e) => onPrice(row.ticks, e)}>
        {p}
      </th>
      {book('sell', 'ask', row.askQty, row.askCount)}
      {own('sell', row.ownSell)}
      <td className="vol" title={row.volume ? t('ladder.traded', { qty: quantity(row.volume) }) : undefined}>
        {/* Its share of the largest volume shown (--ladder-max, set on the table): a new largest
            one changes one style, not every row. */}
        {row.volume > 0 && <span style={{ width: `calc(100% * ${row.volume} / var(--ladder-max))` }} />}
      </td>
    </tr>
  );
}, sameRow);

/**
 * The price ladder of a ticker (Profit's Super DOM): the book's depth per price around a centre
 * that moves only when asked, the volume traded at each price, the trader's working orders at
 * theirs; a click or a key places, moves or cancels, through the ticket's checks.
 */
export function Ladder({ ticker }: { ticker: string }) {
  const inst = useMarket((s) => s.instruments[ticker]);
  const last = useMarket((s) => s.quotes[ticker]?.last);
  const tapeVersion = useMarket((s) => s.tapeVersion[ticker]);
  const link = useMarket((s) => s.link);
  const book = useBook((s) => s.books[ticker]);
  const limits = useDayLimits(ticker);
  const role = useSession((s) => s.user?.role);
  const confirmOrders = useSettings((s) => s.confirmOrders);
  const outboxMinutes = useSettings((s) => s.outboxMinutes);
  const orders = useOrders();
  const modify = useModifyOrder();
  const cancel = useCancelOrder();
  const phone = typeof matchMedia === 'function' && matchMedia(PHONE).matches;
  const [unlocked, setUnlocked] = useState(false);
  const [lots, setLots] = useState('1');
  const [centre, setCentre] = useState<number>();
  const [cursor, setCursor] = useState<number>();
  const [selected, setSelected] = useState<{ side: 'buy' | 'sell'; ticks: number }>();
  const [armed, setArmed] = useState<Armed>();
  const [verdict, setVerdict] = useState<Placed>();
  const box = useRef<HTMLDivElement>(null);
  const t = useT();

  useEffect(() => {
    watchBooks([ticker]);
    return () => watchBooks([]);
  }, [ticker]);

  const tick = inst?.tickSize ?? 0.01;
  const digits = inst?.priceDecimals ?? 2;
  const lastTicks = last === undefined ? undefined : toTicks(last, tick);
  // Centred on the last price once it is known; after that only on request (C, the button).
  useEffect(() => {
    if (centre === undefined && lastTicks !== undefined) {
      setCentre(lastTicks);
      setCursor(lastTicks);
    }
  }, [centre, lastTicks]);

  const canTrade = (role === 'admin' || role === 'trader') && (!phone || unlocked);
  const list = orders.data?.orders ?? [];
  // tapeVersion says the tape changed: the volume is folded again then.
  const volume = useMemo(() => {
    const tape = tradeTape(ticker);
    const trades = [];
    for (let i = 0; tape && i < tape.size; i++)
      trades.push(tape.at(i) as NonNullable<ReturnType<typeof tape.at>>);
    return volumeByTicks(trades, tick);
  }, [ticker, tick, tapeVersion]);
  const rows = useMemo(() => {
    if (centre === undefined) return [];
    return ladderRows(
      rowTicks(centre, ABOVE, BELOW),
      bookByTicks(book, tick),
      volume,
      ownByTicks(list, ticker, tick),
    );
  }, [centre, book, tick, volume, list, ticker]);
  const maxVolume = Math.max(1, ...rows.map((r) => r.volume));
  const bestBid = book?.bids[0] && toTicks(book.bids[0].price, tick);
  const bestAsk = book?.asks[0] && toTicks(book.asks[0].price, tick);
  const qty = Number(lots) * (inst?.lotSize ?? 1);
  const off =
    lastTicks === undefined || centre === undefined
      ? undefined
      : lastTicks > centre + ABOVE
        ? 'above'
        : lastTicks < centre - BELOW
          ? 'below'
          : undefined;

  async function place(side: 'buy' | 'sell', ticks: number) {
    if (!canTrade) return;
    const draft = {
      ticker,
      side,
      type: 'limit' as const,
      qty,
      price: Number((ticks * tick).toFixed(digits)),
    };
    const problems = Object.values(checkTicket(draft, inst, limits));
    if (problems.length) return setVerdict({ kind: 'error', text: problems.join('; ') });
    if (confirmOrders && (armed?.side !== side || armed.ticks !== ticks)) {
      setArmed({ side, ticks });
      return setVerdict({
        kind: 'ok',
        text: msg('ladder.armed', {
          what: buySell(side, quantity(qty), ticker),
          price: fmt(draft.price, digits),
        }),
      });
    }
    setArmed(undefined);
    setVerdict(
      await placeOrder(
        { clientOrderId: newClientOrderId(), ...draft },
        { offline: !navigator.onLine || link === 'offline', outboxMinutes },
      ),
    );
  }

  /** The trader's orders at a price that can still be moved or cancelled. */
  const ordersAt = (ticks: number, side?: 'buy' | 'sell') =>
    list.filter(
      (o) =>
        cancellable(o) &&
        o.ticker === ticker &&
        toTicks(o.price as number, tick) === ticks &&
        (side === undefined || o.side === side),
    );

  function moveTo(ticks: number, from = selected) {
    if (!from || !canTrade) return;
    const moving = ordersAt(from.ticks, from.side);
    if (moving.length === 0) return;
    const price = Number((ticks * tick).toFixed(digits));
    for (const o of moving) {
      const problems = Object.values(
        checkTicket({ ticker, side: o.side, type: 'limit', qty: o.qty, price }, inst, limits),
      );
      if (problems.length) return setVerdict({ kind: 'error', text: problems.join('; ') });
    }
    for (const o of moving)
      modify.mutate(
        { id: o.id, patch: { price } },
        {
          onError: (e) =>
            setVerdict({ kind: 'error', text: msg('ladder.moveRefused', { reason: errorText(e) }) }),
        },
      );
    setVerdict({
      kind: 'ok',
      text: msg('ladder.moving', { count: moving.length, price: fmt(price, digits) }),
    });
    setSelected(undefined);
  }

  function cancelOrders(list: OrderJson[], text: (count: number) => Placed['text']) {
    if (!canTrade || list.length === 0) return;
    for (const o of list) cancel.mutate(o.id);
    setVerdict({ kind: 'ok', text: text(list.length) });
  }
  const cancelAt = (ticks: number) =>
    cancelOrders(ordersAt(ticks), (count) =>
      msg('ladder.cancellingAt', { count, price: fmt(ticks * tick, digits) }),
    );
  const cancelTicker = () =>
    cancelOrders(
      list.filter((o) => o.ticker === ticker && cancellable(o)),
      (count) => msg('ladder.cancellingOn', { count, ticker }),
    );

  const onSideNow = (side: 'buy' | 'sell', ticks: number) => {
    setCursor(ticks);
    if (selected) return moveTo(ticks);
    void place(side, ticks);
  };
  const onOwnNow = (side: 'buy' | 'sell', ticks: number) => {
    setCursor(ticks);
    if (selected) return moveTo(ticks);
    if (ordersAt(ticks, side).length) setSelected({ side, ticks });
  };
  const onOwnCancelNow = (ticks: number, e: MouseEvent) => {
    e.preventDefault();
    cancelAt(ticks);
  };
  const priceOf = (ticks: number) => Number((ticks * tick).toFixed(digits));
  const onPriceNow = (ticks: number, e: MouseEvent) => {
    if (!e.altKey) return;
    setCursor(ticks);
    askAlert(ticker, priceOf(ticks));
  };
  // The rows get handlers that never change and call this render's: a row drawn earlier (sameRow)
  // still acts on the ladder's state of now.
  const now = useRef({ onSideNow, onOwnNow, onOwnCancelNow, onPriceNow });
  now.current = { onSideNow, onOwnNow, onOwnCancelNow, onPriceNow };
  const handlers = useMemo(
    () => ({
      onSide: (side: 'buy' | 'sell', ticks: number) => now.current.onSideNow(side, ticks),
      onOwn: (side: 'buy' | 'sell', ticks: number) => now.current.onOwnNow(side, ticks),
      onOwnCancel: (ticks: number, e: MouseEvent) => now.current.onOwnCancelNow(ticks, e),
      onPrice: (ticks: number, e: MouseEvent) => now.current.onPriceNow(ticks, e),
    }),
    [],
  );

  function onKey(e: KeyboardEvent<HTMLDivElement>) {
    if ((e.target as HTMLElement).tagName === 'INPUT') return;
    const a = keyAction(e);
    if (!a || cursor === undefined) return;
    e.preventDefault();
    if (a.kind === 'cursor') {
      const next = Math.max(1, cursor + a.by);
      setCursor(next);
      // The cursor may leave the rows shown: they follow it, the trader asked.
      if (centre !== undefined && (next > centre + ABOVE || next < centre - BELOW)) setCentre(next);
    } else if (a.kind === 'buy' || a.kind === 'sell') void place(a.kind, cursor);
    else if (a.kind === 'move') moveTo(cursor);
    else if (a.kind === 'nudge') {
      // The selected orders, or else the trader's orders on the cursor's row, one tick.
      const at = selected?.ticks ?? cursor;
      const side = selected?.side ?? ordersAt(at)[0]?.side;
      if (!side) return;
      moveTo(at + a.by, { ticks: at, side });
      setCursor(at + a.by);
    } else if (a.kind === 'cancelAt') cancelAt(cursor);
    else if (a.kind === 'alert') askAlert(ticker, priceOf(cursor));
    else if (a.kind === 'cancelAll') cancelTicker();
    else if (a.kind === 'centre' && lastTicks !== undefined) {
      setCentre(lastTicks);
      setCursor(lastTicks);
    } else if (a.kind === 'escape') {
      setSelected(undefined);
      setArmed(undefined);
      setVerdict(undefined);
    }
  }

  return (
    <section className="panel ladder" aria-labelledby="ladder-title">
      <h2 id="ladder-title">
        {t('panel.ladder')} <small>{ticker}</small>
        <AlertBell
          label={t('priceAlerts.createAtCentre', { ticker })}
          onClick={() => centre !== undefined && askAlert(ticker, priceOf(centre))}
        />
        <button
          type="button"
          className="small"
          onClick={() => {
            if (lastTicks === undefined) return;
            setCentre(lastTicks);
            setCursor(lastTicks);
            box.current?.focus();
          }}
        >
          {t('ladder.centre')}
        </button>
      </h2>
      <div className="ladder-bar">
        <label>
          {t('ladder.lots')}
          <input
            inputMode="numeric"
            value={lots}
            aria-label={t('ladder.lotsPerClick')}
            onChange={(e) => setLots(e.target.value.replace(/\D/g, '').slice(0, 5) || '')}
          />
        </label>
        <small className="muted">= {quantity(qty || 0)}</small>
        {phone && (role === 'admin' || role === 'trader') && (
          <button
            type="button"
            className="small"
            aria-pressed={unlocked}
            onClick={() => setUnlocked(!unlocked)}
          >
            {unlocked ? t('ladder.lock') : t('ladder.unlock')}
          </button>
        )}
        {canTrade && (
          <button type="button" className="small danger" onClick={cancelTicker}>
            {t('ladder.cancelAll', { ticker })}
          </button>
        )}
      </div>
      {!canTrade && (
        <p className="muted ladder-ro">
          {phone && role !== 'viewer' ? t('ladder.readOnlyUnlock') : t('ladder.readOnly')}
        </p>
      )}
      {off && (
        <button
          type="button"
          className="small ladder-off"
          onClick={() => lastTicks !== undefined && setCentre(lastTicks)}
        >
          {off === 'above' ? '▲' : '▼'}{' '}
          {t(off === 'above' ? 'ladder.offAbove' : 'ladder.offBelow', { price: fmt(last ?? 0, digits) })}
        </button>
      )}
      <div
        ref={box}
        className="ladder-scroll"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a widget with its own keys (LADDER_KEYS)
        tabIndex={0}
        role="application"
        aria-label={t('ladder.aria', { ticker })}
        onKeyDown={onKey}
        onWheel={(e) =>
          centre !== undefined && setCentre(Math.max(1 + BELOW, centre + (e.deltaY < 0 ? 1 : -1)))
        }
        data-testid="ladder"
      >
        <table className="ladder-table" style={{ '--ladder-max': maxVolume } as CSSProperties}>
          <thead>
            <tr>
              <th scope="col">{t('ladder.mine')}</th>
              <th scope="col">{t('ladder.bid')}</th>
              <th scope="col">{t('ladder.price')}</th>
              <th scope="col">{t('ladder.ask')}</th>
              <th scope="col">{t('ladder.mine')}</th>
              <th scope="col">{t('ladder.vol')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <Row
                key={r.ticks}
                row={r}
                digits={digits}
                tick={tick}
                last={r.ticks === lastTicks}
                bestBid={r.ticks === bestBid}
                bestAsk={r.ticks === bestAsk}
                cursor={r.ticks === cursor}
                selected={selected?.ticks === r.ticks}
                armed={armed?.ticks === r.ticks ? armed.side : undefined}
                onSide={handlers.onSide}
                onOwn={handlers.onOwn}
                onOwnCancel={handlers.onOwnCancel}
                onPrice={handlers.onPrice}
                t={t}
              />
            ))}
          </tbody>
        </table>
        {rows.length === 0 && <p className="muted">{t('ladder.waiting')}</p>}
      </div>
      {verdict && (
        <p role="status" className={`verdict ${verdict.kind}`}>
          {say(verdictText(verdict, list))}
        </p>
      )}
      <KeyList title={t('ladder.keys')} keys={LADDER_KEYS} />
    </section>
  );
}
