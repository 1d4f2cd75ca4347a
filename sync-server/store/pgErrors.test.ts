import { createServer, type Server } from 'node:net';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { isRefused, isUnreachable } from './pgErrors.ts';
import { testBackends } from './testing.ts';

// The errors themselves, as postgres.js raises them, not look-alikes.
const failure = (run: () => Promise<unknown>) =>
  run().then(
    () => {
      throw new Error('the statement succeeded');
    },
    (err: unknown) => err,
  );

const listening = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );

/** One statement through a pool of one to 127.0.0.1:port, then the pool is dropped. */
const throughPort = async (port: number) => {
  const sql = postgres({ host: '127.0.0.1', port, max: 1, connect_timeout: 1, username: 'x', database: 'x' });
  try {
    return await failure(() => sql`select 1`);
  } finally {
    await sql.end({ timeout: 0 });
  }
};

describe('postgres.js errors', () => {
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  it('a refused connection is unreachable, not a refusal', async () => {
    const closed = createServer();
    const port = await listening(closed);
    await new Promise((r) => closed.close(r));
    const err = await throughPort(port);
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isUnreachable(err)).toBe(true);
    expect(isRefused(err)).toBe(false);
  });

  it('a server that never answers is unreachable (CONNECT_TIMEOUT)', async () => {
    const silent = createServer(() => {});
    servers.push(silent);
    const err = await throughPort(await listening(silent));
    expect(err).toMatchObject({ code: 'CONNECT_TIMEOUT' });
    expect(isUnreachable(err)).toBe(true);
    expect(isRefused(err)).toBe(false);
  });

  it('a connection reset is unreachable', async () => {
    const reset = createServer((s) => s.resetAndDestroy());
    servers.push(reset);
    const err = await throughPort(await listening(reset));
    expect(err).toMatchObject({ code: 'ECONNRESET' });
    expect(isUnreachable(err)).toBe(true);
    expect(isRefused(err)).toBe(false);
  });

  it('what is not an error of the database is neither', () => {
    for (const err of [new Error('boom'), new TypeError('x'), { code: 'ENOENT' }, 'text', undefined, null]) {
      expect(isUnreachable(err)).toBe(false);
      expect(isRefused(err)).toBe(false);
    }
  });
});

describe.each(testBackends())('errors of $name', (backend) => {
  it('a statement the database refuses carries its SQLSTATE and is a refusal', async () => {
    const db = await backend.open();
    try {
      const err = await failure(() => db.sql`select 1 / 0`);
      expect(err).toMatchObject({ name: 'PostgresError', code: '22012' });
      expect(isRefused(err)).toBe(true);
      expect(isUnreachable(err)).toBe(false);
      // A value its column cannot hold.
      const bad = await failure(() => db.sql`select ${'x'}::int`);
      expect(bad).toMatchObject({ name: 'PostgresError', code: '22P02' });
      expect(isRefused(bad)).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('a statement on a closed database is unreachable (CONNECTION_ENDED)', async () => {
    const db = await backend.open();
    await db.close();
    const err = await failure(() => db.sql`select 1`);
    expect(err).toMatchObject({ code: 'CONNECTION_ENDED' });
    expect(isUnreachable(err)).toBe(true);
    expect(isRefused(err)).toBe(false);
  });
});
