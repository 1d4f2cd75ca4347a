import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as Y from 'yjs';
import type { Principal } from '../auth/tokens.ts';
import { createLogger } from '../log.ts';
import { createWatchlist, login, startTestServer, type TestServer } from '../testing/server.ts';
import { rawYjsSocket } from '../testing/sockets.ts';
import { until } from '../testing/until.ts';
import { LocalNetwork } from './bus.ts';
import { CollabHub, DEFAULT_LIMITS } from './hub.ts';
import { MemoryDocStore } from './memoryStorage.ts';
import { decodeMessage, encodeMessage, type YMessage } from './protocol.ts';
import type { CollabConnection } from './rooms.ts';

// Hostile y-protocols traffic on /yjs. collab/protocol.test.ts fuzzes the message decoder on its
// own; here whole messages reach the room: arbitrary bytes, valid envelopes around arbitrary or
// bit-flipped Yjs payloads (updates, state vectors, awareness). Each one is accepted or closes
// only its own socket with a documented code and a reason; nothing accepted can stop the
// document from loading again (a stored update that no longer applies would close every later
// join with 1011); an honest editor in the same room loses nothing.

const log = createLogger('silent');
const ALLOWED_CLOSES = new Set([4400, 1009, 1013, 4413]);

/** A connection as the hub sees it: keeps what it was sent and how it was closed. */
class Peer implements CollabConnection {
  readonly doc = new Y.Doc();
  readonly received: YMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  constructor(
    readonly principal: Principal,
    private readonly hub: CollabHub,
    private readonly honest: boolean,
  ) {
    hub.connect(this, 'watchlist:1');
    if (honest) {
      this.doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin !== this) this.push({ type: 'sync-update', update });
      });
      this.push({ type: 'sync-step1', stateVector: Y.encodeStateVector(this.doc) });
    }
  }
  push(m: YMessage) {
    this.raw(encodeMessage(m));
  }
  raw(bytes: Uint8Array) {
    if (!this.closed) this.hub.receive(this, bytes);
  }
  send(frame: Uint8Array) {
    const r = decodeMessage(frame);
    if (!r.ok) throw new Error(`the server sent a bad frame: ${r.error.reason}`);
    this.received.push(r.message);
    if (!this.honest) return;
    const m = r.message;
    if (m.type === 'sync-step1')
      this.push({ type: 'sync-step2', update: Y.encodeStateAsUpdate(this.doc, m.stateVector) });
    if (m.type === 'sync-step2' || m.type === 'sync-update') Y.applyUpdate(this.doc, m.update, this);
  }
  close(code: number, reason: string) {
    this.closed ??= { code, reason };
    this.hub.disconnect(this);
  }
}

// Real Yjs updates from random edits, so mutations start from something the decoder accepts.
const edit = fc.oneof(
  fc.record({ op: fc.constant('push' as const), v: fc.string({ maxLength: 8 }) }),
  fc.record({
    op: fc.constant('set' as const),
    k: fc.string({ maxLength: 4 }),
    v: fc.jsonValue({ maxDepth: 1 }),
  }),
  fc.record({ op: fc.constant('text' as const), at: fc.nat(20), v: fc.string({ maxLength: 8 }) }),
  fc.record({ op: fc.constant('del' as const), at: fc.nat(5) }),
);
const realUpdate = fc
  .tuple(fc.array(edit, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 2 ** 32 - 1 }))
  .map(([edits, clientID]) => {
    const doc = new Y.Doc();
    doc.clientID = clientID;
    for (const e of edits) {
      const list = doc.getArray<string>('tickers');
      if (e.op === 'push') list.push([e.v]);
      else if (e.op === 'set') doc.getMap('notes').set(e.k, e.v);
      else if (e.op === 'text') {
        const t = doc.getText('note');
        t.insert(Math.min(e.at, t.length), e.v);
      } else if (list.length > 0) list.delete(Math.min(e.at, list.length - 1), 1);
    }
    return Y.encodeStateAsUpdate(doc);
  });
/** Bit flips, overwritten bytes, truncation, garbage appended. */
const mutate = (base: fc.Arbitrary<Uint8Array>) =>
  fc
    .tuple(
      base,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.option(fc.nat(), { nil: undefined }),
      fc.uint8Array({ maxLength: 4 }),
    )
    .map(([bytes, flips, cut, tail]) => {
      const b = bytes.slice(0, cut === undefined ? bytes.length : cut % (bytes.length + 1));
      for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v;
      return Uint8Array.from([...b, ...tail]);
    });
const payload = fc.oneof(realUpdate, mutate(realUpdate), fc.uint8Array({ maxLength: 64 }));
const stateVector = fc.oneof(
  fc.uint8Array({ maxLength: 32 }),
  realUpdate.map((u) => Y.encodeStateVectorFromUpdate(u)),
  mutate(realUpdate.map((u) => Y.encodeStateVectorFromUpdate(u))),
);
const awarenessUpdate = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  fc
    .array(
      fc.tuple(
        fc.nat(),
        fc.nat(),
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
          fc.string(),
        ),
      ),
      {
        maxLength: 3,
      },
    )
    .map((entries) =>
      encodeMessage({
        type: 'awareness',
        update: new Uint8Array(),
        entries: entries.map(([clientId, clock, state]) => ({ clientId, clock, state })),
      }).slice(1),
    ),
);
/** What a hostile client can put in one binary frame. */
const hostileFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 128 }),
  payload.map((update) => encodeMessage({ type: 'sync-update', update })),
  payload.map((update) => encodeMessage({ type: 'sync-step2', update })),
  stateVector.map((sv) => encodeMessage({ type: 'sync-step1', stateVector: sv })),
  awarenessUpdate.map((u) => Uint8Array.from([1, ...lengthPrefixed(u)])),
  mutate(payload.map((update) => encodeMessage({ type: 'sync-update', update }))),
  fc.constantFrom(
    Uint8Array.of(3),
    Uint8Array.of(2, 0, 1, 0x78),
    Uint8Array.of(0, 3),
    Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f),
  ),
);
function lengthPrefixed(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let n = bytes.length;
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return [...out, ...bytes];
}

const ana: Principal = { userId: 1, username: 'ana', role: 'trader' };
const settle = () => new Promise((r) => setImmediate(r));
/** Polls without until's 20 ms sleep: the hub in memory answers within a few turns. */
async function soon<T>(probe: () => T | Promise<T>, what: string, ms = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle();
  }
}

describe('/yjs rooms under hostile messages (hub level)', () => {
  it(
    'accepts or closes each one with a documented code; the document always loads again; an honest editor loses nothing',
    async () => {
      let cases = 0;
      let frames = 0;
      const closes = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.array(hostileFrame, { minLength: 1, maxLength: 6 }),
          fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
          async (hostile, items) => {
            cases++;
            // One watchlist of ana's: ids count from 1, so it is watchlist:1 and she is user 1.
            const store = new MemoryDocStore();
            await store.create('watchlist', 'fuzz', store.addUser(ana.username));
            const hub = new CollabHub({
              store,
              bus: new LocalNetwork().bus(),
              log,
              limits: { ...DEFAULT_LIMITS, compactEvery: 3 },
            });
            const honest = new Peer(ana, hub, true);
            await soon(() => honest.received.some((m) => m.type === 'sync-step1'), 'joined');
            for (const frame of hostile) {
              frames++;
              // A new socket per frame, so each outcome is that frame's.
              const evil = new Peer(ana, hub, false);
              await soon(() => evil.received.length > 0 || evil.closed, 'joined');
              evil.raw(frame);
              await settle();
              if (evil.closed) {
                closes.set(evil.closed.code, (closes.get(evil.closed.code) ?? 0) + 1);
                expect(
                  ALLOWED_CLOSES.has(evil.closed.code),
                  `${evil.closed.code} ${evil.closed.reason}`,
                ).toBe(true);
                expect(evil.closed.reason.length).toBeGreaterThan(0);
              }
            }
            for (const item of items) honest.doc.getArray<string>('honest').push([item]);
            await soon(async () => (await store.load(1)).updates.length > 0 || items.length === 0, 'stored');
            expect(honest.closed).toBeUndefined();
            await hub.close();
            // Restart: the stored log must load, and hold what the honest editor wrote.
            const again = new CollabHub({ store, bus: new LocalNetwork().bus(), log });
            const fresh = new Peer(ana, again, true);
            await soon(() => fresh.received.some((m) => m.type === 'sync-step2') || fresh.closed, 'reloaded');
            expect(fresh.closed, 'the document no longer loads').toBeUndefined();
            expect(again.stats.unloadable, 'a stored update does not apply').toBe(0);
            expect(fresh.doc.getArray<string>('honest').toArray()).toEqual(items);
            await again.close();
          },
        ),
        { numRuns: 1000 * Number(process.env.TAPE_FUZZ_SCALE ?? 1) },
      );
      console.log(
        'fuzz-count',
        'yjs messages (hub)',
        frames,
        `in ${cases} rooms; closes`,
        Object.fromEntries(closes),
      );
    },
    60_000 * Number(process.env.TAPE_FUZZ_SCALE ?? 1),
  );
});

describe('/yjs under hostile messages (real server)', () => {
  let t: TestServer;
  let token: string;
  let room: string;
  beforeAll(async () => {
    t = await startTestServer(process.env.DATABASE_URL ? 'postgres' : 'pglite');
    token = await login(t.url);
    room = (await createWatchlist(t.url, token, 'fuzz')).room;
  }, 60_000);
  afterAll(() => t?.close());

  const open = () => rawYjsSocket(t.server.port, room, token);

  it('closes only the socket that sent a bad frame, with its reason; the room keeps serving', {
    timeout: 40_000,
  }, async () => {
    const honest = open();
    await until(() => honest.received.some((m) => m.type === 'sync-step1'), 'joined');
    const doc = new Y.Doc();
    doc.on('update', (update: Uint8Array) => honest.ws.send(encodeMessage({ type: 'sync-update', update })));
    const samples = fc.sample(hostileFrame, 200);
    let n = 0;
    const closes = new Map<number, number>();
    for (const [i, frame] of samples.entries()) {
      n++;
      const evil = open();
      let early: { code: number; reason: string } | undefined;
      void evil.closed.then((c) => {
        early = c;
      });
      await until(() => evil.received.length > 0 || early, 'joined');
      // Nothing the previous frames did may keep the next socket out of the room.
      if (evil.received.length === 0) expect.fail(`closed before joining: ${early?.code} ${early?.reason}`);
      evil.ws.send(frame);
      // Either closed, or still open after a ping round trip.
      const outcome = await Promise.race([evil.closed, new Promise<undefined>((r) => setTimeout(r, 100))]);
      if (outcome) {
        closes.set(outcome.code, (closes.get(outcome.code) ?? 0) + 1);
        expect(ALLOWED_CLOSES.has(outcome.code), `${outcome.code} ${outcome.reason}`).toBe(true);
        expect(outcome.reason.length).toBeGreaterThan(0);
      } else evil.ws.close();
      if (i % 20 === 0) doc.getArray<string>('honest').push([`item-${i}`]);
    }
    console.log('fuzz-count', 'yjs messages (real server)', n, 'closes', Object.fromEntries(closes));
    expect(honest.ws.readyState).toBe(WebSocket.OPEN);
    honest.ws.close();
    await honest.closed;
    // The room empties and is stored; a new client must get everything the honest one wrote.
    const later = open();
    later.ws.on('open', () =>
      later.ws.send(encodeMessage({ type: 'sync-step1', stateVector: new Uint8Array([0]) })),
    );
    const mirror = new Y.Doc();
    await until(
      () => {
        for (const m of later.received.splice(0))
          if (m.type === 'sync-step2' || m.type === 'sync-update') Y.applyUpdate(mirror, m.update);
        return mirror.getArray<string>('honest').length === doc.getArray<string>('honest').length;
      },
      'the honest items after reload',
      15_000,
    );
    expect(mirror.getArray('honest').toArray()).toEqual(doc.getArray('honest').toArray());
    later.ws.close();
  });
});
