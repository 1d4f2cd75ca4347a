import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ServerProcess, spawnServer } from './testing/server.ts';

// Secrets never reach the logs or the browser. Each secret the server is given is a unique
// sentinel; the server runs in its own process at trace level through logins (good and bad),
// a refresh, a user created with a password, tokens in headers and in a socket's URL, and its
// whole output is searched for every sentinel and every token it issued. The app is built with
// the same sentinels in the environment and every emitted file is searched too.

const sentinel = (what: string) => `${what}-SENTINEL-${randomBytes(8).toString('hex')}`;
const SECRETS = {
  TAPE_JWT_SECRET: sentinel('jwt-secret-of-32-or-more-characters'),
  TAPE_ADMIN_PASSWORD: sentinel('admin-pw'),
  PROFITDLL_KEY: sentinel('activation-key'),
  PROFITDLL_PASSWORD: sentinel('dll-pw'),
  PROFITDLL_ROUTING_PASSWORD: sentinel('routing-pw'),
};
const DB_PASSWORD = sentinel('db-pw');

const leaks = (text: string, secrets: readonly string[]) => secrets.filter((s) => text.includes(s));

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });

describe('secrets in logs', () => {
  let server: ServerProcess | undefined;
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
    await drop?.();
  });

  it('are never printed by the server, at trace level, whatever the requests', async () => {
    const env: Record<string, string> = {
      ...SECRETS,
      TAPE_LOG_LEVEL: 'trace',
      TAPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'tape-secrets-')),
      TAPE_ROUTING: 'on',
      DATABASE_URL: '',
    };
    if (process.env.DATABASE_URL) {
      // A password in the URL (trust auth ignores it): the server must not print it.
      const base = process.env.DATABASE_URL;
      const name = `tape_secrets_${randomBytes(6).toString('hex')}`;
      const admin = postgres(base, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database ${name}`);
      drop = async () => {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
      };
      const u = new URL(base);
      u.password = DB_PASSWORD;
      u.pathname = `/${name}`;
      env.DATABASE_URL = u.toString();
    }
    server = await spawnServer(env);
    const issued: string[] = [];
    const post = async (path: string, body: unknown, token?: string) => {
      const res = await fetch(`${server?.url}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const wrong = sentinel('wrong-pw');
    expect((await post('/api/v1/auth/login', { username: 'admin', password: wrong })).status).toBe(401);
    const login = await post('/api/v1/auth/login', {
      username: 'admin',
      password: SECRETS.TAPE_ADMIN_PASSWORD,
    });
    expect(login.status).toBe(200);
    const access = login.body.accessToken as string;
    const refreshToken = login.body.refreshToken as string;
    issued.push(access, refreshToken);
    const refreshed = await post('/api/v1/auth/refresh', { refreshToken });
    expect(refreshed.status).toBe(200);
    issued.push(refreshed.body.accessToken as string, refreshed.body.refreshToken as string);
    const userPassword = sentinel('user-pw');
    expect(
      (await post('/api/v1/users', { username: 'leaky', password: userPassword, role: 'trader' }, access))
        .status,
    ).toBe(201);
    // A refused request with a token (wrong role path), and a token in a socket URL.
    expect((await post('/api/v1/users', { username: 'x' }, `${access}x`)).status).toBe(401);
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server?.port}/ws?token=${access}`);
      ws.on('open', () => ws.close());
      ws.on('close', () => resolve());
      ws.on('error', () => resolve());
    });
    // Let the log lines of those requests be written.
    await new Promise((r) => setTimeout(r, 500));
    const out = server.output();
    // It did log those requests (the access log is at debug level)…
    expect(out).toMatch(/"path":"\/api\/v1\/auth\/login","status":401/);
    expect(out).toMatch(/"path":"\/api\/v1\/users","status":201/);
    // …and no secret, password or token it saw.
    expect(leaks(out, [...Object.values(SECRETS), DB_PASSWORD, wrong, userPassword, ...issued])).toEqual([]);
  }, 60_000);

  it('are not printed when the database refuses the server at start', async () => {
    const password = sentinel('unreachable-db-pw');
    const failing = await spawnServer({
      DATABASE_URL: `postgres://postgres:${password}@127.0.0.1:1/nowhere`,
      TAPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'tape-secrets-')),
      TAPE_LOG_LEVEL: 'trace',
    }).then(
      (s) => {
        s.child.kill('SIGKILL');
        return '';
      },
      (err: Error) => err.message,
    );
    expect(failing).toMatch(/exited \(1\) before listening:\s*Tape could not start: .*ECONNREFUSED/); // it failed, and said why
    expect(leaks(failing, [password])).toEqual([]);
  }, 60_000);
});

describe('secrets in the client bundle', () => {
  it('none of the server’s settings reach the built app', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'tape-bundle-'));
    const saved = { ...process.env };
    Object.assign(process.env, SECRETS, { DATABASE_URL: `postgres://postgres:${DB_PASSWORD}@db/tape` });
    try {
      await build({ configFile: 'vite.config.ts', logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    } finally {
      process.env = saved;
    }
    const emitted = files(outDir);
    expect(emitted.some((f) => f.endsWith('.js'))).toBe(true);
    const text = emitted.map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(leaks(text, [...Object.values(SECRETS), DB_PASSWORD])).toEqual([]);
    // Nor the names that would read them: the app has no access to the server's environment.
    for (const name of [...Object.keys(SECRETS), 'DATABASE_URL', 'REDIS_URL'])
      expect(text).not.toContain(name);
  }, 120_000);
});
