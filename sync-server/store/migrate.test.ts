import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './db.ts';
import { loadMigrations, migrate } from './migrate.ts';
import { testBackends } from './testing.ts';

describe.each(testBackends())('migrations on $name', (backend) => {
  let db: Database;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(() => db?.close());

  it('records every migration once and applies nothing on a second run', async () => {
    const all = await loadMigrations();
    const rows = await db.sql<{ version: number }[]>`select version from schema_migrations order by version`;
    expect(rows.map((r) => r.version)).toEqual(all.map((m) => m.version));
    expect(await migrate(db.sql)).toEqual([]);
  });

  it('rolls back every statement of a failing batch', async () => {
    const broken = [
      { version: 900, name: 'good', sql: 'create table probe_ok (x int)' },
      { version: 901, name: 'bad', sql: 'create table probe_bad (x nosuchtype)' },
    ];
    await expect(migrate(db.sql, broken)).rejects.toThrow(/nosuchtype/);
    const [row] = await db.sql<{ exists: boolean }[]>`
      select exists (select 1 from information_schema.tables where table_name = 'probe_ok') as exists`;
    expect(row?.exists).toBe(false);
    const versions = await db.sql`select version from schema_migrations where version >= 900`;
    expect(versions.length).toBe(0);
  });

  it('reports whether TimescaleDB is available as a boolean', () => {
    expect(typeof db.timescale).toBe('boolean');
  });
});
