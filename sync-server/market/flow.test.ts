import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type BrokerFlowJson, foldFlow } from '../shared/flow.ts';
import { decodeFrame, FrameKind, type Trade } from '../shared/market.ts';
import { login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';

// GET /api/v1/market/flow against the simulator: the session so far reaches the live edge (the
// stored trades and the ring's unwritten ones), so a client that subscribed first and folds the
// live trades after `throughSeq` ends with exactly the flow of every trade the server has.

describe('broker flow of the session', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer('pglite', { TAPE_SIM_RATE: '300' });
    token = await login(t.url);
    await until(() => t.server.feed.status.connected, 'connector connected');
  });
  afterAll(() => t?.close());

  const get = async (query: string) => {
    const res = await fetch(`${t.url}/api/v1/market/flow${query}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: (await res.json()) as BrokerFlowJson & { error?: string } };
  };

  it('starts a live client at the edge: the REST flow plus its later trades is the whole session', async () => {
    const live: Trade[] = [];
    const ws = new WebSocket(`${t.wsUrl}?token=${token}`);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      const f = decodeFrame(new Uint8Array(data as Buffer));
      if (f.kind === FrameKind.trades) live.push(...f.trades);
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'sub', channel: 'trades', tickers: ['PETR4'] }));
    await until(() => live.length > 20, 'live PETR4 trades');

    const start = await get('?ticker=PETR4');
    expect(start.status).toBe(200);
    expect(start.body.throughSeq).toBeGreaterThanOrEqual(live[0]?.seq ?? Number.POSITIVE_INFINITY);
    const { bought, sold } = sums(start.body);
    expect(bought).toBe(sold);
    expect(bought).toBeGreaterThan(0);

    await until(() => (live.at(-1)?.seq ?? 0) > start.body.throughSeq + 50, 'more trades after the answer');
    // A still market: the last trade is the last one, stored or not.
    t.server.connector.sim?.setRate(0);
    // Stopped once the server's own last seq holds still for half a second and the socket has it.
    let last = -1;
    let stillSince = Date.now();
    await until(() => {
      const now = t.server.market.lastSeq('PETR4');
      if (now !== last) {
        last = now;
        stillSince = Date.now();
      }
      return Date.now() - stillSince > 500 && live.at(-1)?.seq === last;
    }, 'the live trades to stop');
    ws.close();
    const end = await get('?ticker=PETR4');
    expect(end.body.throughSeq).toBe(last);
    // The answer at the start plus the live trades after it is what the server has at the end.
    expect(foldFlow(start.body, live)).toEqual(end.body);
    await t.server.writer.flush();
    expect((await get('?ticker=PETR4')).body).toEqual(end.body);
  });

  it('refuses a ticker not on the feed and a malformed query, with their reasons', async () => {
    expect(await get('?ticker=ZZZZ3')).toMatchObject({ status: 404, body: { error: 'unknown_ticker' } });
    expect((await get('?ticker=petr4')).status).toBe(400);
    expect((await get('')).status).toBe(400);
  });

  // GET /api/v1/market/trades: what Times & Trades shows before the first live trade, and older.
  const recent = async (query: string, auth = true) => {
    const res = await fetch(`${t.url}/api/v1/market/trades${query}`, {
      headers: auth ? { Authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: (await res.json()) as { trades: Trade[]; error?: string } };
  };

  it('gives the newest trades, and older ones before a seq, contiguous across the database and the ring', async () => {
    // Past the replay ring (10,000 a ticker): the older part of an answer comes from the database.
    const ring = 10_000;
    t.server.connector.sim?.burst(6 * (ring + 2_000));
    await until(() => t.server.market.lastSeq('PETR4') > ring + 1_000, 'PETR4 past its ring', 30_000);
    await until(() => t.server.connector.sim?.burstPending() === 0, 'the burst sent', 30_000);
    await t.server.writer.flush();
    const newest = await recent('?ticker=PETR4&limit=50');
    expect(newest.status).toBe(200);
    const seqs = newest.body.trades.map((x) => x.seq);
    expect(seqs.length).toBe(50);
    seqs.forEach((s, i) => {
      if (i > 0) expect(s).toBe((seqs[i - 1] as number) + 1);
    });
    expect(seqs.at(-1)).toBeLessThanOrEqual(t.server.market.lastSeq('PETR4'));
    const older = await recent(`?ticker=PETR4&before=${seqs[0]}&limit=200`);
    expect(older.body.trades.map((x) => x.seq)).toEqual(
      Array.from({ length: 200 }, (_, i) => (seqs[0] as number) - 200 + i),
    );
    // Across the ring's oldest: the database's part and the ring's part meet with no hole.
    const head = t.server.market.lastSeq('PETR4');
    const across = await recent(`?ticker=PETR4&before=${head - ring + 500}&limit=1000`);
    expect(across.body.trades.map((x) => x.seq)).toEqual(
      Array.from({ length: 1_000 }, (_, i) => head - ring - 500 + i),
    );
    // Each trade as the live frames carry it: price, quantity and both brokers.
    expect(older.body.trades[0]).toMatchObject({
      ticker: 'PETR4',
      price: expect.any(Number),
      buyAgent: expect.any(Number),
    });
  });

  it('refuses a bad query, a ticker off the feed and a caller without a token, with reasons', async () => {
    expect((await recent('?ticker=PETR4&limit=2001')).status).toBe(400);
    expect((await recent('?ticker=PETR4&before=0')).status).toBe(400);
    expect((await recent('?ticker=PETR4&since=1')).status).toBe(400);
    expect(await recent('?ticker=ZZZZ3')).toMatchObject({ status: 404, body: { error: 'unknown_ticker' } });
    expect((await recent('?ticker=PETR4', false)).status).toBe(401);
  });
});

const sums = (f: BrokerFlowJson) => ({
  bought: f.brokers.reduce((n, r) => n + r.bought, 0),
  sold: f.brokers.reduce((n, r) => n + r.sold, 0),
});
