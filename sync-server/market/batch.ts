import { BATCH_MAX_DELAY_MS, type BatchPart, encodeBatch, MAX_BATCH } from '../shared/market.ts';
import type { WsSession } from '../ws.ts';

// Batch mode for a /ws socket (a browser's: it asked with `batch`): instead of one WebSocket
// message per published frame (a busy feed drains one trade at a time, so ~1,000 a second,
// each a message event for the page to dispatch), the socket's market messages are held and
// sent together in one batch frame, at most BATCH_MAX_DELAY_MS after the first of them or once
// MAX_PENDING_BYTES are held. Everything else it is sent directly (replies, snapshots, replay
// frames) goes out after what is held: the socket gets exactly the messages, in exactly the
// order, it would get without batching; only the WebSocket messages are fewer.

/** Held bytes past which a socket's batch goes out at once. */
export const MAX_PENDING_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** A message held, as published and as a batch entry. */
interface Held extends BatchPart {
  readonly message: Uint8Array | string;
}

/** One socket in batch mode: what it has been published and not yet sent. */
export interface Batched {
  readonly session: WsSession;
  pending: Held[];
  bytes: number;
}

export class SocketBatcher {
  private readonly byTopic = new Map<string, Set<Batched>>();
  private readonly waiting = new Set<Batched>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly maxDelayMs = BATCH_MAX_DELAY_MS,
    private readonly maxBytes = MAX_PENDING_BYTES,
  ) {}

  add(session: WsSession): Batched {
    return { session, pending: [], bytes: 0 };
  }

  /** Closed: nothing more is sent to it (what it held is dropped with the socket). */
  remove(b: Batched) {
    for (const [topic, set] of this.byTopic) {
      set.delete(b);
      if (set.size === 0) this.byTopic.delete(topic);
    }
    this.waiting.delete(b);
    b.pending = [];
    b.bytes = 0;
  }

  subscribe(b: Batched, topic: string) {
    const set = this.byTopic.get(topic) ?? new Set();
    set.add(b);
    this.byTopic.set(topic, set);
  }

  unsubscribe(b: Batched, topic: string) {
    const set = this.byTopic.get(topic);
    set?.delete(b);
    if (set?.size === 0) this.byTopic.delete(topic);
  }

  /** A message published on a topic: held for each batched subscriber (encoded once for all). */
  publish(topic: string, message: Uint8Array | string) {
    const set = this.byTopic.get(topic);
    if (!set) return;
    const part: Held =
      typeof message === 'string'
        ? { text: true, bytes: encoder.encode(message), message }
        : { text: false, bytes: message, message };
    for (const b of set) {
      b.pending.push(part);
      b.bytes += part.bytes.length;
      if (b.bytes >= this.maxBytes || b.pending.length >= MAX_BATCH) this.flush(b);
      else this.wait(b);
    }
  }

  /** Sends directly, after what the socket holds: its order is the order things were sent in. */
  send(b: Batched, message: Uint8Array | string, binary: boolean): number {
    this.flush(b);
    return b.session.send(message, binary);
  }

  /** Sends what the socket holds now: one message, a batch frame when more than one. */
  flush(b: Batched) {
    const parts = b.pending;
    if (parts.length === 0) return;
    b.pending = [];
    b.bytes = 0;
    this.waiting.delete(b);
    const only = parts.length === 1 ? (parts[0] as Held) : undefined;
    // One message is sent as itself: a batch of one would only add bytes.
    if (only) b.session.send(only.message, !only.text);
    else b.session.send(encodeBatch(parts), true);
  }

  /** Sends every socket's batch now (the delay is over, or the server stops). */
  flushAll() {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const b of [...this.waiting]) b.session.cork(() => this.flush(b));
  }

  private wait(b: Batched) {
    this.waiting.add(b);
    // One timer for all: started by the first message held, so none waits past maxDelayMs.
    this.timer ??= setTimeout(() => this.flushAll(), this.maxDelayMs);
    this.timer.unref?.();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
