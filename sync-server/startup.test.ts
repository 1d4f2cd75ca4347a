import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, type ServerProcess, scratchPostgres, spawnServer } from './testing/server.ts';

// One server per port and per data directory: a second one on either refuses to start (exit 2,
// saying whose it is) instead of serving beside the first, which shared the port's connections
// and, on one data directory, corrupted PGlite's files minutes later.

const dirs: string[] = [];
const running: ServerProcess[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tape-startup-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'no-docs'));
  return dir;
};
const start = async (dataDir: string, env: Record<string, string> = {}) => {
  const s = await spawnServer({
    TAPE_DATA_DIR: dataDir,
    TAPE_RAG_DOCS_DIRS: join(dataDir, 'no-docs'),
    DATABASE_URL: '',
    REDIS_URL: '',
    ...env,
  });
  running.push(s);
  return s;
};
const stop = async (s: ServerProcess) => {
  s.child.kill('SIGTERM');
  return s.exited;
};
const lockOf = (dir: string) => join(dir, 'tape.lock');

afterAll(async () => {
  for (const s of running) if (s.child.exitCode === null && s.child.signalCode === null) await stop(s);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('one server per port and per data directory', () => {
  it('refuses a second server on a port in use, naming the port, and leaves the first serving', async () => {
    // A port given, as in production: one the kernel picked for the first (TAPE_PORT=0) would
    // not be shared even without an exclusive listen.
    const port = String(await freePort());
    const first = await start(scratch(), { TAPE_PORT: port });
    const second = scratch();
    await expect(start(second, { TAPE_PORT: port })).rejects.toThrow(
      new RegExp(
        `exited \\(2\\) before listening[\\s\\S]*Cannot listen on 127\\.0\\.0\\.1:${first.port}\\b.*in use`,
      ),
    );
    // The failed start closed what it had opened, its data directory included.
    expect(existsSync(lockOf(second))).toBe(false);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
  }, 120_000);

  it('refuses a second process on a data directory in use, naming the holder, and frees it at a clean stop', async () => {
    const dir = scratch();
    const first = await start(dir);
    expect(readFileSync(lockOf(dir), 'utf8').trim()).toBe(String(first.child.pid));
    await expect(start(dir)).rejects.toThrow(
      new RegExp(`exited \\(2\\) before listening[\\s\\S]*${dir}.*in use by process ${first.child.pid}\\b`),
    );
    // `npm run rag:ingest` writes into PGlite's files too: refused the same way.
    const ingest = spawn(process.execPath, ['--import', 'tsx', 'scripts/rag-ingest.ts'], {
      env: { ...process.env, TAPE_DATA_DIR: dir, TAPE_RAG_DOCS_DIRS: join(dir, 'no-docs'), DATABASE_URL: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let said = '';
    ingest.stderr?.on('data', (d: Buffer) => {
      said += d.toString();
    });
    expect(await new Promise((resolve) => ingest.once('exit', resolve))).toBe(2);
    expect(said).toContain(`in use by process ${first.child.pid}`);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect(await stop(first)).toBe(0);
    expect(existsSync(lockOf(dir))).toBe(false);
  }, 120_000);

  // On PostgreSQL the directory still holds the dead-letter spill file: locked the same.
  it.skipIf(!process.env.DATABASE_URL)(
    'locks the data directory on PostgreSQL too',
    async () => {
      const db = await scratchPostgres('tape_startup');
      try {
        const dir = scratch();
        const first = await start(dir, { DATABASE_URL: db.url });
        await expect(start(dir, { DATABASE_URL: db.url })).rejects.toThrow(
          new RegExp(`exited \\(2\\) before listening[\\s\\S]*in use by process ${first.child.pid}\\b`),
        );
        expect(await stop(first)).toBe(0);
      } finally {
        await db.drop();
      }
    },
    120_000,
  );

  it('takes over a lock left by a process that is gone, and says so', async () => {
    const dir = scratch();
    const dead = spawn(process.execPath, ['-e', '']);
    const deadPid = dead.pid as number;
    await new Promise((resolve) => dead.once('exit', resolve));
    writeFileSync(lockOf(dir), `${deadPid}\n`);
    const s = await start(dir);
    expect(readFileSync(lockOf(dir), 'utf8').trim()).toBe(String(s.child.pid));
    expect(s.output()).toMatch(new RegExp(`"pid":${deadPid}\\b[^\\n]*taken over`));
    expect(await stop(s)).toBe(0);
  }, 120_000);
});
