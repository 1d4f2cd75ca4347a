import type * as Y from 'yjs';
import { noteText, setNote } from './model.ts';

// A note field bound to its shared Y.Text. Typed text goes in as the one edit it is (an insert or
// delete at the cursor, in a transaction of this binding's own); a change from elsewhere is put
// into the field at once and the cursor moved through it, so it stays after what this writer just
// typed. That keeps each writer's run of typing together when two type in one note at once: Yjs
// places each new character after the one its writer typed before, as long as the cursor was
// not moved past someone else's.

/** One step of a Yjs text delta. */
export interface DeltaOp {
  readonly insert?: unknown;
  readonly retain?: number;
  readonly delete?: number;
}

export interface Selection {
  readonly start: number;
  readonly end: number;
}

const insertLength = (insert: unknown) =>
  typeof insert === 'string' || Array.isArray(insert) ? insert.length : 1;

/**
 * Where `index` of the old text is in the new one after `delta`. Text inserted exactly at
 * `index` goes after it when `side` is 'before' (the index stays before the insert), else before it.
 */
export function moveIndex(index: number, delta: readonly DeltaOp[], side: 'before' | 'after'): number {
  let old = 0;
  let moved = index;
  for (const op of delta) {
    if (old > index) break;
    if (op.retain !== undefined) old += op.retain;
    else if (op.delete !== undefined) {
      if (old < index) moved -= Math.min(op.delete, index - old);
      old += op.delete;
    } else if (op.insert !== undefined && (old < index || side === 'after')) {
      moved += insertLength(op.insert);
    }
  }
  return moved;
}

/**
 * A selection moved through `delta`. A cursor stays where its writer left it: after the last
 * character typed, with anything inserted there by others after it. A range keeps what is
 * inserted at its ends outside it.
 */
export function moveSelection(sel: Selection, delta: readonly DeltaOp[]): Selection {
  if (sel.start === sel.end) {
    const at = moveIndex(sel.end, delta, 'before');
    return { start: at, end: at };
  }
  const start = moveIndex(sel.start, delta, 'after');
  const end = moveIndex(sel.end, delta, 'before');
  return start <= end ? { start, end } : { start: end, end };
}

/** What the binding needs of a text field: an HTMLTextAreaElement or HTMLInputElement has it. */
export interface NoteField {
  value: string;
  readonly selectionStart: number | null;
  readonly selectionEnd: number | null;
  setSelectionRange(start: number, end: number): void;
}

export interface NoteBinding {
  /** Call on every `input` event of the field. */
  input(): void;
  destroy(): void;
}

/**
 * Binds `field` to the note of `ticker` in `doc`: it shows the note now and on every change;
 * `input()` writes what was typed. `hasFocus` says whether the cursor is the person's to keep.
 */
export function bindNote(doc: Y.Doc, ticker: string, field: NoteField, hasFocus: () => boolean): NoteBinding {
  const text = noteText(doc, ticker);
  const origin = Symbol(`note:${ticker}`);
  field.value = text.toString();
  const observer = (event: Y.YTextEvent, tr: Y.Transaction) => {
    if (tr.origin === origin) return;
    const keep = hasFocus();
    const sel = { start: field.selectionStart ?? 0, end: field.selectionEnd ?? 0 };
    field.value = text.toString();
    if (keep) {
      const moved = moveSelection(sel, event.delta as DeltaOp[]);
      field.setSelectionRange(moved.start, moved.end);
    }
  };
  text.observe(observer);
  return {
    input: () => {
      setNote(doc, ticker, field.value, field.selectionEnd ?? undefined, origin);
    },
    destroy: () => text.unobserve(observer),
  };
}
