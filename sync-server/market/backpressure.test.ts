import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerMessage } from '../shared/market.ts';
import { metric } from '../testing/metrics.ts';
import { login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';

// A client that stops reading must cost the server a bounded amount of memory and must not slow
// anyone else down: it is conflated above the soft watermark and closed (4408) above the hard one.

describe('backpressure', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer('pglite', {
      TAPE_SIM_RATE: '200',
      TAPE_WS_SOFT_BYTES: '262144',
      TAPE_WS_HARD_BYTES: '2097152',
      TAPE_WS_STALL_MS: '1000',
    });
    token = await login(t.url);
    await until(() => t.server.feed.status.connected, 'connector connected');
  });
  afterAll(() => t?.close());

  const open = () => {
    const ws = new WebSocket(`${t.wsUrl}?token=${token}`, { perMessageDeflate: false });
    const messages: ServerMessage[] = [];
    let frames = 0;
    ws.on('message', (data, isBinary) => {
      if (isBinary) frames++;
      else messages.push(JSON.parse(String(data)));
    });
    return { ws, messages, frames: () => frames };
  };

  it('conflates, then closes a socket that never reads with 4408, while a healthy one keeps receiving', {
    timeout: 40_000,
  }, async () => {
    const healthy = open();
    const slow = open();
    await until(
      () => healthy.messages.some((m) => m.type === 'hello') && slow.messages.some((m) => m.type === 'hello'),
      'hello',
    );
    const all = t.server.market.tickerList;
    healthy.ws.send(JSON.stringify({ type: 'sub', channel: 'trades', tickers: all }));
    slow.ws.send(JSON.stringify({ type: 'sub', channel: 'trades', tickers: all }));
    await until(() => slow.messages.some((m) => m.type === 'subscribed'), 'subscribed');
    // Stop reading: the kernel buffers fill, then the server's per-socket buffer grows.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const closed = new Promise<number>((resolve) => slow.ws.on('close', (code) => resolve(code)));
    // A burst (~15 MB of frames) fills the kernel's socket buffers at once; then the server's own.
    t.server.connector.sim?.burst(300_000);
    await until(
      async () => (await metric(t.url, 'tape_ws_slow_consumer_closed_total')) === 1,
      'slow consumer closed',
      20_000,
    );
    const framesBefore = healthy.frames();
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toBe(4408);
    // What the slow socket read before its close: it was told it had fallen behind.
    expect(slow.messages.some((m) => m.type === 'conflated')).toBe(true);
    // Under CPU contention the healthy socket may be conflated for a moment, but it is never closed
    // and keeps getting every event once it keeps up.
    await until(() => healthy.frames() > framesBefore + 50, 'healthy socket still live', 20_000);
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    healthy.ws.close();
  });
});
