import { createServer, type Server } from 'node:net';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { isForeignKeyViolation, isRefused, isUnreachable } from './pgErrors.ts';
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
      expect(isForeignKeyViolation(bad)).toBe(false);
      // A user assigned an account that does not exist.
      const [user] = await db.sql<{ id: string }[]>`
        insert into users (username, password_hash, role) values ('fk-probe', 'x', 'viewer') returning id`;
      const fk = await failure(
        () => db.sql`update users set account_id = 'NO-SUCH' where id = ${user?.id ?? 0}`,
      );
      expect(fk).toMatchObject({ name: 'PostgresError', code: '23503' });
      expect(isForeignKeyViolation(fk)).toBe(true);
      expect(isRefused(fk)).toBe(true);
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

// Only a real server has other sessions to terminate it from.
describe.skipIf(!process.env.DATABASE_URL)('errors of a PostgreSQL server going away', () => {
  it('a backend terminated under a statement is unreachable, not a refusal', async () => {
    const url = process.env.DATABASE_URL as string;
    const victim = postgres(url, { max: 1, onnotice: () => {} });
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [{ pid } = { pid: 0 }] = await victim<{ pid: number }[]>`select pg_backend_pid() as pid`;
      const running = failure(() => victim`select pg_sleep(10)`);
      // Terminate it once the sleep is running on that backend.
      for (let i = 0; i < 100; i++) {
        const [row] = await admin<{ state: string }[]>`select state from pg_stat_activity where pid = ${pid}`;
        if (row?.state === 'active') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await admin`select pg_terminate_backend(${pid})`;
      const err = await running;
      // postgres.js raises the server's FATAL 57P01 when it reads it before the socket closes,
      // else CONNECTION_CLOSED: either way the database went away, not the statement.
      expect(['57P01', 'CONNECTION_CLOSED']).toContain((err as { code?: string }).code);
      expect(isUnreachable(err)).toBe(true);
      expect(isRefused(err)).toBe(false);
    } finally {
      await victim.end({ timeout: 0 });
      await admin.end({ timeout: 0 });
    }
  });

  it('classifies the server-side unavailability codes by SQLSTATE, as postgres.js raises them', () => {
    const raised = (code: string) => Object.assign(new Error('x'), { name: 'PostgresError', code });
    for (const code of ['08006', '08001', '53300', '57P01', '57P02', '57P03']) {
      expect(isUnreachable(raised(code))).toBe(true);
      expect(isRefused(raised(code))).toBe(false);
    }
    for (const code of ['23505', '22012', '42P01', '57014']) {
      expect(isRefused(raised(code))).toBe(true);
      expect(isUnreachable(raised(code))).toBe(false);
    }
  });
});
