import { Ollama } from 'ollama';
import type { BreakerState, HostStatus } from '../shared/assistant.ts';
import type { ChatMessage } from './answer.ts';
import { type Embedder, normalise } from './embed.ts';

// The LLM side, production only (OLLAMA_HOSTS): a pool of Ollama hosts driven through the
// `ollama` client. Each call goes to the first host whose circuit breaker lets it through and
// fails over to the next on an error or a timeout. A breaker opens after `failures` errors in a
// row, lets one trial call through after `cooldownMs` (half-open), and closes on its success.
// A streamed answer fails over only before its first token: after that, a break ends the answer
// with an error (what the reader already saw cannot be taken back).

export interface BreakerOptions {
  readonly failures: number;
  readonly cooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = Object.freeze({ failures: 3, cooldownMs: 30_000 });

export interface Breaker {
  state(now: number): BreakerState;
  /** May a call go now? In half-open, only one trial at a time. */
  allow(now: number): boolean;
  success(): void;
  failure(now: number): void;
}

export function circuitBreaker(opts: BreakerOptions = DEFAULT_BREAKER): Breaker {
  let failures = 0;
  let openedAt: number | undefined;
  let trial = false;
  const state = (now: number): BreakerState =>
    openedAt === undefined ? 'closed' : now - openedAt >= opts.cooldownMs ? 'half-open' : 'open';
  return {
    state,
    allow(now) {
      const s = state(now);
      if (s === 'closed') return true;
      if (s === 'open' || trial) return false;
      trial = true;
      return true;
    },
    success() {
      failures = 0;
      openedAt = undefined;
      trial = false;
    },
    failure(now) {
      failures++;
      // A failed trial opens it again for a whole cooldown.
      if (trial || failures >= opts.failures) openedAt = now;
      trial = false;
    },
  };
}

/** No host could answer; `causes` names each one's reason (hosts without credentials). */
export class LlmUnavailableError extends Error {
  override name = 'LlmUnavailableError';
  constructor(readonly causes: readonly string[]) {
    super(`No LLM host answered: ${causes.join('; ') || 'no hosts'}`);
  }
}

export class LlmTimeoutError extends Error {
  override name = 'LlmTimeoutError';
}

export interface LlmPoolOptions {
  readonly hosts: readonly string[];
  readonly chatModel: string;
  readonly embedModel: string;
  /** Until the response headers (and the whole reply, for calls that are not streamed). */
  readonly timeoutMs: number;
  /** Longest silence between two streamed chunks. */
  readonly idleMs?: number;
  readonly breaker?: BreakerOptions;
  readonly now?: () => number;
}

export interface LlmPool {
  readonly chatModel: string;
  hosts(): HostStatus[];
  /** Whether each host answers `/api/version` now (status page; breakers untouched). */
  probe(): Promise<(HostStatus & { up: boolean })[]>;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** One reply, not streamed (the re-ranker's JSON). */
  chat(messages: readonly ChatMessage[], json: boolean): Promise<string>;
  /** Resolves once a host has sent its first chunk; then yields the text as it comes. */
  chatStream(messages: readonly ChatMessage[]): Promise<AsyncIterable<string>>;
}

/** A host as logs and status may show it: no user, no password. */
export const hostLabel = (host: string): string => {
  try {
    const u = new URL(host);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '<unparsable host>';
  }
};

// The client's `fetch`, with a deadline: streamed calls (they carry the client's own signal)
// must get their headers in time, other calls their whole body.
const deadlineFetch =
  (ms: number): typeof fetch =>
  async (input, init) => {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new LlmTimeoutError(`no answer within ${ms} ms`)), ms);
    timer.unref?.();
    const signal = init?.signal ? AbortSignal.any([init.signal, ctl.signal]) : ctl.signal;
    try {
      return await fetch(input, { ...init, signal });
    } finally {
      if (init?.signal) clearTimeout(timer);
    }
  };

const reason = (err: unknown) => {
  const e = err as Error & { cause?: Error };
  return e.cause instanceof LlmTimeoutError ? e.cause.message : (e.message ?? String(err));
};

export function ollamaPool(opts: LlmPoolOptions): LlmPool {
  const now = opts.now ?? Date.now;
  const idleMs = opts.idleMs ?? opts.timeoutMs;
  const members = opts.hosts.map((host) => {
    // fetch refuses URLs with credentials: they travel as a Basic Authorization header.
    const u = new URL(host);
    const auth = u.username
      ? {
          Authorization: `Basic ${btoa(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`)}`,
        }
      : undefined;
    const label = hostLabel(host);
    return {
      label,
      client: new Ollama({ host: label, fetch: deadlineFetch(opts.timeoutMs), headers: auth }),
      breaker: circuitBreaker(opts.breaker ?? DEFAULT_BREAKER),
    };
  });
  type Member = (typeof members)[number];

  async function failover<T>(call: (m: Member) => Promise<T>): Promise<T> {
    const causes: string[] = [];
    for (const m of members) {
      if (!m.breaker.allow(now())) {
        causes.push(`${m.label}: circuit open`);
        continue;
      }
      try {
        const r = await call(m);
        m.breaker.success();
        return r;
      } catch (err) {
        m.breaker.failure(now());
        causes.push(`${m.label}: ${reason(err)}`);
      }
    }
    throw new LlmUnavailableError(causes);
  }

  return {
    chatModel: opts.chatModel,
    hosts: () => members.map((m) => ({ host: m.label, state: m.breaker.state(now()) })),
    probe: () =>
      Promise.all(
        members.map(async (m) => ({
          host: m.label,
          state: m.breaker.state(now()),
          up: await m.client.version().then(
            () => true,
            () => false,
          ),
        })),
      ),
    embed: (texts) =>
      failover(async (m) => {
        const r = await m.client.embed({ model: opts.embedModel, input: [...texts] });
        if (r.embeddings.length !== texts.length)
          throw new Error('the host returned another number of vectors');
        return r.embeddings.map((e) => normalise(Float32Array.from(e)));
      }),
    chat: (messages, json) =>
      failover(async (m) => {
        const r = await m.client.chat({
          model: opts.chatModel,
          messages: messages.map((x) => ({ ...x })),
          stream: false,
          ...(json ? { format: 'json' } : {}),
          options: { temperature: 0 },
        });
        return r.message.content;
      }),
    chatStream: (messages) =>
      failover(async (m) => {
        const stream = await m.client.chat({
          model: opts.chatModel,
          messages: messages.map((x) => ({ ...x })),
          stream: true,
          options: { temperature: 0.1 },
        });
        const it = stream[Symbol.asyncIterator]();
        const next = async () => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const idle = new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              stream.abort();
              reject(new LlmTimeoutError(`${m.label}: silent for ${idleMs} ms mid-answer`));
            }, idleMs);
          });
          try {
            return await Promise.race([it.next(), idle]);
          } finally {
            clearTimeout(timer);
          }
        };
        const first = await next().catch((err: unknown) => {
          stream.abort();
          throw err;
        });
        return (async function* () {
          try {
            let r = first;
            while (!r.done) {
              if (r.value.message.content) yield r.value.message.content;
              r = await next();
            }
          } catch (err) {
            m.breaker.failure(now());
            throw err;
          } finally {
            stream.abort();
          }
        })();
      }),
  };
}

/** Ollama embeddings (`/api/embed`) as the retrieval embedder, batched. */
export function ollamaEmbedder(pool: LlmPool, model: string, batch = 32): Embedder {
  return {
    id: `ollama/${model}`,
    async embed(texts) {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += batch)
        out.push(...(await pool.embed(texts.slice(i, i + batch))));
      return out;
    },
  };
}
