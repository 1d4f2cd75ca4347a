import { z } from 'zod';
import type { Principal } from '../auth/tokens.ts';
import {
  CHANNELS,
  type Channel,
  PROTOCOL_VERSION,
  type Quote,
  type ServerMessage,
  type TradeMark,
} from '../shared/market.ts';
import { fullBucket, type Rate, type TokenBucket, takeToken } from '../tokenBucket.ts';
import { CloseCode, type WsEndpoint, type WsSession } from '../ws.ts';
import { AGENTS_TOPIC } from './agents.ts';
import { type Batched, SocketBatcher } from './batch.ts';
import { type MarketService, topicFor } from './service.ts';

// The /ws endpoint: JSON control messages in; snapshots, replays and binary market frames out;
// per-socket backpressure: live → conflated → closed.

const ticker = z.string().regex(/^[A-Z0-9]{4,12}$/, 'a B3 ticker such as PETR4');
const tickers = z.array(ticker).min(1).max(200);
const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auth'), token: z.string().min(1).max(4096) }),
  z.object({
    type: z.literal('sub'),
    channel: z.enum(CHANNELS),
    tickers,
    since: z.record(ticker, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)).optional(),
    // The client's trade at `since`: a replay follows only if the server's trade there is the same.
    sinceTrade: z
      .record(ticker, z.object({ tradeNumber: z.number().int().min(0), time: z.number().finite() }))
      .optional(),
  }),
  z.object({ type: z.literal('unsub'), channel: z.enum(CHANNELS), tickers }),
  z.object({ type: z.literal('batch') }),
  z.object({ type: z.literal('ping'), id: z.number().int().optional() }),
]);

export interface Watermarks {
  /** Above this many buffered bytes a socket gets conflated snapshots instead of every event. */
  readonly softBytes: number;
  /** Above this it is closed with CloseCode.slowConsumer (4408). */
  readonly hardBytes: number;
  /** How often a conflated socket gets the latest state of its tickers. */
  readonly conflateMs: number;
  /** A socket that stays conflated this long without catching up is closed (4408) too. */
  readonly stallMs: number;
  readonly sweepMs: number;
}

export const DEFAULT_WATERMARKS: Watermarks = {
  softBytes: 512 * 1024,
  hardBytes: 4 * 1024 * 1024,
  conflateMs: 250,
  stallMs: 10_000,
  sweepMs: 25,
};

export interface BackpressureMetrics {
  state(mode: 'live' | 'conflated', delta: number): void;
  slowConsumerClosed(): void;
}

export interface MarketSessionDeps {
  readonly market: MarketService;
  readonly verify: (token: string) => Principal & { expiresAt: number };
  readonly onClientError: (principal: Principal, reason: string) => void;
  readonly watermarks?: Watermarks;
  readonly metrics?: BackpressureMetrics;
  /** The user's trading account: its order and position events are pushed on accountTopic(). */
  readonly accountOf?: (userId: number) => Promise<string | undefined>;
  /** Control messages a socket may send (token bucket); default CONTROL_RATE. */
  readonly controlRate?: Rate;
  /**
   * The open dead letters, counted while admin sockets are open: each joins ADMIN_TOPIC, where
   * a change is published as `deadLetters`, and gets the last count at once if there is one.
   */
  readonly openLetters?: {
    watch(): void;
    unwatch(): void;
    readonly last: number | undefined;
  };
}

/**
 * The app sends a handful of control messages per connection (its subscriptions, a token
 * renewal, a resubscribe per gap). Past this a socket's messages are dropped unread: the first
 * drop of a flood is answered with `rate_limited`; a socket that goes on past `burst` more drops
 * in the flood (until a second passes without one) is closed (4429).
 */
export const CONTROL_RATE: Rate = { perSecond: 50, burst: 200 };
/** A flood is over once a socket has gone this long without a dropped message. */
const FLOOD_QUIET_MS = 1_000;

/** The topic of one account's order and position events: only its users' sockets join it. */
export const accountTopic = (accountId: string) => `acct/${accountId}`;

/** The topic of one user's own messages (their alerts' firings): only that user's sockets join it. */
export const userTopic = (userId: number) => `user/${userId}`;

/** What admins' sockets get and nobody else's: the open dead letters (`deadLetters`). */
export const ADMIN_TOPIC = 'admin';

interface State {
  expiry: NodeJS.Timeout | undefined;
  mode: 'live' | 'conflated';
  /** Topics the client asked for (`md/<channel>/<ticker>`); joined while live. */
  topics: Set<string>;
  /** Tickers of its trade subscriptions: what a conflated snapshot covers. */
  tickers: Set<string>;
  lastConflatedAt: number;
  conflatedSince: number;
  closed: boolean;
  bucket: TokenBucket;
  /**
   * Messages dropped in the current flood (rate limit): counted until a second passes without a
   * drop, not reset by the token a flood earns back every 20 ms, so one flood is answered once
   * and a socket that keeps flooding is closed.
   */
  dropped: number;
  /** When the last message was dropped (ms). */
  droppedAt: number;
  /** The socket's subscription changes still running, in order; undefined when idle. */
  queue: Promise<void> | undefined;
  /** An admin's socket: it watches the open dead letters until it closes. */
  admin: boolean;
  /** Batch mode (the client sent `batch`): its market topics are joined in the batcher, not uWS. */
  batch: Batched | undefined;
}

/** The largest control message; one up to twice this is closed with 1009 and a reason. */
export const MAX_CONTROL_BYTES = 16 * 1024;
const decoder = new TextDecoder('utf-8', { fatal: true });

export interface MarketEndpoint extends WsEndpoint<State> {
  /** Stops the backpressure sweep (server shutdown). */
  stop(): void;
  /** A message published on a topic, for the sockets in batch mode (uWS has the others). */
  publish(topic: string, message: Uint8Array | string): void;
  /** Open /ws sockets. */
  readonly sockets: number;
  /** Whether the user has a /ws socket open (the app is running somewhere): alerts reach it there. */
  connected(userId: number): boolean;
}

export function marketEndpoint(deps: MarketSessionDeps): MarketEndpoint {
  const wm = deps.watermarks ?? DEFAULT_WATERMARKS;
  const rate = deps.controlRate ?? CONTROL_RATE;
  const sessions = new Map<WsSession, State>();
  const perUser = new Map<number, number>();
  const batcher = new SocketBatcher();
  // Everything sent to a socket goes through here: in batch mode, after what it holds.
  const out = (s: WsSession, message: Uint8Array | string, binary: boolean) => {
    const batch = sessions.get(s)?.batch;
    return batch ? batcher.send(batch, message, binary) : s.send(message, binary);
  };
  const send = (s: WsSession, m: ServerMessage) => out(s, JSON.stringify(m), false);
  const joinTopic = (s: WsSession, state: State, topic: string) =>
    state.batch ? batcher.subscribe(state.batch, topic) : s.subscribe(topic);
  const leaveTopic = (s: WsSession, state: State, topic: string) =>
    state.batch ? batcher.unsubscribe(state.batch, topic) : s.unsubscribe(topic);
  const fail = (s: WsSession, code: string, message: string) => {
    deps.onClientError(s.principal, code);
    send(s, { type: 'error', code, message });
  };
  // The socket lives no longer than its token; the client renews it with an `auth` message.
  const armExpiry = (s: WsSession, state: State, expiresAt: number) => {
    clearTimeout(state.expiry);
    state.expiry = setTimeout(
      () => s.close(CloseCode.unauthorized, 'access token expired'),
      Math.max(0, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)),
    );
  };
  // Where each ticker's history backfill stands (the ones it published while a socket was not there).
  const sendBackfills = (s: WsSession, names: Iterable<string>) => {
    for (const t of names) {
      const b = deps.market.backfillStatus(t);
      if (b) send(s, { type: 'backfill', ...b });
    }
  };
  const quotesOf = (names: Iterable<string>) =>
    [...names].map((t) => deps.market.quote(t)).filter((q): q is Quote => q !== undefined);

  // The current book and candle of each ticker, sent before their live frames.
  const latestFrames = (channel: Channel, names: Iterable<string>) =>
    [...names]
      .map((t) =>
        channel === 'book'
          ? deps.market.bookFrame(t)
          : channel === 'candles'
            ? deps.market.candleFrame(t)
            : undefined,
      )
      .filter((f): f is Uint8Array => f !== undefined);

  const subscribe = async (
    s: WsSession,
    state: State,
    channel: Channel,
    names: string[],
    since: Record<string, number> | undefined,
    sinceTrade?: Record<string, TradeMark>,
  ) => {
    if (channel !== 'trades') {
      s.cork(() => {
        if (state.mode === 'live') for (const f of latestFrames(channel, names)) out(s, f, true);
        for (const t of names) join(s, state, channel, t);
        send(s, { type: 'subscribed', channel, tickers: names });
      });
      return;
    }
    const fresh = names.filter((t) => since?.[t] === undefined);
    if (fresh.length > 0) {
      s.cork(() => {
        send(s, { type: 'snapshot', quotes: quotesOf(fresh), reason: 'subscribe' });
        for (const t of fresh) join(s, state, channel, t);
        sendBackfills(s, fresh);
      });
    }
    for (const t of names) {
      const after = since?.[t];
      if (after === undefined) continue;
      const plan = await deps.market.catchUp(t, after, sinceTrade?.[t]);
      if (state.closed) return;
      // Sent and subscribed in one synchronous step: nothing can be published in between.
      s.cork(() => {
        if (plan.kind === 'replay') {
          send(s, { type: 'replay', ticker: t, from: plan.from, to: plan.to });
          for (const f of plan.frames) out(s, f, true);
        } else {
          // `seqs` says where the ticker continues, also when there is no quote yet (a restart).
          send(s, {
            type: 'snapshot',
            quotes: plan.quote ? [plan.quote] : [],
            reason: plan.reason,
            seqs: { [t]: plan.seq },
          });
        }
        join(s, state, channel, t);
        sendBackfills(s, [t]);
      });
    }
    send(s, { type: 'subscribed', channel, tickers: names });
  };
  // One subscription change at a time per socket, in order: a replay (database reads, frames
  // held in memory) never runs beside another of the same socket, whatever it sends, and a
  // socket closed meanwhile (4408, 4429) has the rest of its queue skipped.
  const serially = (state: State, job: () => Promise<void> | void) => {
    const run = async () => {
      if (!state.closed) await job();
    };
    const tail = (state.queue ? state.queue.then(run) : run()).catch(() => {});
    state.queue = tail;
    void tail.then(() => {
      if (state.queue === tail) state.queue = undefined;
    });
  };
  const join = (s: WsSession, state: State, channel: Channel, t: string) => {
    const topic = topicFor(channel, t);
    state.topics.add(topic);
    if (channel === 'trades') state.tickers.add(t);
    if (state.mode === 'live') joinTopic(s, state, topic);
  };

  const setMode = (s: WsSession, state: State, mode: State['mode']) => {
    if (state.mode === mode) return;
    deps.metrics?.state(state.mode, -1);
    deps.metrics?.state(mode, 1);
    state.mode = mode;
    state.conflatedSince = Date.now();
    for (const topic of state.topics) {
      if (mode === 'live') joinTopic(s, state, topic);
      else leaveTopic(s, state, topic);
    }
    send(s, mode === 'live' ? { type: 'live' } : { type: 'conflated' });
    if (mode === 'live') {
      // Books and candles moved on meanwhile: their latest state first.
      const of = (channel: Channel) =>
        [...state.topics]
          .filter((x) => x.startsWith(`md/${channel}/`))
          .map((x) => x.slice(channel.length + 4));
      for (const f of [...latestFrames('book', of('book')), ...latestFrames('candles', of('candles'))])
        out(s, f, true);
      sendBackfills(s, state.tickers);
    }
  };

  // Memory stays bounded whatever a client does: every socket is checked a few times per
  // second; a slow one first loses the per-event stream, then the connection.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [s, state] of sessions) {
      const buffered = s.bufferedAmount();
      const stalled = state.mode === 'conflated' && now - state.conflatedSince > wm.stallMs;
      if (buffered > wm.hardBytes || stalled) {
        deps.metrics?.slowConsumerClosed();
        state.closed = true;
        s.close(CloseCode.slowConsumer, 'slow consumer: too far behind the market');
      } else if (state.mode === 'live' && buffered > wm.softBytes) {
        setMode(s, state, 'conflated');
      } else if (state.mode === 'conflated') {
        if (buffered < wm.softBytes / 4) setMode(s, state, 'live');
        else if (buffered < wm.softBytes && now - state.lastConflatedAt >= wm.conflateMs) {
          state.lastConflatedAt = now;
          send(s, { type: 'snapshot', quotes: quotesOf(state.tickers), reason: 'conflated' });
        }
      }
    }
  }, wm.sweepMs);
  sweep.unref();

  return {
    get sockets() {
      return sessions.size;
    },
    path: '/ws',
    // uWS drops a frame past its ceiling without a close frame (the client sees 1006); up to
    // twice the limit we read its size and close with 1009 and a reason.
    maxPayloadBytes: MAX_CONTROL_BYTES * 2,
    // uWS's own ceiling, above our hard watermark: a last resort if a burst outruns the sweep.
    maxBackpressureBytes: wm.hardBytes * 2,
    params: () => ({}),
    stop: () => {
      clearInterval(sweep);
      batcher.stop();
    },
    publish: (topic, message) => batcher.publish(topic, message),
    open(session) {
      const state: State = {
        expiry: undefined,
        mode: 'live',
        topics: new Set(),
        tickers: new Set(),
        lastConflatedAt: 0,
        conflatedSince: 0,
        closed: false,
        bucket: fullBucket(rate, Date.now()),
        dropped: 0,
        droppedAt: 0,
        queue: undefined,
        admin: session.principal.role === 'admin' && deps.openLetters !== undefined,
        batch: undefined,
      };
      sessions.set(session, state);
      deps.metrics?.state('live', 1);
      armExpiry(session, state, session.expiresAt);
      send(session, {
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        user: { username: session.principal.username, role: session.principal.role },
        tickers: deps.market.tickerList,
        instruments: deps.market.instruments,
      });
      send(session, { type: 'connector', status: deps.market.connectorStatus() });
      session.subscribe('connector');
      // The brokers named so far, once; those named later come on their topic.
      const agents = deps.market.agents();
      if (agents.length > 0) send(session, { type: 'agents', agents });
      session.subscribe(AGENTS_TOPIC);
      session.subscribe(userTopic(session.principal.userId));
      perUser.set(session.principal.userId, (perUser.get(session.principal.userId) ?? 0) + 1);
      if (state.admin) {
        session.subscribe(ADMIN_TOPIC);
        const open = deps.openLetters?.last;
        if (open !== undefined) send(session, { type: 'deadLetters', open });
        deps.openLetters?.watch();
      }
      // Never conflated: an order event is not a price to skip. A client that reconnects reads
      // its orders over REST.
      deps.accountOf?.(session.principal.userId).then(
        (account) => {
          if (account && !state.closed) session.subscribe(accountTopic(account));
        },
        (err: Error) => deps.onClientError(session.principal, `account lookup failed: ${err.message}`),
      );
      return state;
    },
    message(session, data, isBinary) {
      const state = sessions.get(session);
      if (!state || state.closed) return;
      // Counted before anything is decoded: a flood costs the server a comparison per message.
      const now = Date.now();
      const bucket = takeToken(state.bucket, rate, now);
      if (!bucket) {
        state.dropped++;
        state.droppedAt = now;
        if (state.dropped === 1) {
          fail(
            session,
            'rate_limited',
            `Over ${rate.perSecond} control messages/s: this one and the next are dropped until you slow down`,
          );
        } else if (state.dropped > rate.burst) {
          deps.onClientError(session.principal, 'rate_limited: closed');
          state.closed = true;
          session.close(CloseCode.rateLimited, `rate limit: over ${rate.perSecond} control messages/s`);
        }
        return;
      }
      state.bucket = bucket;
      if (now - state.droppedAt >= FLOOD_QUIET_MS) state.dropped = 0;
      if (data.byteLength > MAX_CONTROL_BYTES) {
        deps.onClientError(session.principal, 'too_large');
        state.closed = true;
        session.close(
          CloseCode.tooBig,
          `message too big: ${data.byteLength} bytes, the limit is ${MAX_CONTROL_BYTES}`,
        );
        return;
      }
      if (isBinary) return fail(session, 'binary_not_expected', 'Control messages are JSON text frames');
      let parsed: z.infer<typeof clientMessage>;
      try {
        const result = clientMessage.safeParse(JSON.parse(decoder.decode(data)));
        if (!result.success) {
          const issue = result.error.issues[0];
          return fail(session, 'bad_message', `${issue?.path.join('.') || 'message'}: ${issue?.message}`);
        }
        parsed = result.data;
      } catch {
        return fail(session, 'bad_json', 'Control messages must be UTF-8 JSON');
      }
      switch (parsed.type) {
        case 'auth':
          try {
            const p = deps.verify(parsed.token);
            if (p.userId !== session.principal.userId)
              session.close(CloseCode.forbidden, 'token belongs to another user');
            else armExpiry(session, state, p.expiresAt);
          } catch {
            session.close(CloseCode.unauthorized, 'invalid access token');
          }
          return;
        case 'sub': {
          const known = new Set(deps.market.tickerList);
          const names = [...new Set(parsed.tickers)];
          const unknown = names.filter((t) => !known.has(t));
          if (unknown.length > 0)
            return fail(session, 'unknown_ticker', `Not on this feed: ${unknown.join(', ')}`);
          const { channel, since, sinceTrade } = parsed;
          serially(state, () =>
            subscribe(session, state, channel, names, since, sinceTrade).catch((err: Error) =>
              fail(
                session,
                'replay_failed',
                `Could not replay: ${err.message}; subscribe again without since`,
              ),
            ),
          );
          return;
        }
        case 'unsub': {
          const { channel, tickers: names } = parsed;
          serially(state, () => {
            for (const t of names) {
              const topic = topicFor(channel, t);
              state.topics.delete(topic);
              if (channel === 'trades') state.tickers.delete(t);
              leaveTopic(session, state, topic);
            }
            send(session, { type: 'unsubscribed', channel, tickers: names });
          });
          return;
        }
        case 'batch':
          // The topics joined so far move to the batcher at once: nothing is sent twice or lost.
          if (!state.batch) {
            const live = state.mode === 'live';
            if (live) for (const topic of state.topics) session.unsubscribe(topic);
            state.batch = batcher.add(session);
            if (live) for (const topic of state.topics) batcher.subscribe(state.batch, topic);
          }
          return;
        case 'ping':
          send(session, { type: 'pong', id: parsed.id, time: Date.now() });
          return;
      }
    },
    close(session) {
      const state = sessions.get(session);
      if (!state) return;
      state.closed = true;
      clearTimeout(state.expiry);
      deps.metrics?.state(state.mode, -1);
      if (state.admin) deps.openLetters?.unwatch();
      if (state.batch) batcher.remove(state.batch);
      sessions.delete(session);
      const left = (perUser.get(session.principal.userId) ?? 1) - 1;
      if (left > 0) perUser.set(session.principal.userId, left);
      else perUser.delete(session.principal.userId);
    },
    connected: (userId) => perUser.has(userId),
  };
}
