import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { AuthService } from '../auth/service.ts';
import { createLogger } from '../log.ts';
import { type Database, openDatabase } from './db.ts';
import { migrate } from './migrate.ts';
import { UserStore } from './users.ts';

export interface TestBackend {
  readonly name: 'pglite' | 'postgres';
  /** A fresh, migrated, empty database of its own; `close` removes it. */
  open(): Promise<Database>;
}

const silent = createLogger('silent');

/** PGlite always; the real PostgreSQL server too when DATABASE_URL is set (CI sets it). */
export function testBackends(env = process.env): TestBackend[] {
  const backends: TestBackend[] = [
    {
      name: 'pglite',
      async open() {
        const db = await openDatabase({ pgliteDir: 'memory://', log: silent });
        await migrate(db.sql);
        return db;
      },
    },
  ];
  const url = env.DATABASE_URL;
  if (url) backends.push({ name: 'postgres', open: () => openScratchDatabase(url) });
  return backends;
}

// Each test file gets its own database on the real server, so files run in parallel safely.
async function openScratchDatabase(url: string): Promise<Database> {
  const name = `tape_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const scratchUrl = new URL(url);
  scratchUrl.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: scratchUrl.toString(), pgliteDir: 'memory://', log: silent });
  await migrate(db.sql);
  return {
    ...db,
    async close() {
      await db.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** A trader (or other role) in a test database; returns its user id. */
export async function createTestUser(
  db: Database,
  username: string,
  role: 'admin' | 'trader' | 'viewer' = 'trader',
): Promise<number> {
  const auth = await AuthService.create(new UserStore(db.sql), {
    jwtSecret: undefined,
    accessTokenTtlS: 60,
    refreshTokenTtlS: 60,
    adminPassword: undefined,
  });
  return (await auth.createUser({ username, role, password: `${username}-password` })).user.id;
}
