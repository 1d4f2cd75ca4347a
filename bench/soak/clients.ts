import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { decodeFrame, FrameFlag, FrameKind, type ServerMessage } from '../../sync-server/shared/market.ts';
import { type Errors, type Latency, nowMs } from './tools.ts';

// The soak's load: market clients over /ws that check every frame, and Yjs editors over the
// stock y-websocket provider.

const TRADE_RECORD = 52;
const CAPTURED_AT = 24;

export interface MarketTotals {
  trades: number;
  frames: number;
  decoded: number;
  conflations: number;
  replays: number;
  replayedTrades: number;
}

export class MarketClient {
  readonly ws: WebSocket;
  subscribed = false;
  stopping = false;
  /** Last contiguous seq per ticker; undefined until the subscribe snapshot or first frame. */
  private readonly last = new Map<string, number | undefined>();
  private readonly received = new Set<string>();
  /** Tickers waiting for the replay asked for after a gap. */
  private readonly resyncing = new Set<string>();
  /** Set by `conflated`: the next gap is the expected one, filled by a replay. */
  private conflated = false;
  private replayLeft = 0;
  constructor(
    url: string,
    private readonly tickers: string[],
    private readonly decode: boolean,
    private readonly totals: MarketTotals,
    private readonly latency: Latency,
    private readonly errors: Errors,
  ) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      try {
        if (isBinary) this.frame(data);
        else this.control(JSON.parse(data.toString()) as ServerMessage);
      } catch (err) {
        this.errors.add('market: bad message', (err as Error).message);
      }
    });
    this.ws.on('error', (err) => {
      if (!this.stopping) this.errors.add('market: socket error', err.message);
    });
    this.ws.on('close', (code, reason) => {
      if (!this.stopping) this.errors.add('market: socket closed', `${code} ${reason.toString()}`);
    });
  }

  private send(m: unknown) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  private control(m: ServerMessage) {
    switch (m.type) {
      case 'hello':
        for (const t of this.tickers) this.last.set(t, undefined);
        this.send({ type: 'sub', channel: 'trades', tickers: this.tickers });
        return;
      case 'snapshot':
        if (m.reason === 'subscribe') {
          for (const q of m.quotes) if (this.last.has(q.ticker)) this.last.set(q.ticker, q.seq);
        } else if (m.reason === 'gap_too_large') {
          // The server no longer has what this client missed: events are lost for it.
          for (const q of m.quotes) {
            this.errors.add('market: gap_too_large', `${q.ticker} after ${this.last.get(q.ticker)}`);
            this.last.set(q.ticker, q.seq);
            this.resyncing.delete(q.ticker);
          }
        }
        return;
      case 'replay': {
        const last = this.last.get(m.ticker);
        if (last !== undefined && m.from !== last + 1)
          this.errors.add('market: replay does not follow', `${m.ticker} last ${last}, replay ${m.from}`);
        this.resyncing.delete(m.ticker);
        this.replayLeft += m.to - m.from + 1;
        this.totals.replays++;
        return;
      }
      case 'subscribed':
        this.subscribed = true;
        return;
      case 'conflated':
        this.conflated = true;
        this.totals.conflations++;
        return;
      case 'error':
        this.errors.add('market: server error message', `${m.code} ${m.message}`);
        return;
      default:
        return;
    }
  }

  private frame(data: Buffer) {
    const now = nowMs();
    const n = data[3] as number;
    const head = 6 + n;
    const count = data.length >= head ? data.readUInt16LE(4 + n) : 0;
    if (data[0] !== 1 || data[1] !== FrameKind.trades || count === 0 || data.length !== head + count * 52) {
      this.errors.add('market: malformed frame', `${data.length} bytes`);
      return;
    }
    const ticker = data.toString('latin1', 4, 4 + n);
    const first = data.readDoubleLE(head);
    const lastInFrame = data.readDoubleLE(head + (count - 1) * TRADE_RECORD);
    const replay = ((data[2] as number) & FrameFlag.replay) !== 0;
    this.totals.frames++;
    this.totals.trades += count;
    if (lastInFrame - first !== count - 1)
      this.errors.add('market: frame not contiguous', `${ticker} ${first}..${lastInFrame} in ${count}`);
    if (this.decode) {
      this.totals.decoded++;
      const f = decodeFrame(data);
      if (
        f.kind !== FrameKind.trades ||
        f.ticker !== ticker ||
        f.trades[0]?.seq !== first ||
        f.trades.at(-1)?.seq !== lastInFrame
      )
        this.errors.add('market: decoder disagrees', ticker);
    }
    if (replay) {
      this.totals.replayedTrades += count;
      this.replayLeft = Math.max(0, this.replayLeft - count);
    } else {
      // Latency of live events only: a replay's capture stamps are old on purpose.
      for (let o = head + CAPTURED_AT, k = 0; k < count; k++, o += TRADE_RECORD)
        this.latency.add(now - data.readDoubleLE(o));
    }
    if (!this.last.has(ticker)) {
      this.errors.add('market: frame of a ticker not subscribed', ticker);
      return;
    }
    this.received.add(ticker);
    if (this.resyncing.has(ticker)) return; // these come again in the replay
    const last = this.last.get(ticker);
    if (last === undefined || first === last + 1) {
      this.last.set(ticker, lastInFrame);
      return;
    }
    if (first <= last) {
      this.errors.add(
        'market: duplicate seq',
        `${ticker} ${first} after ${last}${replay ? ' (replay)' : ''}`,
      );
      if (lastInFrame > last) this.last.set(ticker, lastInFrame);
      return;
    }
    // A gap. Expected once after the server conflated this socket (it then joins the live
    // stream again and the client asks for a replay); anywhere else it is a lost event.
    if (!this.conflated || replay)
      this.errors.add('market: gap in the live stream', `${ticker} ${first} after ${last}`);
    this.conflated = false;
    this.resyncing.add(ticker);
    this.send({ type: 'sub', channel: 'trades', tickers: [ticker], since: { [ticker]: last } });
  }

  /** What is still wrong at the end: a gap never filled, a ticker that never traded. */
  check() {
    for (const t of this.tickers) if (!this.received.has(t)) this.errors.add('market: no trade received', t);
    for (const t of this.resyncing) this.errors.add('market: gap never repaired', t);
    if (this.replayLeft > 0) this.errors.add('market: replay incomplete', `${this.replayLeft} trades`);
  }
}

// ---------------------------------------------------------------- Yjs editors
export const stateOf = (doc: Y.Doc) =>
  JSON.stringify([doc.getArray('tickers').toJSON(), [...doc.getMap('notes').entries()].sort()]);

export class Editor {
  readonly doc = new Y.Doc();
  readonly provider: WebsocketProvider;
  synced = false;
  stopping = false;
  edits = 0;
  reconnects = 0;
  readonly closes: string[] = [];
  private readonly seen = new Map<string, number>();
  constructor(
    port: number,
    token: string,
    readonly room: string,
    private readonly key: string,
    private readonly ticker: string,
    latency: Latency,
    deliveries: { n: number },
    errors: Errors,
  ) {
    const notes = this.doc.getMap<string>('notes');
    notes.observe((ev, tr) => {
      if (tr.local) return;
      const now = nowMs();
      for (const k of ev.keysChanged) {
        const stamp = Number(notes.get(k));
        if (!Number.isFinite(stamp) || stamp <= (this.seen.get(k) ?? 0)) continue;
        this.seen.set(k, stamp);
        if (!this.synced) continue; // the initial sync carries old edits
        deliveries.n++;
        latency.add(now - stamp);
      }
    });
    this.provider = new WebsocketProvider(`ws://127.0.0.1:${port}/yjs`, room, this.doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { token },
      disableBc: true,
      maxBackoffTime: 1_000,
    });
    this.provider.on('sync', (s: boolean) => {
      if (s) this.synced = true;
    });
    this.provider.on('connection-close', (ev: CloseEvent | null) => {
      if (this.stopping) return;
      // A reconnect is counted and reported, not an error by itself: the provider resyncs, and
      // what must hold — every room converging, nothing lost — is checked at the end.
      this.reconnects++;
      this.closes.push(`${room} ${ev?.code ?? '?'} ${ev?.reason ?? ''}`.trim());
    });
    this.provider.on('connection-error', () => {
      if (!this.stopping) errors.add('yjs: connection error', room);
    });
  }

  /** One small edit: this editor's note (a timestamp), and every 5th time its ticker in or out. */
  edit() {
    this.edits++;
    this.doc.transact(() => {
      this.doc.getMap<string>('notes').set(this.key, nowMs().toFixed(3));
      if (this.edits % 5 === 0) {
        const list = this.doc.getArray<string>('tickers');
        const mine = `${this.ticker}#${this.key}`;
        const at = list.toArray().indexOf(mine);
        if (at >= 0) list.delete(at, 1);
        else list.push([mine]);
      }
    });
  }

  get state() {
    return stateOf(this.doc);
  }
}
