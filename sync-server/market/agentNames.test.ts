import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AgentJson, ServerMessage } from '../shared/market.ts';
import { login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';

// Brokers' names over /ws against the simulator: named as the trades bring their codes, each
// told once to a connected socket, and the whole directory in one message to a socket that
// connects later.

describe('broker names on /ws', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer('pglite', { TAPE_SIM_RATE: '500' });
    token = await login(t.url);
    await until(() => t.server.feed.status.connected, 'connector connected');
  });
  afterAll(() => t?.close());

  const listen = () => {
    const ws = new WebSocket(`${t.wsUrl}?token=${token}`);
    const messages: AgentJson[][] = [];
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(String(data)) as ServerMessage;
      if (m.type === 'agents') messages.push(m.agents);
    });
    return { ws, messages };
  };

  it('tells each newly named broker once, and the directory whole to a later socket', async () => {
    const early = listen();
    // The simulator's fifteen brokers all trade within a few seconds at this rate.
    await until(() => early.messages.flat().length >= 15, 'every broker named', 15_000);
    const told = early.messages.flat();
    expect(new Set(told.map((a) => a.id)).size).toBe(told.length);
    expect(told).toContainEqual({ id: 114, short: 'Itaú', name: 'Itaú Corretora de Valores S.A.' });

    const late = listen();
    await until(() => late.messages.length > 0, 'the directory');
    expect(late.messages[0]?.map((a) => a.id)).toEqual(told.map((a) => a.id).sort((a, b) => a - b));
    early.ws.close();
    late.ws.close();
  });
});
