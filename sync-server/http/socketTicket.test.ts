import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SocketTickets } from '../auth/tickets.ts';
import { type Principal, TokenSigner } from '../auth/tokens.ts';
import { decodeMessage } from '../collab/protocol.ts';
import type { ServerMessage } from '../shared/market.ts';
import { backends, createWatchlist, login, startTestServer, type TestServer } from '../testing/server.ts';

// One-time socket tickets over a real server (POST /api/v1/auth/socket-ticket → /ws?ticket=,
// /yjs/<room>?ticket=): what a ticket opens, what it refuses, and that a socket opened with one
// keeps the access token's lifetime rules.

const SECRET = 'socket-ticket-test-secret-of-32-characters';
const PASSWORD = 'ticket-user-password';

type Opened =
  | { ws: WebSocket; first: Promise<Buffer> }
  | { status: number; body: { error?: string; message?: string } };

/** Opens `path` on the server: the socket and its first message, or the refusal and its JSON body. */
function open(port: number, path: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    const first = new Promise<Buffer>((r) => ws.once('message', (d) => r(d as Buffer)));
    ws.on('open', () => resolve({ ws, first }));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }));
    });
    ws.on('error', (err) => reject(err));
  });
}

const closed = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => r({ code, reason: String(reason) })),
  );

describe.each(backends())('socket tickets (%s)', (backend) => {
  let t: TestServer;
  const tokens: Record<string, string> = {};
  const users: Record<string, Principal> = {};

  const ticket = async (token: string) => {
    const res = await fetch(`${t.url}/api/v1/auth/socket-ticket`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { ticket: string; expiresInS: number };
  };

  beforeAll(async () => {
    t = await startTestServer(backend, { TAPE_JWT_SECRET: SECRET });
    tokens.admin = await login(t.url);
    for (const [username, role] of [
      ['tk-viewer', 'viewer'],
      ['tk-trader', 'trader'],
    ] as const) {
      const res = await fetch(`${t.url}/api/v1/users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${tokens.admin}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD, role }),
      });
      users[role] = ((await res.json()) as { user: Principal }).user;
      tokens[role] = await login(t.url, username, PASSWORD);
    }
  }, 60_000);
  afterAll(() => t?.close());

  it('opens /ws once as the user and role it was minted for; a replay is refused with 401 ticket_used', async () => {
    const minted = await ticket(tokens.viewer as string);
    expect(minted.expiresInS).toBeGreaterThan(0);
    expect(minted.expiresInS).toBeLessThanOrEqual(30);
    const first = await open(t.server.port, `/ws?ticket=${minted.ticket}`);
    if (!('ws' in first)) throw new Error(`refused: ${first.status} ${first.body.message}`);
    const hello = JSON.parse(String(await first.first)) as Extract<ServerMessage, { type: 'hello' }>;
    expect(hello).toMatchObject({ type: 'hello', user: { username: 'tk-viewer', role: 'viewer' } });
    first.ws.close();

    const again = await open(t.server.port, `/ws?ticket=${minted.ticket}`);
    expect(again).toMatchObject({ status: 401, body: { error: 'ticket_used' } });
    expect('body' in again && again.body.message).toMatch(/used already/);
  });

  it('opens a Yjs room for a member, once; a non-member is closed on as with a token', async () => {
    const { room } = await createWatchlist(t.url, tokens.trader as string, 'Ticket room');
    const minted = (await ticket(tokens.trader as string)).ticket;
    const member = await open(t.server.port, `/yjs/${room}?ticket=${minted}`);
    if (!('ws' in member)) throw new Error(`refused: ${member.status} ${member.body.message}`);
    const msg = decodeMessage(new Uint8Array(await member.first));
    expect(msg.ok && msg.message.type).toBe('sync-step1');
    member.ws.close();
    expect(await open(t.server.port, `/yjs/${room}?ticket=${minted}`)).toMatchObject({
      status: 401,
      body: { error: 'ticket_used' },
    });

    const outsider = await open(
      t.server.port,
      `/yjs/${room}?ticket=${(await ticket(tokens.viewer as string)).ticket}`,
    );
    if (!('ws' in outsider)) throw new Error(`refused: ${outsider.status}`);
    expect((await closed(outsider.ws)).code).toBe(4403);
  });

  it('refuses an expired, a forged and an edited ticket with 401 and the reason', async () => {
    const late = new SocketTickets(SECRET, () => Date.now() - 30_000);
    const viewer = { ...(users.viewer as Principal), expiresAt: Date.now() + 600_000 };
    expect(await open(t.server.port, `/ws?ticket=${late.mint(viewer).ticket}`)).toMatchObject({
      status: 401,
      body: { error: 'ticket_expired', message: expect.stringMatching(/expired/) },
    });
    const forger = new SocketTickets('not-the-server-secret-but-32-characters-long');
    expect(await open(t.server.port, `/ws?ticket=${forger.mint(viewer).ticket}`)).toMatchObject({
      status: 401,
      body: { error: 'ticket_invalid' },
    });
    // A viewer's ticket edited to say admin.
    const [body, mac] = (await ticket(tokens.viewer as string)).ticket.split('.') as [string, string];
    const edited = Buffer.from(
      Buffer.from(body, 'base64url').toString().replace('.viewer.', '.admin.'),
    ).toString('base64url');
    expect(await open(t.server.port, `/ws?ticket=${edited}.${mac}`)).toMatchObject({
      status: 401,
      body: { error: 'ticket_invalid' },
    });
  });

  it("keeps the access token's lifetime: closed with 4401 when it expires, unless renewed with `auth`", async () => {
    const signer = new TokenSigner(SECRET, 900);
    const shortLived = await signer.sign(users.trader as Principal, 'api', 2);
    const lapsing = await open(t.server.port, `/ws?ticket=${(await ticket(shortLived)).ticket}`);
    const renewed = await open(t.server.port, `/ws?ticket=${(await ticket(shortLived)).ticket}`);
    if (!('ws' in lapsing) || !('ws' in renewed)) throw new Error('refused');
    await renewed.first;
    renewed.ws.send(JSON.stringify({ type: 'auth', token: tokens.trader }));
    expect(await closed(lapsing.ws)).toEqual({ code: 4401, reason: 'access token expired' });
    // The renewed socket outlived the first token: it still answers.
    const pong = new Promise((r) =>
      renewed.ws.on('message', (d) => {
        if (JSON.parse(String(d)).type === 'pong') r(true);
      }),
    );
    renewed.ws.send(JSON.stringify({ type: 'ping', id: 1 }));
    expect(await pong).toBe(true);
    renewed.ws.close();
  });
});
