import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from '@playwright/test';
import { type ServerProcess, spawnServer } from '../sync-server/testing/server.ts';

/**
 * A server of the spec's own, for specs that stop and start it (the Playwright webServer cannot
 * be restarted): one port and one data directory across restarts. The port is the e2e port plus
 * `offset`, below the ephemeral range: a port the kernel had meanwhile given to some outgoing
 * connection as its local end could not be bound again.
 */
export function ownServer(offset: number) {
  const port = Number(process.env.TAPE_E2E_PORT ?? 9101) + offset;
  const env = {
    TAPE_PORT: String(port),
    TAPE_DATA_DIR: mkdtempSync(join(tmpdir(), 'tape-e2e-own-')),
    TAPE_STATIC_DIR: process.env.TAPE_STATIC_DIR ?? 'dist',
    DATABASE_URL: '',
    REDIS_URL: '',
  };
  let running: ServerProcess | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    /** The server's data directory, fresh: a spec may put files there before the first start. */
    dataDir: env.TAPE_DATA_DIR,
    async start() {
      running = await spawnServer(env, 60_000);
    },
    async stop() {
      const s = running;
      running = undefined;
      if (!s) return;
      s.child.kill('SIGTERM');
      expect(await s.exited, `server exit:\n${s.output().slice(-2_000)}`).toBe(0);
    },
  };
}
