// Shared documents: 200 clients over 20 rooms sending small Yjs updates to (1) Tape's whole
// server (/yjs on uWS, JWT, ACL, every update stored in the database before it is relayed),
// (2) the y-websocket reference server (y-websocket@2's bin/utils, in memory), (3) Hocuspocus
// (@hocuspocus/server, in memory). Each server runs in its own process; the clients run in two
// other processes and speak each server's wire protocol with the same code. Reported: updates
// delivered per second (one update reaching one other client), propagation latency (send →
// receipt, same clock), and server memory per idle connection (RSS delta for 1,000 sockets).
// Run: npx tsx bench/collab.bench.ts (DATABASE_URL set: Tape stores in PostgreSQL, else PGlite).
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { scratchPostgres } from '../sync-server/testing/server.ts';
import type { Memory, ServerKind, Started } from './collabPeer.ts';

type Kind = ServerKind;
const ROOMS = Number(process.env.BENCH_ROOMS ?? 20);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATES = (process.env.BENCH_RATES ?? '5,50').split(',').map(Number);
const IDLE = Number(process.env.BENCH_IDLE ?? 1000);
const SELF = fileURLToPath(import.meta.url);
const nowMs = () => performance.timeOrigin + performance.now();

interface Target {
  readonly kind: Kind;
  readonly port: number;
  readonly token: string;
  readonly rooms: string[];
}
interface LoadSpec {
  readonly target: Target;
  readonly clientsPerRoom: number;
  /** Updates per second per client; 0 = idle (connect, sync, hold). */
  readonly rate: number;
  readonly seconds: number;
  readonly id: number;
}
interface LoadResult {
  readonly sent: number;
  readonly delivered: number;
  /** Latency histogram, 0.1 ms buckets. */
  readonly histogram: number[];
}

// ---------------------------------------------------------------- wire, for all three servers
// Hocuspocus prefixes each message with the document name and wants an auth message first;
// the y-websocket protocol is otherwise the same.
function frame(kind: Kind, room: string, write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  if (kind === 'hocuspocus') encoding.writeVarString(e, room);
  write(e);
  return encoding.toUint8Array(e);
}
const urlOf = (t: Target, room: string) =>
  t.kind === 'tape'
    ? `ws://127.0.0.1:${t.port}/yjs/${room}?token=${t.token}`
    : t.kind === 'y-websocket'
      ? `ws://127.0.0.1:${t.port}/${room}`
      : `ws://127.0.0.1:${t.port}/`;

const MARK = Buffer.from('@@');
const STAMP = 17; // "1795599427951.123"
const PIPE = '|'.charCodeAt(0);
const DOT = '.'.charCodeAt(0);

class LoadClient {
  readonly ws: WebSocket;
  synced = false;
  private readonly doc = new Y.Doc();
  private readonly updates: Uint8Array[] = [];
  private next = 0;
  private readonly placeholder: Buffer;
  constructor(
    private readonly t: Target,
    private readonly room: string,
    private readonly tag: string,
    count: number,
    private readonly onDelivered: (latencyMs: number) => void,
  ) {
    // Updates made ahead with a placeholder stamp, patched at send time: the load generator
    // spends its CPU on the socket, not on Yjs.
    this.placeholder = Buffer.from(`@@${'0'.repeat(STAMP)}|${tag}`, 'latin1');
    this.doc.on('update', (u: Uint8Array) => this.updates.push(u));
    // Appends, not map overwrites: a server with gc drops the content of an overwritten entry
    // from the update it relays, and the stamp with it.
    const list = this.doc.getArray<string>('tickers');
    for (let i = 0; i < count; i++) list.push([this.placeholder.toString('latin1')]);
    this.ws = new WebSocket(urlOf(t, room));
    this.ws.binaryType = 'nodebuffer';
    this.ws.on('open', () => {
      if (t.kind === 'hocuspocus')
        this.ws.send(
          frame(t.kind, room, (e) => {
            encoding.writeVarUint(e, 2);
            encoding.writeVarUint(e, 0);
            encoding.writeVarString(e, 'bench');
          }),
        );
      this.ws.send(
        frame(t.kind, room, (e) => {
          encoding.writeVarUint(e, 0);
          encoding.writeVarUint(e, 0);
          encoding.writeVarUint8Array(e, Y.encodeStateVector(new Y.Doc()));
        }),
      );
    });
    this.ws.on('message', (data: Buffer) => this.receive(data));
    this.ws.on('error', () => {});
  }

  private receive(data: Buffer) {
    const d = decoding.createDecoder(data);
    if (this.t.kind === 'hocuspocus') decoding.readVarString(d);
    const type = decoding.readVarUint(d);
    if (type !== 0 && type !== 4) return;
    const sub = decoding.readVarUint(d);
    if (sub === 0) {
      // The server's step 1: answer with an empty step 2 (this client starts with nothing).
      this.ws.send(
        frame(this.t.kind, this.room, (e) => {
          encoding.writeVarUint(e, 0);
          encoding.writeVarUint(e, 1);
          encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(new Y.Doc()));
        }),
      );
    } else if (sub === 1) {
      this.synced = true;
    } else if (sub === 2) {
      // One frame may carry several updates (Hocuspocus merges what arrives in one window).
      const now = nowMs();
      for (let at = data.indexOf(MARK); at >= 0; at = data.indexOf(MARK, at + 2 + STAMP)) {
        if (data[at + 2 + STAMP] !== PIPE || data[at + 15] !== DOT) continue;
        const stamp = Number(data.toString('latin1', at + 2, at + 2 + STAMP));
        if (data.toString('latin1', at + 3 + STAMP, at + 3 + STAMP + this.tag.length) !== this.tag)
          this.onDelivered(now - stamp);
      }
    }
  }

  get sent(): number {
    return this.next;
  }

  send(): boolean {
    const u = this.updates[this.next];
    if (!u || this.ws.readyState !== WebSocket.OPEN) return false;
    this.next++;
    const buf = Buffer.from(u);
    // The whole placeholder, not just '@@': those two bytes can occur in a clock or an id.
    const at = buf.indexOf(this.placeholder);
    buf.write(nowMs().toFixed(3).padStart(STAMP, '0'), at + 2, 'latin1');
    this.ws.send(
      frame(this.t.kind, this.room, (e) => {
        encoding.writeVarUint(e, 0);
        encoding.writeVarUint(e, 2);
        encoding.writeVarUint8Array(e, buf);
      }),
    );
    return true;
  }
}

async function runLoad(spec: LoadSpec): Promise<void> {
  const histogram = new Uint32Array(100_000);
  let delivered = 0;
  let measuring = false;
  const count = Math.ceil(spec.rate * spec.seconds) + 8;
  const clients: LoadClient[] = [];
  for (const room of spec.target.rooms)
    for (let i = 0; i < spec.clientsPerRoom; i++)
      clients.push(
        new LoadClient(spec.target, room, `${spec.id}.${clients.length}.`, count, (ms) => {
          if (!measuring) return;
          delivered++;
          const bucket = Math.min(histogram.length - 1, Math.max(0, Math.round(ms * 10)));
          histogram[bucket] = (histogram[bucket] ?? 0) + 1;
        }),
      );
  const deadline = Date.now() + 60_000;
  while (!clients.every((c) => c.synced)) {
    if (Date.now() > deadline) throw new Error(`${spec.target.kind}: clients did not sync in 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  process.send?.({ ready: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  if (spec.rate > 0) {
    measuring = true;
    const start = nowMs();
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const elapsed = (nowMs() - start) / 1000;
        if (elapsed >= spec.seconds) {
          clearInterval(tick);
          measuring = false;
          resolve();
          return;
        }
        // Each client on its own phase: no synchronized bursts.
        clients.forEach((c, i) => {
          const due = Math.floor(elapsed * spec.rate + i / clients.length);
          while (c.sent < due && c.send());
        });
      }, 2);
    });
  }
  const result: LoadResult = {
    sent: clients.reduce((n, c) => n + c.sent, 0),
    delivered,
    histogram: [...histogram],
  };
  process.send?.(result);
  for (const c of clients) c.ws.terminate();
  setTimeout(() => process.exit(0), 100);
}

// ---------------------------------------------------------------- servers
function startServer(kind: Kind): Promise<{ started: Started; child: ChildProcess }> {
  const child = fork(fileURLToPath(new URL('./collabPeer.ts', import.meta.url)), [kind], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
  });
  return new Promise((resolve) => child.once('message', (started: Started) => resolve({ started, child })));
}

/** The server's memory after a full GC. */
const memoryOf = (child: ChildProcess) =>
  new Promise<Memory>((resolve) => {
    child.once('message', (m: Memory) => resolve(m));
    child.send('mem');
  });

async function load(target: Target, rate: number, clients: number) {
  const perRoom = clients / target.rooms.length;
  const procs = [0, 1].map((id) =>
    fork(
      SELF,
      ['load', JSON.stringify({ target, clientsPerRoom: perRoom / 2, rate, seconds: SECONDS, id })],
      {
        execArgv: ['--import', 'tsx'],
      },
    ),
  );
  await Promise.all(procs.map((p) => new Promise((r) => p.once('message', r))));
  const results = procs.map(
    (p) => new Promise<LoadResult>((r) => p.once('message', (m: LoadResult) => r(m))),
  );
  return {
    go: () => {
      for (const p of procs) p.send('go');
    },
    results,
  };
}

function percentile(h: number[], total: number, p: number): number {
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i] as number;
    if (seen >= total * p) return i / 10;
  }
  return h.length / 10;
}

async function main() {
  const kinds: Kind[] = ['tape', 'y-websocket', 'hocuspocus'];
  const db = process.env.DATABASE_URL
    ? await scratchPostgres('tape_bench')
    : { url: undefined, drop: async () => {} };
  if (db.url) process.env.BENCH_TAPE_DATABASE_URL = db.url;
  const servers = new Map<Kind, { started: Started; child: ChildProcess }>();
  for (const k of kinds) servers.set(k, await startServer(k));
  const targets: Target[] = kinds.map((kind) => {
    const { started } = servers.get(kind) as { started: Started };
    return { kind, port: started.port, token: started.token, rooms: started.rooms };
  });
  console.log(
    `collab: ${CLIENTS} clients over ${ROOMS} rooms, ${SECONDS} s per run; Tape stores in ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`,
  );
  for (const t of targets) {
    const child = (servers.get(t.kind) as { child: ChildProcess }).child;
    const before = await memoryOf(child);
    const idle = await load(t, 0, IDLE);
    const after = await memoryOf(child);
    idle.go();
    await Promise.all(idle.results);
    const per = (x: number, y: number) => ((y - x) / IDLE / 1024).toFixed(1);
    console.log(
      `${t.kind.padEnd(12)} idle, per connection: ${per(before.rss, after.rss)} KiB RSS, ${per(before.heap, after.heap)} KiB JS heap (${IDLE} sockets)`,
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (const rate of RATES) {
    for (const t of targets) {
      const run = await load(t, rate, CLIENTS);
      run.go();
      const results = await Promise.all(run.results);
      const delivered = results.reduce((n, r) => n + r.delivered, 0);
      const sent = results.reduce((n, r) => n + r.sent, 0);
      const h = results[0]?.histogram.map((x, i) => x + (results[1]?.histogram[i] ?? 0)) ?? [];
      const expected = sent * (CLIENTS / ROOMS - 1);
      console.log(
        `${t.kind.padEnd(12)} ${rate}/s/client: sent ${Math.round(sent / SECONDS)}/s, delivered ${Math.round(delivered / SECONDS)}/s (${((100 * delivered) / Math.max(1, expected)).toFixed(1)}% of expected), p50 ${percentile(h, delivered, 0.5)} ms, p99 ${percentile(h, delivered, 0.99)} ms`,
      );
      await new Promise((r) => setTimeout(r, 1500));
    }
  }
  for (const { child } of servers.values()) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await db.drop();
}

const [role, arg] = process.argv.slice(2);
if (role === 'load') await runLoad(JSON.parse(arg as string) as LoadSpec);
else await main();
