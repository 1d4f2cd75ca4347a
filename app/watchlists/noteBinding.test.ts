import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { addTicker, noteText } from './model.ts';
import { bindNote, type DeltaOp, moveIndex, moveSelection, type NoteField } from './noteBinding.ts';

// Two traders typing in one note at once, each in a field bound to their own Y.Doc, with updates
// travelling between them late. Each run of typing must come out in one piece on both screens.

/** A text field as the browser keeps it: setting the value puts the cursor at its end. */
class Field implements NoteField {
  private text = '';
  selectionStart = 0;
  selectionEnd = 0;
  get value(): string {
    return this.text;
  }
  set value(v: string) {
    this.text = v;
    this.selectionStart = this.selectionEnd = v.length;
  }
  setSelectionRange(start: number, end: number): void {
    this.selectionStart = start;
    this.selectionEnd = end;
  }
  /** A keystroke: the selection is replaced by `ch` and the cursor ends after it. */
  type(ch: string): void {
    const at = this.selectionStart;
    this.text = this.text.slice(0, at) + ch + this.text.slice(this.selectionEnd);
    this.selectionStart = this.selectionEnd = at + ch.length;
  }
}

const REMOTE = Symbol('remote');

/** A trader: a doc, a field bound to PETR4's note, and the updates not yet sent to the other. */
class Trader {
  readonly doc = new Y.Doc();
  readonly field = new Field();
  readonly outbox: Uint8Array[] = [];
  readonly binding;
  constructor(base: Uint8Array) {
    Y.applyUpdate(this.doc, base, REMOTE);
    this.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) this.outbox.push(u);
    });
    this.binding = bindNote(this.doc, 'PETR4', this.field, () => true);
  }
  type(ch: string): void {
    this.field.type(ch);
    this.binding.input();
  }
  /** Sends the oldest `n` pending updates to `to`, in order. */
  send(to: Trader, n = this.outbox.length): void {
    for (const u of this.outbox.splice(0, n)) Y.applyUpdate(to.doc, u, REMOTE);
  }
}

function desk(note: string): [Trader, Trader] {
  const seed = new Y.Doc();
  addTicker(seed, 'PETR4');
  noteText(seed, 'PETR4').insert(0, note);
  const base = Y.encodeStateAsUpdate(seed);
  return [new Trader(base), new Trader(base)];
}

describe('moveIndex', () => {
  const delta: DeltaOp[] = [{ retain: 2 }, { insert: 'xyz' }, { retain: 1 }, { delete: 2 }];
  it('moves past inserts before it and back over deletes before it', () => {
    expect(moveIndex(1, delta, 'before')).toBe(1);
    expect(moveIndex(3, delta, 'before')).toBe(6);
    expect(moveIndex(4, delta, 'before')).toBe(6); // inside the deleted part: to where it was
    expect(moveIndex(6, delta, 'before')).toBe(7);
  });
  it('keeps an insert at the index after it, or before it, as told', () => {
    expect(moveIndex(2, delta, 'before')).toBe(2);
    expect(moveIndex(2, delta, 'after')).toBe(5);
  });
});

describe('moveSelection', () => {
  it('keeps a cursor before what others insert at it, a range without what lands at its ends', () => {
    const delta: DeltaOp[] = [{ retain: 2 }, { insert: 'ab' }, { retain: 2 }, { insert: 'c' }];
    expect(moveSelection({ start: 2, end: 2 }, delta)).toEqual({ start: 2, end: 2 });
    expect(moveSelection({ start: 2, end: 4 }, delta)).toEqual({ start: 4, end: 6 });
    expect(moveSelection({ start: 1, end: 3 }, [{ retain: 1 }, { delete: 2 }])).toEqual({ start: 1, end: 1 });
  });
});

describe('bindNote', () => {
  it('shows the note, writes what is typed, and keeps the cursor through a change elsewhere', () => {
    const [ana, bia] = desk('stop 30');
    expect(ana.field.value).toBe('stop 30');
    ana.field.setSelectionRange(4, 4);
    ana.type('!');
    ana.send(bia);
    expect(noteText(bia.doc, 'PETR4').toString()).toBe('stop! 30');
    expect(bia.field.value).toBe('stop! 30');
    bia.field.setSelectionRange(0, 0);
    bia.type('>');
    bia.send(ana);
    expect(ana.field.value).toBe('>stop! 30');
    expect([ana.field.selectionStart, ana.field.selectionEnd]).toEqual([6, 6]);
  });

  it('stops following the note once destroyed', () => {
    const [ana, bia] = desk('x');
    ana.binding.destroy();
    bia.type('y');
    bia.send(ana);
    expect(ana.field.value).toBe('x');
  });

  it('keeps each writer’s run unbroken when two type at once (property)', () => {
    type Step = { who: 0 | 1; kind: 'type' } | { who: 0 | 1; kind: 'send'; n: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({ who: fc.constantFrom<0 | 1>(0, 1), kind: fc.constant('type' as const) }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          who: fc.constantFrom<0 | 1>(0, 1),
          kind: fc.constant('send' as const),
          n: fc.integer({ min: 1, max: 4 }),
        }),
      },
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(' ', '.', ','), maxLength: 6 }),
        fc.nat(),
        fc.nat(),
        fc.array(step, { maxLength: 60 }),
        (base, atA, atB, steps) => {
          const runs = ['abcdefghijklmnopqrst', 'ABCDEFGHIJKLMNOPQRST'];
          const traders = desk(base);
          const typed: [number, number] = [0, 0];
          traders[0].field.setSelectionRange(atA % (base.length + 1), atA % (base.length + 1));
          // Half the time both start at the same place, the case that interleaved.
          const b = atB % 2 === 0 ? atA : atB;
          traders[1].field.setSelectionRange(b % (base.length + 1), b % (base.length + 1));
          for (const s of steps) {
            const me = traders[s.who];
            const other = traders[1 - s.who] as Trader;
            if (s.kind === 'send') me.send(other, s.n);
            else if (typed[s.who] < 20) me.type((runs[s.who] as string)[typed[s.who]++] as string);
          }
          traders[0].send(traders[1]);
          traders[1].send(traders[0]);
          const shown = traders.map((t) => t.field.value);
          expect(shown[1]).toBe(shown[0]);
          expect(noteText(traders[0].doc, 'PETR4').toString()).toBe(shown[0]);
          for (const [who, run] of runs.entries()) expect(shown[0]).toContain(run.slice(0, typed[who]));
        },
      ),
      { numRuns: 300 },
    );
  });
});
