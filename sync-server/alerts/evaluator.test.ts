import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sessionEnd } from '../shared/alerts.ts';
import { b3Day } from '../shared/market.ts';
import {
  AlertBook,
  type BatchTrade,
  CHANGE_EPSILON,
  type Firing,
  type QuotePoint,
  type WatchedAlert,
  type WatchedKind,
} from './evaluator.ts';

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 11, 1, 13, 0); // 10:00 Brasília, Tuesday 1 Dec 2026
const KINDS: readonly WatchedKind[] = [
  'price_above',
  'price_below',
  'change_above',
  'change_below',
  'volume_above',
];

type AlertSpec = Pick<WatchedAlert, 'id' | 'kind' | 'threshold'> & Partial<WatchedAlert>;
const alert = (spec: AlertSpec): WatchedAlert => ({
  userId: 1,
  ticker: 'PETR4',
  repeat: false,
  cooldownMs: 0,
  expiresAt: null,
  lastFiredAt: null,
  ...spec,
});

interface BatchOptions {
  /** The batch's trades start on the next B3 day from this index on. */
  readonly newDayAt?: number;
  readonly previousClose?: number;
  /** Quantity the exchange's day figures add to the quote beyond the trades. */
  readonly extraVolume?: number;
  /** The exchange time the batch's trades follow (by default, the ticker's last trade). */
  readonly after?: number;
}

/** One ticker's trades as the market folds them: what AlertBook.evaluate is called with. */
interface Batch {
  readonly ticker: string;
  readonly before: QuotePoint | undefined;
  readonly trades: BatchTrade[];
  readonly after: QuotePoint;
}

/** Tickers' quotes and sequences, folding the batches a test makes up. */
class Market {
  private readonly quotes = new Map<string, QuotePoint>();
  private readonly seqs = new Map<string, number>();
  private readonly times = new Map<string, number>();

  quote(ticker: string): QuotePoint | undefined {
    return this.quotes.get(ticker);
  }

  batch(ticker: string, rows: readonly { price: number; qty: number }[], opts: BatchOptions = {}): Batch {
    const before = this.quotes.get(ticker);
    let seq = this.seqs.get(ticker) ?? 0;
    let time = opts.after ?? this.times.get(ticker) ?? T0;
    const trades = rows.map((r, i): BatchTrade => {
      if (i === opts.newDayAt) time += DAY_MS;
      time += 500;
      return { price: r.price, qty: r.qty, seq: ++seq, time };
    });
    const last = trades.at(-1);
    if (!last) return { ticker, before, trades, after: before ?? { last: 10, volume: 0, time } };
    const day = b3Day(last.time);
    const base = before && b3Day(before.time) === day ? before.volume : 0;
    const traded = trades.reduce((n, t) => n + (b3Day(t.time) === day ? t.qty : 0), 0);
    const after: QuotePoint = {
      last: last.price,
      volume: base + traded + (opts.extraVolume ?? 0),
      time: last.time,
      ...(opts.previousClose === undefined ? {} : { previousClose: opts.previousClose }),
    };
    this.quotes.set(ticker, after);
    this.seqs.set(ticker, seq);
    this.times.set(ticker, time);
    return { ticker, before, trades, after };
  }

  /** A batch of trades of 100 at these prices. */
  prices(ticker: string, prices: readonly number[], opts: BatchOptions = {}): Batch {
    return this.batch(
      ticker,
      prices.map((price) => ({ price, qty: 100 })),
      opts,
    );
  }
}

const evaluate = (book: AlertBook, b: Batch, now: number) =>
  book.evaluate(b.ticker, b.before, b.trades, b.after, now);

const change = (price: number, close: number) => (price / close - 1) * 100;

/** The trade that first fires `a` in the batch, by the semantics alone: every alert over the path. */
function firstHit(a: WatchedAlert, b: Batch): { trade: BatchTrade; value: number | null } | undefined {
  const { before, trades, after } = b;
  const lastTrade = trades.at(-1);
  if (!lastTrade) return undefined;
  const t = a.threshold;
  if (a.kind === 'volume_above') {
    const day = b3Day(after.time);
    const from = before && b3Day(before.time) === day ? before.volume : 0;
    if (!(from < t && t <= after.volume)) return undefined;
    let volume = from;
    for (const trade of trades) {
      if (b3Day(trade.time) === day) volume += trade.qty;
      if (volume >= t) return { trade, value: volume };
    }
    return { trade: lastTrade, value: after.volume };
  }
  const close = after.previousClose ?? 0;
  if (a.kind.startsWith('change') && close <= 0) return undefined;
  const at: Record<Exclude<WatchedKind, 'volume_above'>, (p: number) => boolean> = {
    price_above: (p) => p >= t,
    price_below: (p) => p <= t,
    change_above: (p) => change(p, close) >= t - CHANGE_EPSILON,
    change_below: (p) => change(p, close) <= t + CHANGE_EPSILON,
  };
  const path: { price: number; trade?: BatchTrade }[] = [
    ...(before ? [{ price: before.last }] : []),
    ...trades.map((trade) => ({ price: trade.price, trade })),
  ];
  let away = false;
  for (const step of path) {
    if (!at[a.kind](step.price)) away = true;
    else if (away && step.trade) {
      const value = a.kind.startsWith('change') ? change(step.trade.price, close) : null;
      return { trade: step.trade, value };
    }
  }
  return undefined;
}

/** The reference model: a map of alerts, each tried against each batch in full. */
class NaiveBook {
  readonly alerts = new Map<number, WatchedAlert>();

  evaluate(b: Batch, now: number): Firing[] {
    const firings: Firing[] = [];
    for (const a of [...this.alerts.values()]) {
      if (a.ticker !== b.ticker) continue;
      if (a.expiresAt !== null && a.expiresAt <= now) continue;
      if (a.repeat && a.lastFiredAt !== null && now - a.lastFiredAt < a.cooldownMs) continue;
      const hit = firstHit(a, b);
      if (!hit) continue;
      a.lastFiredAt = now;
      firings.push({ alert: a, at: now, price: hit.trade.price, value: hit.value, tradeSeq: hit.trade.seq });
      if (!a.repeat) this.alerts.delete(a.id);
    }
    return firings.sort((x, y) => x.tradeSeq - y.tradeSeq || x.alert.id - y.alert.id);
  }

  expire(now: number): WatchedAlert[] {
    const gone = [...this.alerts.values()]
      .filter((a) => a.expiresAt !== null && a.expiresAt <= now)
      .sort((x, y) => (x.expiresAt as number) - (y.expiresAt as number) || x.id - y.id);
    for (const a of gone) this.alerts.delete(a.id);
    return gone;
  }
}

/** A firing as plain data, to compare the book's with the model's (they hold different objects). */
const plain = (f: Firing) => ({
  id: f.alert.id,
  at: f.at,
  price: f.price,
  value: f.value,
  tradeSeq: f.tradeSeq,
});

const TICKERS = ['PETR4', 'VALE3'] as const;

/** Clocks on a 10 s grid as often as not, so that cooldowns and expiries end exactly at `now`. */
const waitArb = fc.oneof(fc.constantFrom(0, 10_000, 20_000, 40_000), fc.integer({ min: 0, max: 90_000 }));
const timeArb = fc.integer({ min: T0, max: T0 + 1_800_000 });

/** Levels on the prices' grid (9.50..10.50), so that trades touch them exactly and often. */
const alertArb = (id: fc.Arbitrary<number>) =>
  fc
    .record({
      id,
      userId: fc.integer({ min: 1, max: 3 }),
      kind: fc.constantFrom(...KINDS),
      ticker: fc.constantFrom(...TICKERS),
      level: fc.integer({ min: 95, max: 105 }),
      percent: fc.integer({ min: -6, max: 6 }),
      quantity: fc.integer({ min: 0, max: 16 }),
      repeat: fc.boolean(),
      cooldownMs: fc.constantFrom(0, 20_000, 60_000, 300_000),
      expiresAt: fc.option(
        fc.oneof(
          fc.integer({ min: 0, max: 90 }).map((k) => T0 + k * 20_000),
          timeArb,
        ),
        {
          nil: null,
        },
      ),
      lastFiredAt: fc.option(fc.constantFrom(T0, T0 - 20_000, T0 - 40_000, T0 - 250_000), { nil: null }),
    })
    .map(({ level, percent, quantity, ...a }): WatchedAlert => {
      const threshold = a.kind.startsWith('price')
        ? level / 10
        : a.kind.startsWith('change')
          ? percent / 2
          : quantity * 100;
      return { ...a, threshold };
    });

const commandArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('batch' as const),
      ticker: fc.constantFrom(...TICKERS),
      rows: fc.array(
        fc.record({
          price: fc.integer({ min: 95, max: 105 }).map((p) => p / 10),
          qty: fc.constantFrom(0, 100, 300),
        }),
        { maxLength: 12 },
      ),
      newDayAt: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
      previousClose: fc.constantFrom(10, 9.8, 0, undefined),
      extraVolume: fc.constantFrom(0, 0, 200),
      wait: waitArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('add' as const),
      alert: alertArb(fc.integer({ min: 0, max: 50 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('remove' as const), id: fc.integer({ min: 0, max: 50 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('expire' as const), wait: waitArb }),
  },
);

const copy = (a: WatchedAlert): WatchedAlert => ({ ...a });

describe('AlertBook against a model that tries every alert over the path', () => {
  it('fires, removes and stamps the same alerts, whatever order they were added in', () => {
    fc.assert(
      fc.property(
        fc.array(alertArb(fc.constant(0)), { maxLength: 40 }),
        fc.array(commandArb, { maxLength: 30 }),
        fc.array(fc.double({ noNaN: true }), { minLength: 40, maxLength: 40 }),
        (initial, commands, shuffle) => {
          const alerts = initial.map((a, id) => ({ ...a, id }));
          const book = new AlertBook();
          const model = new NaiveBook();
          // The same alerts in another order: the order of add must change nothing.
          const other = new AlertBook();
          for (const a of alerts) {
            book.add(copy(a));
            model.alerts.set(a.id, copy(a));
          }
          const order = alerts.map((a, i) => ({ a, k: shuffle[i] as number })).sort((x, y) => x.k - y.k);
          for (const { a } of order) other.add(copy(a));

          const market = new Market();
          let now = T0;
          for (const c of commands) {
            if (c.type === 'batch') {
              now += c.wait;
              const b = market.batch(c.ticker, c.rows, c);
              const expected = model.evaluate(b, now).map(plain);
              expect(evaluate(book, b, now).map(plain)).toEqual(expected);
              expect(evaluate(other, b, now).map(plain)).toEqual(expected);
            } else if (c.type === 'add') {
              book.add(copy(c.alert));
              other.add(copy(c.alert));
              model.alerts.set(c.alert.id, copy(c.alert));
            } else if (c.type === 'remove') {
              const had = model.alerts.delete(c.id);
              expect(book.remove(c.id)).toBe(had);
              expect(other.remove(c.id)).toBe(had);
            } else {
              now += c.wait;
              const gone = model.expire(now).map((a) => a.id);
              expect(book.expire(now).map((a) => a.id)).toEqual(gone);
              expect(other.expire(now).map((a) => a.id)).toEqual(gone);
            }
            expect(book.size).toBe(model.alerts.size);
            for (const id of Array.from({ length: 51 }, (_, i) => i)) {
              const want = model.alerts.get(id);
              expect(book.get(id)?.lastFiredAt).toBe(want?.lastFiredAt);
              expect(other.get(id)?.lastFiredAt).toBe(want?.lastFiredAt);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('AlertBook examples', () => {
  it('fires once on a price that touches the level twice in one batch, at the first touch', () => {
    const book = new AlertBook();
    book.add(alert({ id: 1, kind: 'price_above', threshold: 10 }));
    const market = new Market();
    market.prices('PETR4', [9.9]);
    const firings = evaluate(book, market.prices('PETR4', [10, 9.9, 10.1]), T0);
    expect(firings.map(plain)).toEqual([{ id: 1, at: T0, price: 10, value: null, tradeSeq: 2 }]);
    expect(book.size).toBe(0); // a one-shot leaves the book
  });

  it('holds a repeating alert through its cooldown, then fires on a new crossing, not on staying above', () => {
    const book = new AlertBook();
    const a = alert({ id: 1, kind: 'price_above', threshold: 10, repeat: true, cooldownMs: 60_000 });
    book.add(a);
    const market = new Market();
    market.prices('PETR4', [9.9]);
    expect(evaluate(book, market.prices('PETR4', [10]), T0)).toHaveLength(1);
    expect(a.lastFiredAt).toBe(T0);
    // A new crossing within the cooldown: nothing, and the cooldown still counts from T0.
    expect(evaluate(book, market.prices('PETR4', [9.8, 10.05]), T0 + 10_000)).toEqual([]);
    expect(a.lastFiredAt).toBe(T0);
    // The cooldown is over, but the price stays above: no crossing, nothing.
    expect(evaluate(book, market.prices('PETR4', [10.1, 10.2]), T0 + 60_000)).toEqual([]);
    const again = evaluate(book, market.prices('PETR4', [9.9, 10]), T0 + 60_000);
    expect(again.map(plain)).toEqual([{ id: 1, at: T0 + 60_000, price: 10, value: null, tradeSeq: 8 }]);
    expect(book.get(1)?.lastFiredAt).toBe(T0 + 60_000);
  });

  it('does not fire from the first trade ever known, which crosses nothing by itself', () => {
    const book = new AlertBook();
    book.add(alert({ id: 1, kind: 'price_above', threshold: 10 }));
    const market = new Market();
    expect(evaluate(book, market.prices('PETR4', [10.5]), T0)).toEqual([]);
    const b = new Market().prices('PETR4', [9.9, 10.1]);
    expect(evaluate(book, b, T0).map((f) => f.price)).toEqual([10.1]);
  });

  it('counts a gap: yesterday below (above), today opening above (below)', () => {
    const book = new AlertBook();
    book.add(alert({ id: 1, kind: 'price_above', threshold: 10 }));
    book.add(alert({ id: 2, kind: 'price_below', threshold: 9, ticker: 'VALE3' }));
    const market = new Market();
    market.prices('PETR4', [9.5]);
    market.prices('VALE3', [9.5]);
    const up = evaluate(book, market.prices('PETR4', [10.2, 10.3], { newDayAt: 0 }), T0 + DAY_MS);
    expect(up.map(plain)).toEqual([{ id: 1, at: T0 + DAY_MS, price: 10.2, value: null, tradeSeq: 2 }]);
    const down = evaluate(book, market.prices('VALE3', [8.8], { newDayAt: 0 }), T0 + DAY_MS);
    expect(down.map((f) => [f.alert.id, f.price])).toEqual([[2, 8.8]]);
  });

  it('measures change alerts from the previous close: 10.30 on 10 makes +3 %, 9.80 makes −2 %', () => {
    expect(change(9.8, 10)).toBeGreaterThan(-2); // 9.80 on 10 falls short of −2 % in floating point
    const book = new AlertBook();
    book.add(alert({ id: 1, kind: 'change_above', threshold: 3 }));
    book.add(alert({ id: 2, kind: 'change_below', threshold: -2 }));
    book.add(alert({ id: 3, kind: 'change_above', threshold: 3, ticker: 'VALE3' }));
    const market = new Market();
    market.prices('PETR4', [10]);
    market.prices('VALE3', [10]);
    // No previous close known: the change is unknown, nothing fires.
    expect(evaluate(book, market.prices('VALE3', [10.5]), T0)).toEqual([]);
    expect(evaluate(book, market.prices('PETR4', [10.29], { previousClose: 10 }), T0)).toEqual([]);
    const up = evaluate(book, market.prices('PETR4', [10.3], { previousClose: 10 }), T0);
    expect(up.map((f) => [f.alert.id, f.price])).toEqual([[1, 10.3]]);
    expect(up[0]?.value).toBeCloseTo(3, 9);
    const down = evaluate(book, market.prices('PETR4', [9.9, 9.8, 9.7], { previousClose: 10 }), T0);
    expect(down.map((f) => [f.alert.id, f.price, f.tradeSeq])).toEqual([[2, 9.8, 5]]);
    expect(down[0]?.value).toBeCloseTo(-2, 9);
  });

  it('fires a volume alert on the trade that reaches it, counting from 0 on a new day', () => {
    const book = new AlertBook();
    book.add(alert({ id: 1, kind: 'volume_above', threshold: 1_000, repeat: true, cooldownMs: 0 }));
    const market = new Market();
    // Yesterday's session passed 1,000 long ago.
    market.batch('PETR4', [{ price: 10, qty: 5_000 }]);
    expect(evaluate(book, market.batch('PETR4', [{ price: 10, qty: 200 }]), T0)).toEqual([]);
    const today = market.batch(
      'PETR4',
      [
        { price: 10, qty: 600 },
        { price: 10.1, qty: 500 },
        { price: 10.2, qty: 100 },
      ],
      { newDayAt: 0 },
    );
    expect(today.before?.volume).toBe(5_200);
    const firings = evaluate(book, today, T0 + DAY_MS);
    expect(firings.map(plain)).toEqual([{ id: 1, at: T0 + DAY_MS, price: 10.1, value: 1_100, tradeSeq: 4 }]);
    // Past it on the same day: it does not fire again.
    expect(evaluate(book, market.batch('PETR4', [{ price: 10, qty: 100 }]), T0 + DAY_MS + 1)).toEqual([]);
  });

  it("fires a volume alert on the batch's last trade when the exchange's figures, not the trades, reach it", () => {
    const book = new AlertBook();
    book.add(alert({ id: 1, kind: 'volume_above', threshold: 1_000 }));
    const market = new Market();
    market.batch('PETR4', [{ price: 10, qty: 100 }]);
    const b = market.batch(
      'PETR4',
      [
        { price: 10, qty: 100 },
        { price: 10.1, qty: 100 },
      ],
      { extraVolume: 700 },
    );
    expect(evaluate(book, b, T0).map(plain)).toEqual([
      { id: 1, at: T0, price: 10.1, value: 1_000, tradeSeq: 3 },
    ]);
  });

  it('lets an alert made at 17:00 for the session lapse at 18:30 Brasília: no firing at 18:31, expire() returns it', () => {
    const madeAt = Date.UTC(2026, 11, 1, 20, 0); // 17:00 Brasília, a Tuesday
    const end = sessionEnd(madeAt);
    expect(end).toBe(Date.UTC(2026, 11, 1, 21, 30));
    const book = new AlertBook();
    book.add(alert({ id: 1, kind: 'price_above', threshold: 10, expiresAt: end }));
    book.add(alert({ id: 2, kind: 'price_above', threshold: 10, expiresAt: end + DAY_MS, repeat: true }));
    const market = new Market();
    market.prices('PETR4', [9.9]);
    // A trade at 18:30 and one at 18:31 (exchange time), each evaluated as it comes.
    const fired = (now: number) =>
      evaluate(book, market.prices('PETR4', [9.9, 10.1], { after: now - 1_000 }), now).map((f) => f.alert.id);
    expect(fired(end)).toEqual([2]); // expiresAt ≤ now: lapsed at 18:30 itself
    const at1831 = end + 60_000;
    expect(fired(at1831)).toEqual([2]);
    expect(book.expire(end - 1)).toEqual([]);
    expect(book.expire(at1831).map((a) => a.id)).toEqual([1]);
    expect(book.size).toBe(1);

    // The same alert a minute before the end still fires.
    const early = new AlertBook();
    early.add(alert({ id: 1, kind: 'price_above', threshold: 10, expiresAt: end }));
    const b = new Market();
    b.prices('PETR4', [9.9]);
    expect(evaluate(early, b.prices('PETR4', [10.1]), end - 60_000)).toHaveLength(1);
  });

  it('replaces an alert added again with the same id, and keeps the others apart by ticker', () => {
    const book = new AlertBook();
    book.add(alert({ id: 1, kind: 'price_above', threshold: 10 }));
    book.add(alert({ id: 1, kind: 'price_below', threshold: 9 }));
    book.add(alert({ id: 2, kind: 'price_above', threshold: 10, ticker: 'VALE3' }));
    expect(book.size).toBe(2);
    const market = new Market();
    market.prices('PETR4', [9.9]);
    expect(evaluate(book, market.prices('PETR4', [10.5]), T0)).toEqual([]);
    expect(evaluate(book, market.prices('PETR4', [8.9]), T0).map((f) => f.alert.id)).toEqual([1]);
    expect(book.remove(1)).toBe(false);
    expect(book.get(2)?.ticker).toBe('VALE3');
  });
});
