// The window of a long list of fixed-height rows that is on screen: only those rows are rendered,
// with spacers above and below standing in for the rest, so 2,000 trades cost what 30 do.

export interface VirtualWindow {
  /** First row rendered (inclusive) and the one after the last. */
  readonly start: number;
  readonly end: number;
  /** Heights of the spacers for the rows not rendered above and below. */
  readonly padTop: number;
  readonly padBottom: number;
}

/** The rows in view at `scrollTop` in a viewport `viewport` px high, with `overscan` more each side. */
export function virtualWindow(
  count: number,
  rowHeight: number,
  scrollTop: number,
  viewport: number,
  overscan = 6,
): VirtualWindow {
  const top = Math.max(0, scrollTop);
  const first = Math.min(count, Math.floor(top / rowHeight));
  const last = Math.min(count, Math.ceil((top + Math.max(0, viewport)) / rowHeight));
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, last + overscan);
  return { start, end, padTop: start * rowHeight, padBottom: (count - end) * rowHeight };
}

/**
 * Where the row of `seq` is in a newest-first list (seqs descending), or, when it is gone (a
 * filter or the ring dropped it), the first older row: binary search, it runs every frame.
 */
export function indexOfSeq(rows: ReadonlyArray<{ readonly seq: number }>, seq: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((rows[mid] as { seq: number }).seq > seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The row a reader scrolled down to: its seq and how far into it the viewport's top is. */
export interface ScrollAnchor {
  readonly seq: number;
  readonly offset: number;
}

/** The anchor of a scroll position: undefined at the top, where the newest trades stream in. */
export function anchorAt(
  rows: ReadonlyArray<{ readonly seq: number }>,
  rowHeight: number,
  scrollTop: number,
): ScrollAnchor | undefined {
  if (scrollTop < rowHeight / 2) return undefined;
  const i = Math.min(rows.length - 1, Math.floor(scrollTop / rowHeight));
  const row = rows[i];
  return row ? { seq: row.seq, offset: scrollTop - i * rowHeight } : undefined;
}

/**
 * The scroll position that keeps the anchored row where the reader left it after new trades
 * came in above it: a tape read while scrolled down holds still until the reader goes back up.
 */
export const anchoredScrollTop = (
  rows: ReadonlyArray<{ readonly seq: number }>,
  rowHeight: number,
  anchor: ScrollAnchor,
) => indexOfSeq(rows, anchor.seq) * rowHeight + anchor.offset;
