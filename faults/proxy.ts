import { createConnection, createServer, type Server, type Socket } from 'node:net';

// A loopback TCP proxy in front of a real service (PostgreSQL, Redis) that a fault test can cut
// and restore, so an outage is simulated without touching the shared service itself.

export type CutMode =
  /** New connections are accepted and reset at once (what a stopped server looks like). */
  | 'refuse'
  /** New connections are accepted and held without a byte either way (a partition). */
  | 'blackhole'
  /**
   * A partition that drops packets: live connections stay open but carry nothing more either
   * way (no reset, so their ends only find out by a timeout of their own), and new ones are
   * black-holed.
   */
  | 'stall';

export interface ProxyStats {
  /** Connections accepted since start, cut or not. */
  readonly accepted: number;
  /** Connections forwarded to the target and still open. */
  readonly live: number;
  /** Connections refused or black-holed while cut. */
  readonly refused: number;
}

export interface TcpProxy {
  readonly port: number;
  /** `proto://user@127.0.0.1:<proxy port>/path` for a URL of the target. */
  urlFor(targetUrl: string): string;
  /** Cuts every live connection (reset, or silenced with 'stall'); until restore(), new ones are refused or black-holed. */
  cut(mode?: CutMode): void;
  /** Forwards new connections again (black-holed ones are dropped so their clients retry). */
  restore(): void;
  readonly isCut: boolean;
  stats(): ProxyStats;
  close(): Promise<void>;
}

export async function startProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  /** Pairs silenced by a 'stall': reset at restore, as a long partition usually ends. */
  const stalled = new Set<[Socket, Socket]>();
  const held = new Set<Socket>();
  let cut: CutMode | undefined;
  let accepted = 0;
  let refused = 0;

  const server: Server = createServer((client) => {
    accepted++;
    client.on('error', () => {});
    if (cut === 'refuse') {
      refused++;
      client.resetAndDestroy();
      return;
    }
    if (cut === 'blackhole' || cut === 'stall') {
      refused++;
      held.add(client);
      client.on('close', () => held.delete(client));
      client.on('data', () => {}); // read and discard
      return;
    }
    client.pause();
    const upstream = createConnection({ host: targetHost, port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      stalled.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop);
    upstream.on('close', drop);
    client.on('close', drop);
    upstream.on('connect', () => {
      if (stalled.has(pair)) return;
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  const cutNow = (mode: CutMode) => {
    cut = mode;
    for (const pair of pairs) {
      const [client, upstream] = pair;
      if (mode === 'stall') {
        // Bytes still arriving are read and thrown away.
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.on('data', () => {});
        upstream.on('data', () => {});
        stalled.add(pair);
        continue;
      }
      // A reset towards the client: it sees its connection die mid-whatever it was doing.
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  const dropHeld = () => {
    for (const s of held) s.resetAndDestroy();
    held.clear();
    for (const [client, upstream] of stalled) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    stalled.clear();
  };

  return {
    port,
    urlFor(targetUrl) {
      const u = new URL(targetUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut: (mode = 'refuse') => cutNow(mode),
    restore() {
      cut = undefined;
      dropHeld();
    },
    get isCut() {
      return cut !== undefined;
    },
    stats: () => ({ accepted, live: pairs.size, refused }),
    async close() {
      cutNow('refuse');
      dropHeld();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
