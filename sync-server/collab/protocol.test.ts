import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import {
  type AwarenessEntry,
  DecodeFailure,
  decodeMessage,
  encodeAwarenessUpdate,
  encodeMessage,
  type YMessage,
} from './protocol.ts';

const bytes = (max = 64) => fc.uint8Array({ maxLength: max });
const json = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v));
const entryArb: fc.Arbitrary<AwarenessEntry> = fc.record({
  clientId: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  clock: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  state: fc.oneof(fc.constant('null'), json),
});
const messageArb: fc.Arbitrary<YMessage> = fc.oneof(
  bytes().map((stateVector) => ({ type: 'sync-step1' as const, stateVector })),
  bytes().map((update) => ({ type: 'sync-step2' as const, update })),
  bytes().map((update) => ({ type: 'sync-update' as const, update })),
  fc.array(entryArb, { maxLength: 4 }).map((entries) => ({
    type: 'awareness' as const,
    update: encodeAwarenessUpdate(entries),
    entries,
  })),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((reason) => ({ type: 'auth-denied' as const, reason })),
  fc.constant({ type: 'query-awareness' as const }),
);

describe('y-websocket protocol decoder', () => {
  it('never throws on arbitrary bytes: a typed message or a typed error with a reason', () => {
    const codes = new Set<string>(Object.values(DecodeFailure));
    fc.assert(
      fc.property(bytes(256), (input) => {
        const r = decodeMessage(input);
        if (!r.ok) {
          expect(codes.has(r.error.code)).toBe(true);
          expect(r.error.reason.length).toBeGreaterThan(0);
        } else {
          // Whatever decodes re-encodes to the same message (lib0 writes canonical varints).
          expect(decodeMessage(encodeMessage(r.message))).toEqual(r);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips every message kind: encode then decode gives the message back', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const r = decodeMessage(encodeMessage(m));
        expect(r).toEqual({ ok: true, message: m });
      }),
    );
  });

  it('rejects every strict prefix of a valid message as truncated (or as an incomplete payload)', () => {
    fc.assert(
      fc.property(
        messageArb.filter((m) => m.type !== 'query-awareness'),
        fc.nat(),
        (m, cut) => {
          const full = encodeMessage(m);
          const prefix = full.subarray(0, cut % full.length);
          const r = decodeMessage(prefix);
          expect(r.ok).toBe(false);
          if (!r.ok && prefix.length > 0) expect(r.error.code).toBe(DecodeFailure.truncated);
        },
      ),
    );
  });

  it('rejects bytes after a complete message', () => {
    fc.assert(
      fc.property(
        messageArb,
        bytes(8).filter((b) => b.length > 0),
        (m, extra) => {
          const full = encodeMessage(m);
          const r = decodeMessage(Uint8Array.from([...full, ...extra]));
          expect(r.ok).toBe(false);
        },
      ),
    );
  });

  it('enforces the size limit before decoding', () => {
    const big = encodeMessage({ type: 'sync-update', update: new Uint8Array(2000) });
    expect(decodeMessage(big, 1000)).toMatchObject({
      ok: false,
      error: { code: DecodeFailure.tooLarge, reason: expect.stringContaining('1000-byte limit') },
    });
    expect(decodeMessage(big, 4000).ok).toBe(true);
  });

  it('names the problem: unknown types, bad varints, bad UTF-8, bad awareness JSON', () => {
    expect(decodeMessage(Uint8Array.of(9))).toMatchObject({ ok: false, error: { code: 'unknown_type' } });
    expect(decodeMessage(Uint8Array.of(0, 7, 0))).toMatchObject({
      ok: false,
      error: { code: 'unknown_sync_type' },
    });
    expect(decodeMessage(Uint8Array.of(2, 1, 0))).toMatchObject({
      ok: false,
      error: { code: 'unknown_auth_type' },
    });
    // Ten continuation bytes: more than 53 bits.
    expect(decodeMessage(Uint8Array.of(0, ...new Array(10).fill(0xff), 1))).toMatchObject({
      ok: false,
      error: { code: 'bad_varint' },
    });
    expect(decodeMessage(Uint8Array.of(2, 0, 2, 0xc3, 0x28))).toMatchObject({
      ok: false,
      error: { code: 'bad_utf8' },
    });
    const notJson = encodeAwarenessUpdate([{ clientId: 1, clock: 1, state: '{oops' }]);
    expect(decodeMessage(encodeMessage({ type: 'awareness', update: notJson, entries: [] }))).toMatchObject({
      ok: false,
      error: { code: 'bad_awareness_state' },
    });
    expect(decodeMessage(new Uint8Array())).toMatchObject({ ok: false, error: { code: 'empty' } });
  });

  it('decodes what y-protocols itself writes (the stock client side)', () => {
    const doc = new Y.Doc();
    doc.getArray<string>('tickers').push(['PETR4', 'VALE3']);
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 0);
    syncProtocol.writeSyncStep1(e, doc);
    const step1 = decodeMessage(encoding.toUint8Array(e));
    expect(step1).toMatchObject({ ok: true, message: { type: 'sync-step1' } });
    if (step1.ok && step1.message.type === 'sync-step1')
      expect(step1.message.stateVector).toEqual(Y.encodeStateVector(doc));

    const awareness = new awarenessProtocol.Awareness(doc);
    awareness.setLocalState({ user: 'ana', cursor: { index: 3 } });
    const a = encoding.createEncoder();
    encoding.writeVarUint(a, 1);
    encoding.writeVarUint8Array(a, awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID]));
    const decoded = decodeMessage(encoding.toUint8Array(a));
    expect(decoded).toMatchObject({
      ok: true,
      message: { type: 'awareness', entries: [{ clientId: doc.clientID, clock: 1 }] },
    });
    awareness.destroy();
  });
});
