import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { openDatabase } from './db.ts';

// Start-up's log names the database backend in use and whether TimescaleDB came with it: on
// PGlite it used to say "using plain PostgreSQL partitions".

async function startLog(databaseUrl: string | undefined): Promise<string[]> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)).msg);
      done();
    },
  });
  const db = await openDatabase({ databaseUrl, pgliteDir: 'memory://', log: createLogger('info', sink) });
  await db.close();
  return lines;
}

describe('the database backend at start', () => {
  it('says PGlite on PGlite', async () => {
    const lines = await startLog(undefined);
    expect(lines).toEqual([
      expect.stringMatching(/^PGlite \(embedded, under TAPE_DATA_DIR\) without TimescaleDB/),
    ]);
  });

  it.skipIf(!process.env.DATABASE_URL)('says PostgreSQL on PostgreSQL', async () => {
    const lines = await startLog(process.env.DATABASE_URL);
    expect(lines).toEqual([expect.stringMatching(/^PostgreSQL \(DATABASE_URL\) with(out)? TimescaleDB/)]);
  });
});
