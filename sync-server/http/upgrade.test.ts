import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskedTextFrame, upgradeRequest } from '../testing/rawWs.ts';
import { login, startTestServer, type TestServer } from '../testing/server.ts';

// A WebSocket upgrade completes inside uWS's upgrade handler, synchronously. Completed later
// under res.cork (as it was while the token check was async), uWS now and then closed the new
// socket right after `open` (uNetworking/uWebSockets#1928): the client got its hello, then a 1006
// with no close frame. That race depends on what the reallocated socket's memory held and cannot
// be forced from outside; these tests hold the synchronous path to what it must do: answer on a
// socket that stays open, whatever the handshake says of the connection, and refuse a bad token
// with a status before any upgrade.

/** Opens a raw socket, sends a handshake with `connection`, and collects what comes back. */
function handshake(port: number, path: string, connection: string) {
  const socket = net.connect(port, '127.0.0.1');
  let bytes = Buffer.alloc(0);
  let ended = false;
  socket.on('data', (d) => {
    bytes = Buffer.concat([bytes, d]);
  });
  socket.on('end', () => {
    ended = true;
  });
  socket.on('close', () => {
    ended = true;
  });
  socket.on('error', () => {});
  socket.write(upgradeRequest(path, connection));
  return {
    socket,
    text: () => bytes.toString('latin1'),
    ended: () => ended,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WebSocket upgrade', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer('pglite', { TAPE_SIM_RATE: '50' });
    token = await login(t.url);
  });
  afterAll(() => t?.close());

  it.each(['close', 'Upgrade', 'keep-alive, Upgrade'])(
    'keeps the socket open after the hello, whatever the handshake says of the connection (%s)',
    async (connection) => {
      for (let i = 0; i < 20; i++) {
        const c = handshake(t.server.port, `/ws?token=${token}`, connection);
        const deadline = Date.now() + 5_000;
        while (!c.text().includes('"hello"') && !c.ended() && Date.now() < deadline) await sleep(2);
        expect(c.text()).toMatch(/^HTTP\/1\.1 101 /);
        expect(c.text()).toContain('"hello"');
        c.socket.write(
          maskedTextFrame(JSON.stringify({ type: 'sub', channel: 'trades', tickers: ['PETR4'] })),
        );
        while (!c.text().includes('"subscribed"') && !c.ended() && Date.now() < deadline) await sleep(2);
        expect({ ended: c.ended(), subscribed: c.text().includes('"subscribed"') }).toEqual({
          ended: false,
          subscribed: true,
        });
        c.socket.destroy();
      }
    },
  );

  it('refuses a bad token in the handshake with 401 and its reason, before any upgrade', async () => {
    const c = handshake(t.server.port, '/ws?token=not.a.token', 'Upgrade');
    const deadline = Date.now() + 5_000;
    while (!c.text().includes('\r\n\r\n') && Date.now() < deadline) await sleep(2);
    expect(c.text()).toMatch(/^HTTP\/1\.1 401 /);
    expect(c.text()).toContain('token_invalid');
    c.socket.destroy();
  });
});
