import type { AlertKind } from '../shared/alerts.ts';
import { b3Day, type Quote, type Trade } from '../shared/market.ts';

// The market alerts a server watches, evaluated on each batch of one ticker's trades in the
// publish path: pure, no I/O; the caller persists firings and sends the notifications.
//
// What fires, for a batch of one ticker (its quote `before`, its trades in order, its quote `after`):
// - price_above: the last price crosses the level upwards: some trade at or above it after a price
//   below it. The path is before.last, then each trade's price; without `before` it starts at the
//   first trade, which cannot cross by itself. A gap counts (yesterday's last below, today's first
//   trade above). price_below mirrors it: at or below after above.
// - change_above / change_below: the same crossing on c = (price / previousClose − 1) × 100 against
//   the threshold in percent (c ≥ t after c < t; c ≤ t after c > t), within CHANGE_EPSILON so that
//   10.30 on a close of 10 makes +3 %. previousClose is after's; none (or ≤ 0), no change alert fires.
// - volume_above: the session's quantity reaches N in the batch: before.volume < N ≤ after.volume
//   on one B3 day; on a new day, or with no `before`, the volume before is 0. The firing trade is
//   the one whose running quantity (before's, plus the trades of after's day) reaches N; if the
//   trades do not add up to it (the exchange's day figures raised the quote's), the last trade.
// - At most one firing per alert per batch, at its first crossing. An alert with expiresAt ≤ now
//   never fires (expire() removes it); a repeating one fires only once now − lastFiredAt ≥
//   cooldownMs, and each time on a new crossing (a price that stays above does not fire again). A
//   one-shot alert leaves the book when it fires. An empty batch fires nothing.
// - Firing: at = now; price and tradeSeq of the trade that crossed; value the change in percent
//   (change kinds), the session's quantity after that trade (volume), null (price kinds).
//   Firings come ordered by tradeSeq, then alert id, whatever order the alerts were added in.
//
// How: per ticker and kind, the alerts sorted by a key (the level; negated for the downward kinds,
// so that every crossing is upwards). With m(j) the lowest value of the path up to step j, the keys
// crossed at step j are those in (m(j−1), p(j)]. Each step searches only the part of its interval
// that no earlier step searched (at most one new piece per step, plus the covered pieces it joins),
// so each key is visited once, at its first crossing. For n trades, A alerts of the ticker's kind
// and K alerts whose levels the batch crossed: evaluate is O(n + n·log A + K) per kind, whatever A;
// add, remove and a one-shot's firing are a binary search and a shift of one sorted array (O(A)
// moves, a few µs at 10,000), out of the hot path but for the firing.

/** The kinds of alert the market evaluates (`order` alerts follow the user's orders instead). */
export type WatchedKind = Exclude<AlertKind, 'order'>;

export interface WatchedAlert {
  readonly id: number;
  readonly userId: number;
  readonly kind: WatchedKind;
  readonly ticker: string;
  /** A price (price kinds), a signed percent (change kinds: +3, −2), a quantity (volume). */
  readonly threshold: number;
  readonly repeat: boolean;
  /** Repeating alerts: how long after a firing the next may come. */
  readonly cooldownMs: number;
  /** ms since the epoch; null for never. */
  readonly expiresAt: number | null;
  /** Wall clock, ms since the epoch; set by the book when the alert fires. */
  lastFiredAt: number | null;
}

export interface Firing {
  readonly alert: WatchedAlert;
  /** The `now` of the batch. */
  readonly at: number;
  /** The price of the trade that fired it. */
  readonly price: number;
  /** The change in percent (change kinds), the session's quantity (volume), null (price kinds). */
  readonly value: number | null;
  readonly tradeSeq: number;
}

/** What of a ticker's quote the evaluation reads. */
export type QuotePoint = Pick<Quote, 'last' | 'volume' | 'time' | 'previousClose'>;
/** What of a trade the evaluation reads. */
export type BatchTrade = Pick<Trade, 'price' | 'qty' | 'seq' | 'time'>;

/** How far (in percentage points) a change may fall short of its threshold and still reach it. */
export const CHANGE_EPSILON = 1e-9;

/** Alerts sorted by (key, id): one ticker's levels of one kind, or the book's expiries. */
class SortedAlerts {
  readonly keys: number[] = [];
  readonly alerts: WatchedAlert[] = [];

  /** The first index whose (key, id) is not below the one given. */
  private indexOf(key: number, id: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.keys[mid] as number;
      if (k < key || (k === key && (this.alerts[mid] as WatchedAlert).id < id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first index whose key is above `x`. */
  above(x: number): number {
    return upperBound(this.keys, x);
  }

  insert(key: number, alert: WatchedAlert): void {
    const i = this.indexOf(key, alert.id);
    this.keys.splice(i, 0, key);
    this.alerts.splice(i, 0, alert);
  }

  delete(key: number, id: number): void {
    const i = this.indexOf(key, id);
    if (this.alerts[i]?.id !== id) return;
    this.keys.splice(i, 1);
    this.alerts.splice(i, 1);
  }
}

/**
 * Calls `visit(i, j)` once for each key i (of `keys`, ascending) that `path` crosses upwards, at
 * the first step j that crosses it: path[j] ≥ keys[i] after some path[h] < keys[i], h < j.
 */
function crossingsUp(
  keys: readonly number[],
  path: Float64Array,
  visit: (i: number, j: number) => void,
): void {
  // The pieces (lows[k], highs[k]] searched so far: disjoint, the lowest last, all above `min`.
  const lows: number[] = [];
  const highs: number[] = [];
  const search = (lo: number, hi: number, j: number) => {
    for (let i = upperBound(keys, lo); i < keys.length && (keys[i] as number) <= hi; i++) visit(i, j);
  };
  let min = path[0] as number;
  for (let j = 1; j < path.length; j++) {
    const p = path[j] as number;
    if (p <= min) {
      min = p;
      continue;
    }
    // (min, p] less the pieces it covers; they join it.
    let from = min;
    let top = p;
    while (lows.length > 0 && (lows[lows.length - 1] as number) < p) {
      const low = lows.pop() as number;
      const high = highs.pop() as number;
      search(from, low, j);
      from = high;
      if (high > top) top = high;
    }
    if (from < p) search(from, p, j);
    lows.push(min);
    highs.push(top);
  }
}

/** The first index of `keys` (ascending) whose key is above `x`. */
function upperBound(keys: readonly number[], x: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An alert's sort key: its level, with the tolerance for changes, negated for downward kinds. */
function keyOf(alert: WatchedAlert): number {
  switch (alert.kind) {
    case 'price_above':
    case 'volume_above':
      return alert.threshold;
    case 'price_below':
      return -alert.threshold;
    case 'change_above':
      return alert.threshold - CHANGE_EPSILON;
    case 'change_below':
      return -(alert.threshold + CHANGE_EPSILON);
  }
}

const change = (price: number, previousClose: number) => (price / previousClose - 1) * 100;

type TickerAlerts = Record<WatchedKind, SortedAlerts>;

const tickerAlerts = (): TickerAlerts => ({
  price_above: new SortedAlerts(),
  price_below: new SortedAlerts(),
  change_above: new SortedAlerts(),
  change_below: new SortedAlerts(),
  volume_above: new SortedAlerts(),
});

interface Entry {
  readonly alert: WatchedAlert;
  readonly key: number;
  readonly levels: SortedAlerts;
}

/** The active market alerts of every ticker, indexed for evaluation on each batch. */
export class AlertBook {
  private readonly byId = new Map<number, Entry>();
  private readonly byTicker = new Map<string, TickerAlerts>();
  private readonly expiries = new SortedAlerts();

  /** Adds an alert; one with the same id is replaced. */
  add(alert: WatchedAlert): void {
    this.remove(alert.id);
    let ticker = this.byTicker.get(alert.ticker);
    if (!ticker) {
      ticker = tickerAlerts();
      this.byTicker.set(alert.ticker, ticker);
    }
    const entry: Entry = { alert, key: keyOf(alert), levels: ticker[alert.kind] };
    entry.levels.insert(entry.key, alert);
    if (alert.expiresAt !== null) this.expiries.insert(alert.expiresAt, alert);
    this.byId.set(alert.id, entry);
  }

  remove(id: number): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.byId.delete(id);
    entry.levels.delete(entry.key, id);
    if (entry.alert.expiresAt !== null) this.expiries.delete(entry.alert.expiresAt, id);
    return true;
  }

  get(id: number): WatchedAlert | undefined {
    return this.byId.get(id)?.alert;
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Evaluates one ticker's batch (the file's head says what fires): `before` is the ticker's quote
   * before it (undefined when no trade is known yet), `after` the quote after, `now` the wall
   * clock. Sets lastFiredAt of the alerts that fire and removes the one-shot ones.
   */
  evaluate(
    ticker: string,
    before: QuotePoint | undefined,
    trades: readonly BatchTrade[],
    after: QuotePoint,
    now: number,
  ): Firing[] {
    const alerts = this.byTicker.get(ticker);
    if (!alerts || trades.length === 0) return [];
    const firings: Firing[] = [];
    const fire = (alert: WatchedAlert, trade: BatchTrade, value: number | null) => {
      if (alert.expiresAt !== null && alert.expiresAt <= now) return;
      if (alert.repeat && alert.lastFiredAt !== null && now - alert.lastFiredAt < alert.cooldownMs) return;
      alert.lastFiredAt = now;
      firings.push({ alert, at: now, price: trade.price, value, tradeSeq: trade.seq });
    };
    // Path step j is trade j − first: `before` is step 0 when there is one.
    const first = before ? 1 : 0;
    const along = (
      levels: SortedAlerts,
      value: (price: number) => number,
      shown: (price: number) => number | null,
    ) => {
      if (levels.keys.length === 0) return;
      const path = new Float64Array(trades.length + first);
      if (before) path[0] = value(before.last);
      for (let i = 0; i < trades.length; i++) path[i + first] = value((trades[i] as BatchTrade).price);
      crossingsUp(levels.keys, path, (i, j) => {
        const trade = trades[j - first] as BatchTrade;
        fire(levels.alerts[i] as WatchedAlert, trade, shown(trade.price));
      });
    };
    const none = () => null;
    along(alerts.price_above, (p) => p, none);
    along(alerts.price_below, (p) => -p, none);
    const close = after.previousClose;
    if (close !== undefined && close > 0) {
      const shown = (p: number) => change(p, close);
      along(alerts.change_above, shown, shown);
      along(alerts.change_below, (p) => -change(p, close), shown);
    }
    this.volumeReached(alerts.volume_above, before, trades, after, fire);

    for (const f of firings) if (!f.alert.repeat) this.remove(f.alert.id);
    return firings.sort((a, b) => a.tradeSeq - b.tradeSeq || a.alert.id - b.alert.id);
  }

  /** Removes and returns the alerts with expiresAt ≤ now, soonest first. */
  expire(now: number): WatchedAlert[] {
    const gone = this.expiries.alerts.slice(0, this.expiries.above(now));
    for (const alert of gone) this.remove(alert.id);
    return gone;
  }

  private volumeReached(
    levels: SortedAlerts,
    before: QuotePoint | undefined,
    trades: readonly BatchTrade[],
    after: QuotePoint,
    fire: (alert: WatchedAlert, trade: BatchTrade, value: number | null) => void,
  ): void {
    if (levels.keys.length === 0) return;
    const day = b3Day(after.time);
    const from = before && b3Day(before.time) === day ? before.volume : 0;
    // Levels ascending, so the trade that reaches each only moves on: one pass over the trades.
    let volume = from;
    let next = 0;
    for (let i = levels.above(from); i < levels.keys.length; i++) {
      const n = levels.keys[i] as number;
      if (n > after.volume) break;
      while (volume < n && next < trades.length) {
        const t = trades[next++] as BatchTrade;
        if (b3Day(t.time) === day) volume += t.qty;
      }
      const alert = levels.alerts[i] as WatchedAlert;
      if (volume >= n) fire(alert, trades[next - 1] as BatchTrade, volume);
      else fire(alert, trades[trades.length - 1] as BatchTrade, after.volume);
    }
  }
}
