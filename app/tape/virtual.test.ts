import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anchorAt, anchoredScrollTop, indexOfSeq, virtualWindow } from './virtual.ts';

describe('virtualWindow', () => {
  it('renders the rows in view plus the overscan, spacers making up the full height', () => {
    expect(virtualWindow(2_000, 24, 0, 360, 6)).toEqual({
      start: 0,
      end: 21,
      padTop: 0,
      padBottom: 1_979 * 24,
    });
    expect(virtualWindow(2_000, 24, 240, 360, 6)).toEqual({
      start: 4,
      end: 31,
      padTop: 96,
      padBottom: 1_969 * 24,
    });
    expect(virtualWindow(2_000, 24, 1_999 * 24, 360, 6)).toMatchObject({ end: 2_000, padBottom: 0 });
    expect(virtualWindow(0, 24, 0, 360)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0 });
  });

  it('always covers the viewport, never renders past the list, and keeps the total height', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 10, max: 40 }),
        fc.integer({ min: -100, max: 200_000 }),
        fc.integer({ min: 0, max: 2_000 }),
        fc.integer({ min: 0, max: 20 }),
        (count, rowHeight, scrollTop, viewport, overscan) => {
          const w = virtualWindow(count, rowHeight, scrollTop, viewport, overscan);
          expect(0 <= w.start && w.start <= w.end && w.end <= count).toBe(true);
          expect(w.padTop + (w.end - w.start) * rowHeight + w.padBottom).toBe(count * rowHeight);
          // Every row that intersects the viewport is rendered (a viewport 0 px high shows none).
          const top = Math.max(0, scrollTop);
          const intersects = (i: number) => i * rowHeight < top + viewport && (i + 1) * rowHeight > top;
          for (let i = 0; i < count; i++) if (intersects(i)) expect(i >= w.start && i < w.end).toBe(true);
          expect(w.end - w.start).toBeLessThanOrEqual(Math.ceil(viewport / rowHeight) + 1 + 2 * overscan);
        },
      ),
      // The case that once failed: the old check took row 0 as visible in a 0 px viewport.
      { examples: [[1, 10, 0, 0, 0]] },
    );
  });
});

const newestFirst = (seqs: number[]) => [...seqs].sort((a, b) => b - a).map((seq) => ({ seq }));

describe('indexOfSeq', () => {
  it('finds a seq in a newest-first list, or the first older row when it is gone', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { maxLength: 500 }),
        fc.integer({ min: 0, max: 10_001 }),
        (seqs, seq) => {
          const rows = newestFirst(seqs);
          const i = indexOfSeq(rows, seq);
          expect(i).toBe(
            rows.findIndex((r) => r.seq <= seq) === -1 ? rows.length : rows.findIndex((r) => r.seq <= seq),
          );
        },
      ),
    );
  });
});

describe('scroll anchoring', () => {
  it('streams at the top: no anchor within half a row of it', () => {
    const rows = newestFirst([5, 4, 3, 2, 1]);
    expect(anchorAt(rows, 24, 0)).toBeUndefined();
    expect(anchorAt(rows, 24, 11)).toBeUndefined();
    expect(anchorAt(rows, 24, 30)).toEqual({ seq: 4, offset: 6 });
  });

  it('holds the row read in place when trades come in above it', () => {
    const before = newestFirst([10, 9, 8, 7, 6, 5, 4]);
    const anchor = anchorAt(before, 24, 3 * 24 + 5); // reading seq 7, 5 px into it
    expect(anchor).toEqual({ seq: 7, offset: 5 });
    const after = newestFirst([14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4]);
    expect(anchoredScrollTop(after, 24, anchor as { seq: number; offset: number })).toBe(7 * 24 + 5);
  });

  it('moves to the next older row when a filter hides the one read', () => {
    const rows = newestFirst([12, 10, 8, 6]);
    expect(anchoredScrollTop(rows, 24, { seq: 9, offset: 0 })).toBe(2 * 24);
  });
});
