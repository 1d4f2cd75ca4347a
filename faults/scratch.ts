import postgres from 'postgres';
import { scratchPostgres } from '../sync-server/testing/server.ts';

// Scratch storage for the fault tests: a PostgreSQL database of one test's own on the server in
// DATABASE_URL (created and dropped here), or the embedded PGlite directory a server left behind,
// opened in this process once that server is gone. Both answer the same SQL through `Store`.

export interface Store {
  /** Rows of one statement with $1… parameters; cast bigint columns in SQL (::int, ::float8). */
  query<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface ScratchDatabase {
  /** The database's URL, for the server under test. */
  readonly url: string;
  /** A client of the test's own (a pool of two, so a probe never waits behind another). */
  readonly store: Store;
  /** Closes the client and drops the database, whatever is still connected to it. */
  drop(): Promise<void>;
}

/** A fresh, empty database on the server in DATABASE_URL (which must be set). */
export async function scratchDatabase(prefix = 'tape_fault'): Promise<ScratchDatabase> {
  const { url, drop } = await scratchPostgres(prefix);
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  let dropped = false;
  return {
    url,
    store: {
      query: async <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
        (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[],
      close: async () => {},
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await sql.end({ timeout: 5 }).catch(() => {});
      await drop();
    },
  };
}

/**
 * Opens the PGlite data directory a server used (`<TAPE_DATA_DIR>/pglite`) in this process. Only
 * while no server has it open: PGlite is a single process's database. Whatever recovery PGlite
 * does after a kill -9 happens here, exactly as it would in the next server.
 */
export async function openPglite(dir: string): Promise<Store> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dir);
  return {
    query: async <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
      (await db.query<T>(text, params)).rows,
    close: () => db.close(),
  };
}
