import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerMessage } from '../shared/market.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';

// The open dead letters, live on admins' /ws sockets (protocol.md, `deadLetters`): an admin's
// socket is told the count at connect and at each change, at most once a second; a trader's
// socket never is.

describe.each(backends())('the live dead-letter count on /ws (%s)', (backend) => {
  let t: TestServer;
  let admin: string;

  /** A /ws socket and every JSON message it got, open once the hello arrived. */
  const socket = async (token: string) => {
    const ws = new WebSocket(`${t.wsUrl}?token=${token}`);
    const messages: (ServerMessage & { at: number })[] = [];
    ws.on('message', (data, isBinary) => {
      if (!isBinary) messages.push({ ...(JSON.parse(String(data)) as ServerMessage), at: Date.now() });
    });
    await until(() => messages.some((m) => m.type === 'hello'), 'the hello');
    return { ws, counts: () => messages.flatMap((m) => (m.type === 'deadLetters' ? [m] : [])) };
  };
  const letter = (n: number) => ({ source: 'test.live', reason: 'r', detail: 'd', payload: { n } });

  beforeAll(async () => {
    t = await startTestServer(backend);
    admin = await login(t.url);
    const res = await fetch(`${t.url}/api/v1/users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'live-trader', role: 'trader', password: 'live-trader-password' }),
    });
    expect(res.status).toBe(201);
  }, 60_000);
  afterAll(() => t?.close());

  it('goes to admin sockets when the open count changes, never to a trader socket', async () => {
    const trader = await socket(await login(t.url, 'live-trader', 'live-trader-password'));
    const first = await socket(admin);
    const start = await t.server.deadLetters.store.countOpen();
    await until(() => first.counts().at(-1)?.open === start, 'the count at connect');

    // A burst of letters over 2.5 s: the count follows, one message a second at most.
    const burstStart = Date.now();
    for (let i = 0; i < 25; i++) {
      t.server.deadLetters.add(letter(i));
      await new Promise((r) => setTimeout(r, 100));
    }
    await t.server.deadLetters.flush();
    await until(() => first.counts().at(-1)?.open === start + 25, 'the count after the burst', 5_000);
    const during = first.counts().filter((m) => m.at >= burstStart);
    expect(during.length).toBeGreaterThanOrEqual(2);
    expect(during.length).toBeLessThanOrEqual(5);
    for (const [a, b] of during.slice(1).map((m, i) => [during[i], m] as const))
      expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThan(700);

    // A second admin is told the count at once; a redrive that resolves a letter lowers it.
    const second = await socket(admin);
    const told = await until(() => second.counts()[0], 'the count at connect', 500);
    expect(told.open).toBe(start + 25);
    await t.server.deadLetters.store.resolve(
      (await t.server.deadLetters.store.list({ source: 'test.live', limit: 1 }))[0]?.id as number,
      'redriven',
    );
    await until(
      () => first.counts().at(-1)?.open === start + 24 && second.counts().at(-1)?.open === start + 24,
      'both admins told of the resolved letter',
      3_000,
    );
    // Nothing changes: nothing is sent.
    const quiet = first.counts().length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(first.counts().length).toBe(quiet);

    expect(trader.counts()).toEqual([]);
    for (const s of [first, second, trader]) s.ws.close();
  }, 30_000);
});
