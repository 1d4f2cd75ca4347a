import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import {
  backends,
  login,
  type ServerProcess,
  spawnServer,
  startTestServer,
  type TestServer,
} from '../testing/server.ts';
import { rawYjsSocket } from '../testing/sockets.ts';
import { until } from '../testing/until.ts';
import { YjsClose } from './protocol.ts';

// The stock y-websocket client in Node against the real server: uWS, JWT, PGlite/PostgreSQL.

const PASSWORD = 'collab-test-password';
const api = async (url: string, token: string, method: string, body?: unknown) => {
  const res = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  // biome-ignore lint/suspicious/noExplicitAny: test helper reading JSON replies
  return { status: res.status, body: res.status === 204 ? undefined : ((await res.json()) as any) };
};

/** The stock provider, as the app uses it: JWT in `params.token`, no BroadcastChannel shortcut. */
function provider(port: number, token: string, room: string, doc = new Y.Doc()) {
  return new WebsocketProvider(`ws://127.0.0.1:${port}/yjs`, room, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { token },
    disableBc: true,
    maxBackoffTime: 300,
  });
}
const tickers = (p: WebsocketProvider) => p.doc.getArray<string>('tickers').toArray();
// Named types (a doc's toJSON() skips root types it received but never asked for), map keys
// sorted (a Y.Map iterates in local arrival order).
const stateOf = (p: WebsocketProvider) =>
  JSON.stringify([p.doc.getArray('tickers').toJSON(), [...p.doc.getMap('notes').entries()].sort()]);
const sameState = (ps: WebsocketProvider[]) => {
  const [first, ...rest] = ps.map(stateOf);
  return rest.every((s) => s === first);
};

describe.each(backends())('/yjs with the stock y-websocket client on %s', (backend) => {
  let t: TestServer;
  const tokens: Record<string, string> = {};
  const open: WebsocketProvider[] = [];
  const client = (who: string, room: string, doc?: Y.Doc) => {
    const p = provider(t.server.port, tokens[who] as string, room, doc);
    open.push(p);
    return p;
  };
  const newWatchlist = async () => {
    const { body } = await api(`${t.url}/api/v1/watchlists`, tokens.ana as string, 'POST', { name: 'Desk' });
    const url = `${t.url}/api/v1/watchlists/${body.watchlist.id}`;
    await api(`${url}/members/bia`, tokens.ana as string, 'PUT', { role: 'editor' });
    await api(`${url}/members/caio`, tokens.ana as string, 'PUT', { role: 'viewer' });
    return { id: body.watchlist.id as number, room: body.watchlist.room as string, url };
  };

  beforeAll(async () => {
    t = await startTestServer(backend);
    const admin = await login(t.url);
    for (const [username, role] of [
      ['ana', 'trader'],
      ['bia', 'trader'],
      ['caio', 'trader'],
      ['dora', 'trader'],
      ['vera', 'viewer'],
    ]) {
      await api(`${t.url}/api/v1/users`, admin, 'POST', { username, password: PASSWORD, role });
      tokens[username as string] = await login(t.url, username, PASSWORD);
    }
    tokens.admin = admin;
  }, 60_000);
  afterEach(() => {
    for (const p of open.splice(0)) p.destroy();
  });
  afterAll(() => t?.close());

  it('manages watchlists over REST, checking the JWT and each role', async () => {
    const base = `${t.url}/api/v1/watchlists`;
    expect((await fetch(base)).status).toBe(401);
    expect(await api(base, tokens.vera as string, 'POST', { name: 'Mine' })).toMatchObject({
      status: 403,
      body: { error: 'forbidden' },
    });
    expect((await api(base, tokens.ana as string, 'POST', { name: '' })).status).toBe(400);
    const { id, room, url } = await newWatchlist();
    expect(room).toBe(`watchlist:${id}`);
    expect((await api(url, tokens.ana as string, 'GET')).body.watchlist).toMatchObject({
      name: 'Desk',
      relation: 'owner',
      role: 'editor',
      members: [
        { username: 'bia', role: 'editor' },
        { username: 'caio', role: 'viewer' },
      ],
    });
    expect((await api(url, tokens.dora as string, 'GET')).status).toBe(404);
    expect((await api(url, tokens.admin as string, 'GET')).body.watchlist).toMatchObject({ role: 'viewer' });
    expect((await api(url, tokens.caio as string, 'PATCH', { name: 'Hack' })).status).toBe(403);
    expect((await api(url, tokens.bia as string, 'PATCH', { name: 'Bancos' })).body.watchlist.name).toBe(
      'Bancos',
    );
    expect((await api(`${url}/members/dora`, tokens.bia as string, 'PUT', { role: 'editor' })).status).toBe(
      403,
    );
    expect((await api(`${url}/members/nobody`, tokens.ana as string, 'PUT', { role: 'editor' })).status).toBe(
      404,
    );
    const mine = (who: string) =>
      api(base, tokens[who] as string, 'GET').then((r) => r.body.watchlists.map((w: { id: number }) => w.id));
    expect(await mine('caio')).toContain(id);
    expect((await api(`${url}/members/caio`, tokens.ana as string, 'DELETE')).status).toBe(204);
    expect(await mine('caio')).not.toContain(id);
    expect((await api(url, tokens.bia as string, 'DELETE')).status).toBe(403);
    expect((await api(url, tokens.ana as string, 'DELETE')).status).toBe(204);
    expect((await api(url, tokens.ana as string, 'GET')).status).toBe(404);
  });

  it('converges two clients editing at once', async () => {
    const { room } = await newWatchlist();
    const a = client('ana', room);
    const b = client('bia', room);
    await until(() => a.synced && b.synced, 'both synced');
    a.doc.getArray<string>('tickers').push(['PETR4', 'VALE3']);
    b.doc.getArray<string>('tickers').insert(0, ['ITUB4']);
    b.doc.getMap('notes').set('PETR4', 'earnings on Thursday');
    await until(() => tickers(a).length === 3 && tickers(b).length === 3 && sameState([a, b]), 'converged');
    expect(a.doc.getMap('notes').get('PETR4')).toBe('earnings on Thursday');
  });

  it("echoes a client's awareness to it, so a lone editor's socket is never silent", async () => {
    const { room } = await newWatchlist();
    const a = client('ana', room);
    await until(() => a.synced, 'synced');
    await new Promise((r) => setTimeout(r, 20));
    const before = a.wsLastMessageReceived;
    // The stock client renews this every 15 s and drops a socket silent for 30 s.
    a.awareness.setLocalStateField('user', { name: 'ana' });
    await until(() => a.wsLastMessageReceived > before, 'its own awareness back');
  });

  it('merges edits made offline once the client reconnects', async () => {
    const { room } = await newWatchlist();
    const a = client('ana', room);
    const b = client('bia', room);
    await until(() => a.synced && b.synced, 'synced');
    b.disconnect();
    b.doc.getArray<string>('tickers').push(['OFFLINE1', 'OFFLINE2']);
    a.doc.getArray<string>('tickers').push(['ONLINE']);
    await new Promise((r) => setTimeout(r, 100));
    expect(tickers(a)).toEqual(['ONLINE']);
    b.connect();
    await until(() => tickers(a).length === 3 && sameState([a, b]), 'converged after reconnect');
    const late = client('caio', room);
    await until(() => late.synced && sameState([a, late]), 'the server has it all');
  });

  it("refuses a viewer's write, says so, and does not store it", async () => {
    const { room } = await newWatchlist();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const a = client('ana', room);
      const viewer = client('caio', room);
      const appViewer = client('vera', room); // not a member: refused outright
      let closed: { code: number; reason: string } | undefined;
      appViewer.on('closed', (e) => {
        closed = e;
      });
      await until(() => a.synced && viewer.synced && closed, 'synced');
      expect(closed).toMatchObject({
        code: YjsClose.forbidden,
        reason: expect.stringContaining('not shared'),
      });
      viewer.doc.getArray<string>('tickers').push(['SNEAKY']);
      await until(
        () => warn.mock.calls.some((c) => String(c[0]).includes('Permission denied')),
        'permission denied',
      );
      expect(String(warn.mock.calls.find((c) => String(c[0]).includes('Permission denied'))?.[0])).toContain(
        'read-only',
      );
      a.doc.getArray<string>('tickers').push(['REAL']);
      await until(() => tickers(viewer).includes('REAL'), 'viewer still reads');
      expect(tickers(a)).toEqual(['REAL']);
      const fresh = client('bia', room);
      await until(() => fresh.synced && tickers(fresh).length === 1, 'fresh client');
      expect(tickers(fresh)).toEqual(['REAL']);
    } finally {
      warn.mockRestore();
    }
  });

  it('closes only the connection that sends a malformed or truncated message', async () => {
    const { room } = await newWatchlist();
    const a = client('ana', room);
    const b = client('bia', room);
    await until(() => a.synced && b.synced, 'synced');
    const { ws: raw, closed } = rawYjsSocket(t.server.port, room, tokens.bia as string);
    await new Promise((r) => raw.on('open', r));
    raw.send(Uint8Array.of(0, 2, 10, 1, 2)); // an update announcing 10 bytes, carrying 3
    expect(await closed).toEqual({
      code: YjsClose.badMessage,
      reason: expect.stringContaining('ends too early'),
    });
    a.doc.getArray<string>('tickers').push(['STILL', 'HERE']);
    await until(() => tickers(b).length === 2, 'room unaffected');
    expect(a.wsconnected && b.wsconnected).toBe(true);
  });

  it('closes a socket that sends a message over the size limit', async () => {
    const { room } = await newWatchlist();
    const { ws: raw, closed } = rawYjsSocket(t.server.port, room, tokens.bia as string);
    await new Promise((r) => raw.on('open', r));
    raw.send(new Uint8Array(t.config.yjs.maxMessageBytes + 1));
    expect(await closed).toEqual({
      code: 1009,
      reason: expect.stringContaining('over the 1048576-byte limit'),
    });
  });

  it('requires a valid JWT at upgrade', async () => {
    const { room } = await newWatchlist();
    const status = (url: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
      });
    expect(await status(`ws://127.0.0.1:${t.server.port}/yjs/${room}`)).toBe(401);
    expect(await status(`ws://127.0.0.1:${t.server.port}/yjs/${room}?token=forged`)).toBe(401);
    expect(await status(`ws://127.0.0.1:${t.server.port}/yjs/${room}?token=${tokens.ana}`)).toBe(101);
  });

  it('keeps a room across a server restart', async () => {
    const { room } = await newWatchlist();
    const a = client('ana', room);
    await until(() => a.synced, 'synced');
    a.doc.getArray<string>('tickers').push(['WEGE3', 'ABEV3']);
    a.doc.getMap('notes').set('WEGE3', 'watch the open');
    // Wait until the server has it (a second client sees it), then restart.
    const b = client('bia', room);
    await until(() => tickers(b).length === 2, 'relayed');
    for (const p of open.splice(0)) p.destroy();
    t = await t.restart();
    const after = client('bia', room);
    await until(() => after.synced && tickers(after).length === 2, 'state after restart');
    expect(after.doc.getMap('notes').get('WEGE3')).toBe('watch the open');
  }, 60_000);

  it('converges clients doing random edits in random interleavings with random disconnects', async () => {
    const action = fc.record({
      client: fc.nat({ max: 2 }),
      op: fc.constantFrom('push', 'insert', 'delete', 'set', 'offline', 'online'),
      value: fc.stringMatching(/^[A-Z]{4}[0-9]$/),
      pauseMs: fc.constantFrom(0, 0, 5, 30),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 3 }),
        fc.array(action, { minLength: 5, maxLength: 25 }),
        async (n, actions) => {
          const { room } = await newWatchlist();
          // Two editors; a third client is the owner again on another device.
          const ps = ['ana', 'bia', 'ana'].slice(0, n).map((w) => client(w, room));
          try {
            await until(() => ps.every((p) => p.synced), 'all synced');
            for (const x of actions) {
              const p = ps[x.client % n] as WebsocketProvider;
              const list = p.doc.getArray<string>('tickers');
              if (x.op === 'push') list.push([x.value]);
              else if (x.op === 'insert') list.insert(Math.min(1, list.length), [x.value]);
              else if (x.op === 'delete' && list.length > 0)
                list.delete(x.value.charCodeAt(0) % list.length, 1);
              else if (x.op === 'set') p.doc.getMap('notes').set(x.value.slice(0, 1), x.value);
              else if (x.op === 'offline') p.disconnect();
              else if (x.op === 'online') p.connect();
              if (x.pauseMs) await new Promise((r) => setTimeout(r, x.pauseMs));
            }
            for (const p of ps) p.connect();
            await until(() => ps.every((p) => p.synced) && sameState(ps), 'converged', 15_000);
            // The server holds the same state: a newcomer sees it.
            const late = client('bia', room);
            await until(() => late.synced && sameState([late, ...ps]), 'server state', 15_000);
          } finally {
            for (const p of open.splice(0)) p.destroy();
          }
        },
      ),
      { numRuns: 6 },
    );
  }, 120_000);
});

describe.skipIf(!process.env.DATABASE_URL || !process.env.REDIS_URL)(
  '/yjs across two processes on Redis',
  () => {
    let a: TestServer;
    let b: ServerProcess | undefined;
    const open: WebsocketProvider[] = [];
    afterAll(async () => {
      for (const p of open) p.destroy();
      b?.child.kill('SIGTERM');
      await a?.close();
    });

    it('converges one client on each process', async () => {
      a = await startTestServer('postgres', { REDIS_URL: process.env.REDIS_URL as string });
      // The second process: `tsx sync-server/main.ts` on the same database and Redis.
      b = await spawnServer({
        DATABASE_URL: a.config.databaseUrl as string,
        REDIS_URL: process.env.REDIS_URL as string,
        TAPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'tape-it-b-')),
      });
      const portB = b.port;
      const token = await login(a.url);
      const { body } = await api(`${a.url}/api/v1/watchlists`, token, 'POST', { name: 'Two processes' });
      const room = body.watchlist.room as string;
      const onA = provider(a.server.port, token, room);
      const onB = provider(portB, token, room);
      open.push(onA, onB);
      await until(() => onA.synced && onB.synced, 'both synced');
      onA.doc.getArray<string>('tickers').push(['FROM_A']);
      onB.doc.getArray<string>('tickers').push(['FROM_B']);
      await until(() => tickers(onA).length === 2 && sameState([onA, onB]), 'converged across processes');
      // Awareness crosses too.
      onB.awareness.setLocalStateField('user', 'on-b');
      await until(() => onA.awareness.getStates().get(onB.doc.clientID)?.user === 'on-b', 'awareness across');
    }, 90_000);
  },
);

describe('/yjs and the lifetime of the token', () => {
  let t: TestServer;
  afterAll(() => t?.close());

  it('closes a socket with 4401 when the token that opened it expires', async () => {
    t = await startTestServer('pglite', { TAPE_ACCESS_TOKEN_TTL_S: '2' });
    const token = await login(t.url);
    const { body } = await api(`${t.url}/api/v1/watchlists`, token, 'POST', { name: 'Short token' });
    const ws = new WebSocket(`ws://127.0.0.1:${t.server.port}/yjs/${body.watchlist.room}?token=${token}`);
    const opened = Date.now();
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed.code).toBe(YjsClose.unauthorized);
    expect(closed.reason).toMatch(/expired/);
    // Not before the token's own expiry (second granularity), nor long after it.
    expect(Date.now() - opened).toBeGreaterThan(900);
    expect(Date.now() - opened).toBeLessThan(4_000);
  });
});
