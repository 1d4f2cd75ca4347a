import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FeedClient, type LinkState } from '../../app/market/feedClient.ts';
import { backends, login, NodeWebSocket, startTestServer, type TestServer, until } from '../testkit.ts';
import { decodeFrame, FrameKind, type ServerMessage, type Trade } from './protocol.ts';

const tradesOf = (bytes: Uint8Array): Trade[] => {
  const f = decodeFrame(bytes);
  return f.kind === FrameKind.trades ? f.trades : [];
};

/** The current time as ProfitDLL prints it: DD/MM/YYYY HH:MM:SS.ZZZ in Brasília time (UTC-3). */
function b3Now(): string {
  const d = new Date(Date.now() - 3 * 3_600_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}

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

  const client = (
    onTrades: (ticker: string, seqs: number[], replay: boolean) => void,
    links: LinkState[] = [],
  ) =>
    new FeedClient({
      url: t.wsUrl,
      token: () => token,
      WebSocket: NodeWebSocket,
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
  });

  it('replays what a dropped client missed: no gap, no duplicate', async () => {
    const applied: number[] = [];
    const c = client((ticker, seqs) => ticker === 'PETR4' && applied.push(...seqs));
    c.start();
    await until(() => applied.length > 10, 'first trades');
    // Drop the socket under the client, as a network cut would; let the market move on.
    (c as unknown as { ws: WebSocket }).ws.close();
    const missedFrom = t.server.market.lastSeq('PETR4');
    await until(() => t.server.market.lastSeq('PETR4') > missedFrom + 30, 'market moving on', 15_000);
    await until(() => applied.length > 0 && (applied.at(-1) as number) > missedFrom + 40, 'catch-up', 15_000);
    c.stop();
    expect(applied).toEqual(Array.from({ length: applied.length }, (_, i) => (applied[0] as number) + i));
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
    ws.on('message', (data, isBinary) => {
      if (isBinary) frames.push(...tradesOf(new Uint8Array(data as Buffer)).map((x) => x.seq));
      else messages.push(JSON.parse(String(data)));
    });
    await until(() => messages.some((m) => m.type === 'hello'), 'hello');
    ws.send(JSON.stringify({ type: 'sub', channel: 'trades', tickers: ['PETR4'], since: { PETR4: 0 } }));
    await until(() => messages.some((m) => m.type === 'subscribed'), 'subscribed');
    const replay = messages.find((m) => m.type === 'replay') as { from: number; to: number } | undefined;
    expect(replay?.from).toBe(1);
    expect(replay?.to).toBeGreaterThan(before);
    await until(() => frames.length > (replay as { to: number }).to + 5, 'live after replay');
    ws.close();
    expect(frames).toEqual(Array.from({ length: frames.length }, (_, i) => i + 1));
  });

  it('dead-letters invalid callbacks with their reason, keeps serving, and an admin can list them', async () => {
    const sim = t.server.connector.sim;
    if (!sim) throw new Error('the simulator library is required here');
    const before = t.server.market.lastSeq('PETR4');
    sim.injectTrade({ ticker: 'PETR4', exchange: 'B', date: 'yesterday', price: 38.5, qty: 100 });
    sim.injectTrade({ ticker: 'PETR4', exchange: 'B', date: b3Now(), price: Number.NaN, qty: 100 });
    sim.injectTrade({ ticker: 'NOPE3', exchange: 'B', date: b3Now(), price: 10, qty: 100 });
    sim.injectTrade({ ticker: 'PETR4', exchange: 'B', date: b3Now(), price: 38.505, qty: 100 });
    sim.injectTrade({ ticker: 'PETR4', exchange: 'B', date: b3Now(), price: 38.5, qty: 0 });
    await t.server.deadLetters.flush();
    const list = await until(async () => {
      await t.server.deadLetters.flush();
      const r = await fetch(`${t.url}/api/v1/admin/dead-letters?source=profitdll.trade`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      const body = (await r.json()) as { deadLetters: { reason: string }[] };
      return body.deadLetters.length >= 5 ? body.deadLetters : undefined;
    }, 'dead letters listed');
    expect(list.map((l) => l.reason).sort()).toEqual([
      'bad_date',
      'bad_price',
      'bad_quantity',
      'price_off_tick_grid',
      'unknown_ticker',
    ]);
    await until(() => t.server.market.lastSeq('PETR4') > before + 5, 'feed still flowing');
  });
});
