import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  addTicker,
  moveTicker,
  noteText,
  parseTicker,
  readTickers,
  readWatchlist,
  removeTicker,
  setNote,
  textSplice,
} from './model.ts';

// Several devices edit one watchlist, each on its own Y.Doc; updates travel between them late,
// out of order and in any interleaving, as they would through the server after time offline.

const POOL = ['PETR4', 'VALE3', 'ITUB4', 'BBDC4', 'WINZ25'];
const REMOTE = Symbol('remote');

type Op =
  | { kind: 'add'; r: number; ticker: string; index: number }
  | { kind: 'remove'; r: number; ticker: string }
  | { kind: 'move'; r: number; ticker: string; index: number }
  // A keystroke-like edit of one visible ticker's note: at `at`, delete `cut` chars, insert `text`.
  | { kind: 'note'; r: number; pick: number; at: number; cut: number; text: string }
  | { kind: 'deliver'; from: number; to: number; pick: number };

const opArb = (replicas: number): fc.Arbitrary<Op> => {
  const r = fc.nat({ max: replicas - 1 });
  const ticker = fc.constantFrom(...POOL);
  const index = fc.nat({ max: 6 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('add' as const), r, ticker, index }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), r, ticker }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('move' as const), r, ticker, index }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('note' as const),
        r,
        pick: fc.nat(),
        at: fc.nat(),
        cut: fc.nat({ max: 3 }),
        text: fc.string({ maxLength: 4 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('deliver' as const), from: r, to: r, pick: fc.nat() }),
    },
  );
};

/** A device: its doc and the log of the updates it made itself, not yet sent everywhere. */
class Device {
  readonly doc = new Y.Doc();
  readonly log: Uint8Array[] = [];
  /** Per peer: which of this device's updates that peer has received. */
  readonly sent = new Map<Device, Set<number>>();
  constructor() {
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) this.log.push(update);
    });
  }
  pending(to: Device): number[] {
    const sent = this.sent.get(to) ?? new Set<number>();
    return this.log.map((_, i) => i).filter((i) => !sent.has(i));
  }
  deliver(to: Device, i: number): void {
    if (to === this) return;
    const sent = this.sent.get(to) ?? new Set<number>();
    this.sent.set(to, sent);
    if (sent.has(i)) return;
    sent.add(i);
    Y.applyUpdate(to.doc, this.log[i] as Uint8Array, REMOTE);
  }
}

const sameContent = (devices: Device[]) => devices.map((d) => JSON.stringify(readWatchlist(d.doc)));

describe('watchlist document', () => {
  it('converges, without duplicates or lost tickers, whatever the order updates arrive in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            ops: fc.array(opArb(n), { maxLength: 60 }),
            // Keys that shuffle the final delivery of everything still in flight.
            shuffle: fc.array(fc.double({ noNaN: true }), { minLength: 512, maxLength: 512 }),
          }),
        ),
        ({ n, ops, shuffle }) => {
          const devices = Array.from({ length: n }, () => new Device());
          const added = new Set<string>();
          const removed = new Set<string>();
          const noteWriters = new Map<string, Set<number>>();
          const lastNote = new Map<string, string>();
          for (const op of ops) {
            if (op.kind === 'deliver') {
              const from = devices[op.from] as Device;
              const pending = from.pending(devices[op.to] as Device);
              if (pending.length > 0)
                from.deliver(devices[op.to] as Device, pending[op.pick % pending.length] as number);
              continue;
            }
            const doc = (devices[op.r] as Device).doc;
            if (op.kind === 'add') {
              added.add(op.ticker);
              addTicker(doc, op.ticker, op.index);
            } else if (op.kind === 'remove') {
              removed.add(op.ticker);
              removeTicker(doc, op.ticker);
            } else if (op.kind === 'move') {
              moveTicker(doc, op.ticker, op.index);
            } else {
              // As in the app: only the note of a ticker on the device's list is edited.
              const visible = readTickers(doc);
              if (visible.length === 0) continue;
              const ticker = visible[op.pick % visible.length] as string;
              const before = noteText(doc, ticker).toString();
              const at = op.at % (before.length + 1);
              const next = before.slice(0, at) + op.text + before.slice(at + op.cut);
              setNote(doc, ticker, next);
              noteWriters.set(ticker, (noteWriters.get(ticker) ?? new Set()).add(op.r));
              lastNote.set(ticker, next);
            }
          }
          // Everything still in flight arrives, in a shuffled order.
          const flights = devices.flatMap((from) =>
            devices.flatMap((to) => from.pending(to).map((i) => ({ from, to, i }))),
          );
          const keyed = flights.map((f, k) => ({ f, key: shuffle[k % shuffle.length] as number }));
          keyed.sort((a, b) => a.key - b.key);
          for (const { f } of keyed) f.from.deliver(f.to, f.i);

          const contents = sameContent(devices);
          expect(new Set(contents).size, 'every device shows the same list and notes').toBe(1);
          const visible = readTickers((devices[0] as Device).doc);
          expect(new Set(visible).size, 'no ticker shows twice').toBe(visible.length);
          for (const t of added)
            if (!removed.has(t)) expect(visible, `${t} was added, never removed`).toContain(t);
          for (const t of visible) expect(added, `${t} is shown but nobody added it`).toContain(t);
          const notes = readWatchlist((devices[0] as Device).doc).notes;
          for (const [t, writers] of noteWriters) {
            // A note only one device wrote reads as that device last left it.
            if (writers.size === 1 && !removed.has(t) && visible.includes(t))
              expect(notes[t]).toBe(lastNote.get(t));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('behaves like a plain list when every edit reaches every device before the next', () => {
    const stepArb = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        ticker: fc.constantFrom(...POOL),
        index: fc.nat({ max: 6 }),
      }),
      fc.record({ kind: fc.constant('remove' as const), ticker: fc.constantFrom(...POOL) }),
      fc.record({
        kind: fc.constant('move' as const),
        ticker: fc.constantFrom(...POOL),
        index: fc.nat({ max: 6 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 2 }), fc.constantFrom(...POOL)), { maxLength: 8 }),
        fc.array(fc.tuple(fc.nat({ max: 2 }), stepArb), { maxLength: 40 }),
        (offlineAdds, steps) => {
          const docs = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
          // Start from tickers the devices added while apart: the array holds duplicates then.
          for (const [r, ticker] of offlineAdds) addTicker(docs[r] as Y.Doc, ticker);
          for (const from of docs) for (const to of docs) Y.applyUpdate(to, Y.encodeStateAsUpdate(from));
          let expected = readTickers(docs[0] as Y.Doc);
          for (const [r, step] of steps) {
            const doc = docs[r] as Y.Doc;
            const without = expected.filter((t) => t !== step.ticker);
            if (step.kind === 'add') {
              addTicker(doc, step.ticker, step.index);
              if (!expected.includes(step.ticker))
                expected.splice(Math.min(step.index, expected.length), 0, step.ticker);
            } else if (step.kind === 'remove') {
              removeTicker(doc, step.ticker);
              expected = without;
            } else {
              moveTicker(doc, step.ticker, step.index);
              if (expected.includes(step.ticker))
                expected = [...without.slice(0, step.index), step.ticker, ...without.slice(step.index)];
            }
            const update = Y.encodeStateAsUpdate(doc);
            for (const other of docs) Y.applyUpdate(other, update);
            for (const other of docs) expect(readTickers(other)).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps what two offline devices typed in the same new note', () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    addTicker(a, 'PETR4');
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    setNote(a, 'PETR4', 'buy');
    setNote(b, 'PETR4', 'sell');
    addTicker(b, 'PETR4'); // already there: no second row
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    const note = readWatchlist(a).notes.PETR4 ?? '';
    expect(readWatchlist(b)).toEqual(readWatchlist(a));
    expect(readWatchlist(a).tickers).toEqual(['PETR4']);
    expect([note.includes('buy'), note.includes('sell')]).toEqual([true, true]);
  });

  it('lets a move made elsewhere meanwhile survive a remove (add wins), and clears removed notes', () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    for (const t of ['PETR4', 'VALE3', 'ITUB4']) addTicker(a, t);
    setNote(a, 'ITUB4', 'old note');
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    removeTicker(a, 'VALE3');
    removeTicker(a, 'ITUB4');
    moveTicker(b, 'VALE3', 0);
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    expect(readWatchlist(a)).toEqual({ tickers: ['VALE3', 'PETR4'], notes: { VALE3: '', PETR4: '' } });
    addTicker(a, 'ITUB4');
    expect(readWatchlist(a).notes.ITUB4).toBe('');
  });

  it('finds the one edit between two note values, ending at the cursor where that is ambiguous', () => {
    expect(textSplice('hello world', 'hello brave world')).toEqual({ index: 6, remove: 0, insert: 'brave ' });
    expect(textSplice('stop 30', 'stop 31')).toEqual({ index: 6, remove: 1, insert: '1' });
    // "a" typed after the first "a" of "aa" (cursor at 2), and a backspace of the middle "a".
    expect(textSplice('aa', 'aaa', 2)).toEqual({ index: 1, remove: 0, insert: 'a' });
    expect(textSplice('aaa', 'aa', 1)).toEqual({ index: 1, remove: 1, insert: '' });
    // Without the cursor, the common prefix wins.
    expect(textSplice('aa', 'aaa')).toEqual({ index: 2, remove: 0, insert: 'a' });
    // A selection replaced by what was typed.
    expect(textSplice('abcd', 'axd', 2)).toEqual({ index: 1, remove: 2, insert: 'x' });
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.nat(), (prev, next, c) => {
        const caret = c % (next.length + 1);
        for (const { index, remove, insert } of [textSplice(prev, next), textSplice(prev, next, caret)])
          expect(prev.slice(0, index) + insert + prev.slice(index + remove)).toBe(next);
      }),
    );
  });

  it('reads typed tickers strictly', () => {
    expect(parseTicker(' petr4 ')).toBe('PETR4');
    expect(parseTicker('WINZ25')).toBe('WINZ25');
    for (const bad of ['', 'PE', 'PETR 4', 'PETR4;', 'ABCDEFGHIJKLM'])
      expect(parseTicker(bad)).toBeUndefined();
  });
});
