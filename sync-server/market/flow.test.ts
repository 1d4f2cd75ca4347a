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
});

const sums = (f: BrokerFlowJson) => ({
  bought: f.brokers.reduce((n, r) => n + r.bought, 0),
  sold: f.brokers.reduce((n, r) => n + r.sold, 0),
});
