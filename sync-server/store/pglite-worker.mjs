// PGlite runs here, on its own thread: its WebAssembly Postgres executes queries synchronously,
// and on the main thread a 5,000-row insert would stall the event loop (and every socket) for
// tens of milliseconds. The main thread reaches it through the unix socket, with postgres.js.
// Plain JavaScript so it loads the same under tsx, Vitest and Node.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { dataDir, socketPath } = workerData;
try {
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 1 });
  await server.start();
  parentPort.on('message', async (msg) => {
    if (msg !== 'stop') return;
    await server.stop();
    await db.close();
    parentPort.postMessage({ stopped: true });
  });
  parentPort.postMessage({ ready: true });
} catch (err) {
  parentPort.postMessage({ error: String(err?.stack ?? err) });
}
