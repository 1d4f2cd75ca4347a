import { z } from 'zod';
import type { Principal } from '../auth/tokens.ts';
import { CloseCode, type WsEndpoint, type WsSession } from '../http/ws.ts';
import {
  type ConnectorStatus,
  PROTOCOL_VERSION,
  type Quote,
  type ServerMessage,
  topicFor,
} from './protocol.ts';

// The /ws endpoint: JSON control messages in, snapshots and binary market frames out.

const ticker = z.string().regex(/^[A-Z0-9]{4,12}$/, 'a B3 ticker such as PETR4');
const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auth'), token: z.string().min(1).max(4096) }),
  z.object({
    type: z.literal('sub'),
    channel: z.literal('trades'),
    tickers: z.array(ticker).min(1).max(200),
  }),
  z.object({
    type: z.literal('unsub'),
    channel: z.literal('trades'),
    tickers: z.array(ticker).min(1).max(200),
  }),
  z.object({ type: z.literal('ping'), id: z.number().int().optional() }),
]);

export interface MarketView {
  tickers(): string[];
  quote(ticker: string): Quote | undefined;
  connectorStatus(): ConnectorStatus;
}

export interface MarketSessionDeps {
  readonly market: MarketView;
  readonly verify: (token: string) => Promise<Principal & { expiresAt: number }>;
  readonly onClientError: (principal: Principal, reason: string) => void;
}

const MAX_CONTROL_BYTES = 16 * 1024;
const decoder = new TextDecoder('utf-8', { fatal: true });

interface State {
  expiry: NodeJS.Timeout | undefined;
}

export function marketEndpoint(deps: MarketSessionDeps): WsEndpoint<State> {
  const states = new WeakMap<WsSession, State>();
  const send = (s: WsSession, m: ServerMessage) => s.send(JSON.stringify(m), false);
  const fail = (s: WsSession, code: string, message: string) => {
    deps.onClientError(s.principal, code);
    send(s, { type: 'error', code, message });
  };
  // The socket lives no longer than its token; the client renews it with an `auth` message.
  const armExpiry = (s: WsSession, state: State, expiresAt: number) => {
    if (state.expiry) clearTimeout(state.expiry);
    state.expiry = setTimeout(
      () => s.close(CloseCode.unauthorized, 'access token expired'),
      Math.max(0, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)),
    );
  };

  return {
    path: '/ws',
    maxPayloadBytes: MAX_CONTROL_BYTES,
    maxBackpressureBytes: 4 * 1024 * 1024,
    params: () => ({}),
    open(session) {
      const state: State = { expiry: undefined };
      states.set(session, state);
      armExpiry(session, state, session.expiresAt);
      send(session, {
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        user: { username: session.principal.username, role: session.principal.role },
        tickers: deps.market.tickers(),
      });
      send(session, { type: 'connector', status: deps.market.connectorStatus() });
      return state;
    },
    message(session, data, isBinary) {
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
      const state = states.get(session) as State;
      switch (parsed.type) {
        case 'auth':
          deps
            .verify(parsed.token)
            .then((p) => {
              if (p.userId !== session.principal.userId) {
                session.close(CloseCode.forbidden, 'token belongs to another user');
              } else armExpiry(session, state, p.expiresAt);
            })
            .catch(() => session.close(CloseCode.unauthorized, 'invalid access token'));
          return;
        case 'sub': {
          const known = new Set(deps.market.tickers());
          const unknown = parsed.tickers.filter((t) => !known.has(t));
          if (unknown.length > 0)
            return fail(session, 'unknown_ticker', `Not on this feed: ${unknown.join(', ')}`);
          const quotes = parsed.tickers
            .map((t) => deps.market.quote(t))
            .filter((q): q is Quote => q !== undefined);
          session.cork(() => {
            send(session, { type: 'snapshot', quotes });
            for (const t of parsed.tickers) session.subscribe(topicFor(parsed.channel, t));
            send(session, { type: 'subscribed', channel: parsed.channel, tickers: parsed.tickers });
          });
          return;
        }
        case 'unsub':
          for (const t of parsed.tickers) session.unsubscribe(topicFor(parsed.channel, t));
          send(session, { type: 'unsubscribed', channel: parsed.channel, tickers: parsed.tickers });
          return;
        case 'ping':
          send(session, { type: 'pong', id: parsed.id, time: Date.now() });
          return;
      }
    },
    close(session) {
      const state = states.get(session);
      if (state?.expiry) clearTimeout(state.expiry);
    },
  };
}
