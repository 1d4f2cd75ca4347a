import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FeedClient, type LinkState } from '../../app/market/feedClient.ts';
import type { DeadLetterPage } from '../shared/admin.ts';
import {
  type BookFrame,
  type CandlesFrame,
  decodeFrame,
  FrameKind,
  isBatch,
  type Quote,
  type ServerMessage,
  type Trade,
} from '../shared/market.ts';
import { b3Now } from '../testing/market.ts';
import { metric, scrape } from '../testing/metrics.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { NodeWebSocket } from '../testing/sockets.ts';
import { until } from '../testing/until.ts';

const tradesOf = (bytes: Uint8Array): Trade[] => {
  const f = decodeFrame(bytes);
  return f.kind === FrameKind.trades ? f.trades : [];
};

/** The current time as ProfitDLL prints it: DD/MM/YYYY HH:MM:SS.ZZZ in Brasília time (UTC-3). */
// The market path end to end: the simulator library through koffi and the capture shim,
// capture, fan-out over uWS, storage in the real database, replay and the dead-letter queue.

describe.each(backends())('market data on %s', (backend) => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer(backend, { TAPE_SIM_RATE: '200' });
    token = await login(t.url);
    await until(() => t.server.feed.status.connected, 'connector connected');
  });
  afterAll(() => t?.close());

  /** WebSocket messages the clients got, and how many of them were batch frames. */
  const received = { messages: 0, batches: 0 };
  const CountingWebSocket = class extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on('message', (data, isBinary) => {
        received.messages++;
        if (isBinary && isBatch(new Uint8Array(data as Buffer))) received.batches++;
      });
    }
  } as unknown as typeof globalThis.WebSocket;
  const client = (
    onTrades: (ticker: string, seqs: number[], replay: boolean) => void,
    links: LinkState[] = [],
    batch = false,
  ) =>
    new FeedClient({
      url: t.wsUrl,
      credentials: async () => ({ token }),
      WebSocket: CountingWebSocket,
      batch,
      tickers: () => ['PETR4', 'WINZ25'],
      onTrades: (ticker, trades, replay) =>
        onTrades(
          ticker,
          trades.map((x) => x.seq),
          replay,
        ),
      onLink: (s) => links.push(s),
    });

  it('streams validated trades on the tick grid with contiguous sequences', async () => {
    const seen = new Map<string, number[]>();
    const c = client((ticker, seqs) => seen.set(ticker, [...(seen.get(ticker) ?? []), ...seqs]));
    c.start();
    await until(
      () => (seen.get('PETR4')?.length ?? 0) > 20 && (seen.get('WINZ25')?.length ?? 0) > 20,
      'trades',
    );
    c.stop();
    for (const seqs of seen.values()) {
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] as number) + 1);
    }
    const q = t.server.market.quote('WINZ25');
    expect(q && q.last % 5).toBe(0);
    // The capture-to-publish delay is measured per drain and exposed: counted, and sane.
    const count = await metric(t.url, 'tape_market_publish_delay_seconds_count');
    expect(count).toBeGreaterThan(10);
    const mean = (await metric(t.url, 'tape_market_publish_delay_seconds_sum')) / count;
    expect(mean).toBeGreaterThan(0);
    expect(mean).toBeLessThan(1);
  });

  it("completes the quotes with the exchange's daily figures: its open, the day's range and price limits", async () => {
    // The simulator sends each ticker's daily callback about once a second while it trades.
    await until(
      () => t.server.market.quote('PETR4')?.maxLimit !== undefined,
      'daily figures in the quote',
      10_000,
    );
    const res = await fetch(`${t.url}/api/v1/market/quotes`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const { quotes } = (await res.json()) as { quotes: Quote[] };
    const q = quotes.find((x) => x.ticker === 'PETR4') as Quote;
    expect(q.minLimit).toBeLessThan(q.low);
    expect(q.low).toBeLessThanOrEqual(Math.min(q.open, q.last));
    expect(q.high).toBeGreaterThanOrEqual(Math.max(q.open, q.last));
    expect(q.high).toBeLessThan(q.maxLimit as number);
    const metrics = await scrape(t.url);
    expect(metrics).toMatch(
      /tape_market_events_total\{[^}]*kind="daily"[^}]*outcome="accepted"[^}]*\} [1-9]/,
    );
  });

  it.each([
    ['', false],
    [' (batch mode)', true],
  ])('replays what a dropped client missed%s: no gap, no duplicate', async (_, batch) => {
    const applied: number[] = [];
    received.batches = 0;
    const c = client((ticker, seqs) => ticker === 'PETR4' && applied.push(...seqs), [], batch);
    c.start();
    await until(() => applied.length > 10, 'first trades');
    // Drop the socket under the client, as a network cut would; let the market move on.
    (c as unknown as { ws: WebSocket }).ws.close();
    const missedFrom = t.server.market.lastSeq('PETR4');
    await until(() => t.server.market.lastSeq('PETR4') > missedFrom + 30, 'market moving on', 15_000);
    await until(() => applied.length > 0 && (applied.at(-1) as number) > missedFrom + 40, 'catch-up', 15_000);
    c.stop();
    expect(applied).toEqual(Array.from({ length: applied.length }, (_, i) => (applied[0] as number) + i));
    if (batch) expect(received.batches).toBeGreaterThan(0);
    else expect(received.batches).toBe(0);
  });

  it('in batch mode, streams every trade once, in order, in fewer WebSocket messages than trades', async () => {
    const seen = new Map<string, number[]>();
    const c = client((ticker, seqs) => seen.set(ticker, [...(seen.get(ticker) ?? []), ...seqs]), [], true);
    c.start();
    await until(() => (seen.get('PETR4')?.length ?? 0) > 5, 'first trades');
    received.messages = 0;
    received.batches = 0;
    const from = new Map([...seen].map(([k, v]) => [k, v.length]));
    await until(
      () => (seen.get('PETR4')?.length ?? 0) > 80 && (seen.get('WINZ25')?.length ?? 0) > 80,
      'trades',
      15_000,
    );
    c.stop();
    for (const seqs of seen.values())
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i));
    const trades = [...seen].reduce((n, [k, v]) => n + v.length - (from.get(k) ?? 0), 0);
    expect(received.batches).toBeGreaterThan(0);
    // Each trade and its candle are two frames unbatched: batched, far fewer messages than trades.
    expect(received.messages).toBeLessThan(trades);
  });

  it('after a server restart, replays the old part from the database and the rest from the ring', async () => {
    await t.server.writer.flush();
    const before = t.server.market.lastSeq('PETR4');
    expect(before).toBeGreaterThan(0);
    t = await t.restart();
    token = await login(t.url);
    // Numbering continues from what was stored; the new ring starts after it.
    await until(() => t.server.market.lastSeq('PETR4') > before + 5, 'new trades after restart');
    const ws = new WebSocket(`${t.wsUrl}?token=${token}`);
    const frames: number[] = [];
    const messages: ServerMessage[] = [];
    let closed: { code: number; reason: string } | undefined;
    ws.on('close', (code, reason) => {
      closed = { code, reason: String(reason) };
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) frames.push(...tradesOf(new Uint8Array(data as Buffer)).map((x) => x.seq));
      else messages.push(JSON.parse(String(data)));
    });
    await until(() => messages.some((m) => m.type === 'hello'), 'hello');
    // The last 200 stored trades before the restart: the database part stays small, so the test
    // measures the seam between database and ring, not how fast a loaded machine reads history.
    const since = Math.max(0, before - 200);
    ws.send(JSON.stringify({ type: 'sub', channel: 'trades', tickers: ['PETR4'], since: { PETR4: since } }));
    // The replay from the database comes first: slow on a loaded machine, so a longer bound.
    await until(
      () => messages.some((m) => m.type === 'subscribed' || m.type === 'error') || closed,
      'subscribed',
      30_000,
    );
    // A refusal or a dropped socket fails here with what the server said, not as a timeout.
    const answers = (type: ServerMessage['type']) => messages.filter((m) => m.type === type);
    expect({ closed, errors: answers('error'), snapshots: answers('snapshot') }).toEqual({
      closed: undefined,
      errors: [],
      snapshots: [],
    });
    const replay = messages.find((m) => m.type === 'replay') as { from: number; to: number } | undefined;
    expect(replay?.from).toBe(since + 1);
    expect(replay?.to).toBeGreaterThan(before);
    await until(() => frames.length > (replay as { to: number }).to - since + 5, 'live after replay');
    ws.close();
    expect(frames).toEqual(Array.from({ length: frames.length }, (_, i) => since + 1 + i));
  }, 60_000); // a restart and a replay from the database: slow on a loaded machine

  it('serves the book and live candles channels: a sane book and consistent bars', async () => {
    const books: BookFrame[] = [];
    const candles: CandlesFrame[] = [];
    const c = new FeedClient({
      url: t.wsUrl,
      credentials: async () => ({ token }),
      WebSocket: NodeWebSocket,
      tickers: () => ['PETR4'],
      channels: ['trades', 'book', 'candles'],
      onBook: (f) => books.push(f),
      onCandles: (f) => candles.push(f),
    });
    c.start();
    await until(
      () => books.some((b) => b.bids.length >= 5 && b.asks.length >= 5) && candles.length > 3,
      'book and candles',
    );
    c.stop();
    const b = books.at(-1) as BookFrame;
    expect(b.ticker).toBe('PETR4');
    for (let i = 1; i < b.bids.length; i++)
      expect((b.bids[i] as { price: number }).price).toBeLessThan((b.bids[i - 1] as { price: number }).price);
    for (let i = 1; i < b.asks.length; i++)
      expect((b.asks[i] as { price: number }).price).toBeGreaterThan(
        (b.asks[i - 1] as { price: number }).price,
      );
    expect((b.bids[0] as { price: number }).price).toBeLessThan((b.asks[0] as { price: number }).price);
    for (const f of candles) {
      expect(f.tf).toBe(60);
      for (const k of f.candles) {
        expect(k.time % 60_000).toBe(0);
        expect(k.low).toBeLessThanOrEqual(Math.min(k.open, k.close));
        expect(k.high).toBeGreaterThanOrEqual(Math.max(k.open, k.close));
        expect(k.trades).toBeGreaterThan(0);
      }
    }
  });

  it('answers candle history over REST from the stored ticks, and refuses bad ranges', async () => {
    await t.server.writer.flush();
    const now = Date.now();
    const get = (q: string) =>
      fetch(`${t.url}/api/v1/market/candles?${q}`, { headers: { Authorization: `Bearer ${token}` } });
    const r = await get(`ticker=PETR4&tf=1m&from=${now - 3_600_000}&to=${now + 60_000}`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { candles: { time: number; trades: number; volume: number }[] };
    expect(body.candles.length).toBeGreaterThan(0);
    expect(body.candles.reduce((n, k) => n + k.trades, 0)).toBeGreaterThan(10);
    expect((await get('ticker=PETR4&tf=7m&from=0&to=1')).status).toBe(400);
    expect((await get(`ticker=PETR4&tf=1m&from=${now}&to=${now - 1}`)).status).toBe(400);
    expect((await get(`ticker=ZZZZ9&tf=1m&from=0&to=1`)).status).toBe(404);
    expect((await get(`ticker=PETR4&tf=1m&from=0&to=${now}`)).status).toBe(400);
  });

  it('dead-letters a burst of invalid callbacks with their reasons, keeps serving, and an admin can redrive', async () => {
    const sim = t.server.connector.sim;
    if (!sim) throw new Error('the simulator library is required here');
    const before = t.server.market.lastSeq('PETR4');
    const bad = [
      { ticker: 'PETR4', exchange: 'B', date: 'yesterday', price: 38.5, qty: 100 },
      { ticker: 'PETR4', exchange: 'B', date: b3Now(), price: Number.NaN, qty: 100 },
      { ticker: 'NOPE3', exchange: 'B', date: b3Now(), price: 10, qty: 100 },
      { ticker: 'PETR4', exchange: 'B', date: b3Now(), price: 38.505, qty: 100 },
      { ticker: 'PETR4', exchange: 'B', date: b3Now(), price: 38.5, qty: 0 },
    ];
    // 1,000 bad events; distinct trade numbers keep them distinct letters.
    for (let i = 0; i < 200; i++) for (const b of bad) sim.injectTrade({ ...b, tradeNumber: 1_000_000 + i });
    const auth = { headers: { Authorization: `Bearer ${token}` } };
    const list = await until(
      async () => {
        await t.server.deadLetters.flush();
        const r = await fetch(`${t.url}/api/v1/admin/dead-letters?source=profitdll.trade&limit=500`, auth);
        const body = (await r.json()) as DeadLetterPage;
        // `open` counts every source; the filtered list is what this burst made.
        return body.letters.length >= 500 ? body : undefined;
      },
      'dead letters listed',
      15_000,
    );
    expect(new Set(list.letters.map((l) => l.reason))).toEqual(
      new Set(['bad_date', 'bad_price', 'bad_quantity', 'price_off_tick_grid', 'unknown_ticker']),
    );
    await until(() => t.server.market.lastSeq('PETR4') > before + 5, 'feed still flowing');
    // Redriving a letter that is still invalid counts an attempt and keeps it open.
    const letter = list.letters.find((l) => l.reason === 'bad_date') as { id: number };
    const redrive = await fetch(`${t.url}/api/v1/admin/dead-letters/${letter.id}/redrive`, {
      method: 'POST',
      ...auth,
    });
    expect(await redrive.json()).toMatchObject({ redriven: false, reason: 'bad_date' });
    const viewer = await fetch(`${t.url}/api/v1/admin/dead-letters`, {});
    expect(viewer.status).toBe(401);
  });
});
