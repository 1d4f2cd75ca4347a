import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { type AnswerEvent, answerReader } from '../shared/assistant.ts';
import { login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';
import { listen, type RunningServer } from './uws.ts';

// The assistant's routes on the real server (uWS, JWT, PGlite), and the streamed-reply
// capability they use in http/uws.ts: chunks as they come, backpressure, client aborts.

const DOCS = `# Operating Tape\n\n## Kill switch\n\nAn admin turns the kill switch on for an account: every new order is refused.\n\n## Replay\n\nThe server keeps the last 10,000 events per ticker.\n`;

describe('assistant routes', () => {
  let t: TestServer;
  let dir: string;
  const tokens: Record<string, string> = {};

  const call = async (
    path: string,
    init: { token?: string; body?: unknown; raw?: string; method?: string } = {},
  ) => {
    const r = await fetch(`${t.url}${path}`, {
      method: init.method ?? (init.body === undefined && init.raw === undefined ? 'GET' : 'POST'),
      headers: {
        ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
        'Content-Type': 'application/json',
      },
      body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });
    return r;
  };
  const json = async (r: Response) => (await r.json()) as Record<string, unknown>;
  const ragToken = async (who: string) =>
    (await json(await call('/api/v1/rag/token', { token: tokens[who], method: 'POST' }))).token as string;
  const events = async (r: Response) => {
    const reader = answerReader();
    const out = reader.push(await r.text());
    return [...out, ...reader.end()] as AnswerEvent[];
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tape-rag-routes-'));
    writeFileSync(join(dir, 'ops.md'), DOCS);
    t = await startTestServer('pglite', { TAPE_RAG_DOCS_DIRS: dir, TAPE_RAG_RATE: '1', TAPE_RAG_BURST: '3' });
    tokens.admin = await login(t.url);
    for (const [name, role] of [
      ['viewer1', 'viewer'],
      ['trader1', 'trader'],
    ] as const) {
      const r = await call('/api/v1/users', {
        token: tokens.admin,
        body: { username: name, password: `${name}-password`, role },
      });
      expect(r.status).toBe(201);
      tokens[name] = await login(t.url, name, `${name}-password`);
    }
    await until(async () => (await t.server.rag.status()).state === 'ready', 'the start-up ingest');
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mints a short-lived rag:query token for a signed-in user, any role', async () => {
    for (const who of ['admin', 'trader1', 'viewer1']) {
      const r = await call('/api/v1/rag/token', { token: tokens[who], method: 'POST' });
      expect(r.status).toBe(200);
      const body = await json(r);
      expect(body).toMatchObject({ scope: 'rag:query', expiresIn: 300 });
      const claims = JSON.parse(
        Buffer.from((body.token as string).split('.')[1] as string, 'base64url').toString(),
      );
      expect(claims.scope).toBe('rag:query');
      expect(claims.exp - claims.iat).toBe(300);
    }
    expect((await call('/api/v1/rag/token', { method: 'POST' })).status).toBe(401);
  });

  it('answers a question with a rag:query token as NDJSON: meta, deltas, done', async () => {
    const r = await call('/api/v1/rag/query', {
      token: await ragToken('viewer1'),
      body: { question: 'what happens when the kill switch is on?' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-store');
    const got = await events(r);
    expect(got[0]).toMatchObject({ type: 'meta', mode: 'extractive', cached: false });
    expect((got[0] as Extract<AnswerEvent, { type: 'meta' }>).citations[0]?.anchor).toBe('kill-switch');
    expect(got.some((e) => e.type === 'delta' && e.text.includes('every new order is refused'))).toBe(true);
    expect(got.at(-1)).toEqual({ type: 'done' });
  });

  it('refuses an ordinary API token on the query route, and a query token everywhere else, with a reason', async () => {
    const withApi = await call('/api/v1/rag/query', { token: tokens.admin, body: { question: 'x' } });
    expect(withApi.status).toBe(401);
    expect(await json(withApi)).toEqual({
      error: 'token_invalid',
      message: 'The access token is not valid for rag:query',
    });
    const none = await call('/api/v1/rag/query', { body: { question: 'x' } });
    expect((await json(none)).error).toBe('token_missing');
    const rag = await ragToken('trader1');
    for (const path of ['/api/v1/me', '/api/v1/rag/status']) {
      const r = await call(path, { token: rag });
      expect([path, r.status]).toEqual([path, 401]);
    }
    expect((await call('/api/v1/rag/token', { token: rag, method: 'POST' })).status).toBe(401);
  });

  it.each([
    [{}, 'question: Invalid input: expected string, received undefined'],
    [{ question: '   ' }, 'question: ask a question'],
    [{ question: 'x'.repeat(1001) }, 'question: at most 1000 characters'],
    [{ question: 'ok', tools: ['cancel_all'] }, 'body: Unrecognized key: "tools"'],
    [{ question: 'ok', paths: [] }, 'paths: Too small: expected array to have >=1 items'],
  ])('answers a bad body %j with 400 and the reason', async (body, message) => {
    const r = await call('/api/v1/rag/query', { token: await ragToken('admin'), body });
    expect(r.status).toBe(400);
    expect(await json(r)).toMatchObject({ error: 'invalid_body', message });
  });

  it('answers a body that is not JSON with 400', async () => {
    const r = await call('/api/v1/rag/query', { token: await ragToken('admin'), raw: '{"question":' });
    expect(r.status).toBe(400);
    expect((await json(r)).error).toBe('bad_json');
  });

  it('limits questions per user with a token bucket: 429 with Retry-After', async () => {
    // trader1 asked nothing yet; the burst is 3, the refill 1 a minute.
    const token = await ragToken('trader1');
    const ask = () => call('/api/v1/rag/query', { token, body: { question: 'replay ring size?' } });
    for (let i = 0; i < 3; i++) {
      const r = await ask();
      expect(r.status).toBe(200);
      await r.text();
    }
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(await json(refused)).toMatchObject({ error: 'rate_limited' });
    // Someone else is not limited by it.
    const other = await call('/api/v1/rag/query', {
      token: await ragToken('viewer1'),
      body: { question: 'replay?' },
    });
    expect(other.status).toBe(200);
    await other.text();
  });

  it('reports its status to any role, and serves a cited section', async () => {
    const status = await call('/api/v1/rag/status', { token: tokens.viewer1 });
    expect(status.status).toBe(200);
    expect(await json(status)).toMatchObject({
      state: 'ready',
      documents: 1,
      backends: { database: true, vectorIndex: { kind: 'database', up: true }, llm: { configured: false } },
    });
    const label = dir.split('/').at(-1) as string;
    const section = await call(`/api/v1/rag/source?path=${label}/ops.md&anchor=replay`, {
      token: tokens.viewer1,
    });
    expect(await json(section)).toMatchObject({
      path: `${label}/ops.md`,
      heading: 'Operating Tape › Replay',
      text: '## Replay\n\nThe server keeps the last 10,000 events per ticker.\n',
    });
    const missing = await call(`/api/v1/rag/source?path=${label}/ops.md&anchor=nope`, {
      token: tokens.viewer1,
    });
    expect(missing.status).toBe(404);
    const bad = await call('/api/v1/rag/source', { token: tokens.viewer1 });
    expect(bad.status).toBe(400);
    expect((await call('/api/v1/rag/status')).status).toBe(401);
  });

  it('lets only an admin trigger an ingest', async () => {
    const trader = await call('/api/v1/rag/ingest', { token: tokens.trader1, method: 'POST' });
    expect(trader.status).toBe(403);
    const admin = await call('/api/v1/rag/ingest', { token: tokens.admin, method: 'POST' });
    expect(admin.status).toBe(202);
    expect(await json(admin)).toMatchObject({ indexing: true });
    await until(() => !t.server.rag.indexing, 'the ingest');
  });
});

describe('streamed replies (http/uws.ts)', () => {
  let server: RunningServer;
  const CHUNK = 'x'.repeat(64 * 1024);
  const TOTAL = 1_000; // 64 MB if the client read it all
  const produced = { n: 0, finished: false };

  beforeAll(async () => {
    server = await listen('127.0.0.1', 0, {
      log: createLogger('silent'),
      metrics: createMetrics(),
      staticFiles: undefined,
      ws: [],
      authenticate: () => ({
        userId: 1,
        username: 'u',
        role: 'viewer',
        expiresAt: Date.now() + 60_000,
      }),
      authenticateSocket: () => {
        throw new Error('no sockets on this server');
      },
      routes: [
        {
          method: 'get',
          path: '/api/v1/test/stream',
          access: 'public',
          handle: () => ({
            status: 200,
            contentType: 'text/plain',
            stream: (async function* () {
              produced.n = 0;
              produced.finished = false;
              try {
                for (let i = 0; i < TOTAL; i++) {
                  produced.n++;
                  yield CHUNK;
                }
              } finally {
                produced.finished = true;
              }
            })(),
          }),
        },
        {
          method: 'get',
          path: '/api/v1/test/fails',
          access: 'public',
          handle: () => ({
            status: 200,
            stream: (async function* () {
              yield* [];
              throw new Error('boom');
            })(),
          }),
        },
      ],
    });
  });
  afterAll(() => server.close());

  const get = (path: string) =>
    new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, path }, resolve).on('error', reject).end();
    });

  it('pulls the next chunk only when the socket drained: a paused reader bounds what is produced', async () => {
    const res = await get('/api/v1/test/stream');
    res.pause();
    await new Promise((r) => setTimeout(r, 400));
    const whilePaused = produced.n;
    expect(whilePaused).toBeLessThan(TOTAL / 4);
    let bytes = 0;
    res.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    res.resume();
    await new Promise((r) => res.on('end', r));
    expect(bytes).toBe(TOTAL * CHUNK.length);
    expect(produced.finished).toBe(true);
  });

  it('stops the producer when the client goes away', async () => {
    const res = await get('/api/v1/test/stream');
    await new Promise((r) => res.once('data', r));
    res.destroy();
    await until(() => produced.finished, 'the generator to be closed');
    expect(produced.n).toBeLessThan(TOTAL);
  });

  it('turns a failure before the first chunk into a proper error reply', async () => {
    const r = await fetch(`http://127.0.0.1:${server.port}/api/v1/test/fails`);
    expect(r.status).toBe(500);
    expect(((await r.json()) as { error: string }).error).toBe('internal');
  });
});
