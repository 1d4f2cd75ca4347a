import type * as Y from 'yjs';

// A watchlist as a Yjs document, shaped to merge well:
// - `tickers`, a Y.Array<string>, holds the order. The visible list keeps each ticker's first
//   occurrence, so two devices adding the same ticker at once show it once. A move is a delete
//   of every occurrence plus one insert; a remove deletes every occurrence it sees, so an add or a
//   move made concurrently elsewhere survives it (add wins).
// - each note is a root-level Y.Text named `note:<TICKER>`. Root types are identified by name,
//   so notes started on two devices at once are one text whose typing merges (two Y.Texts set
//   under one Y.Map key would keep only one of them).

/** A B3 ticker as the feed names it, e.g. PETR4, WINZ25. */
export const TICKER_PATTERN = /^[A-Z0-9]{4,12}$/;

export interface WatchlistContent {
  readonly tickers: readonly string[];
  /** The note of every visible ticker ('' when it has none). */
  readonly notes: Readonly<Record<string, string>>;
}

const order = (doc: Y.Doc) => doc.getArray<string>('tickers');

/** The shared text of a ticker's note. */
export const noteText = (doc: Y.Doc, ticker: string) => doc.getText(`note:${ticker}`);

/** What a person typed, as a ticker (trimmed, upper case), or undefined when it is not one. */
export function parseTicker(input: string): string | undefined {
  const ticker = input.trim().toUpperCase();
  return TICKER_PATTERN.test(ticker) ? ticker : undefined;
}

/** The visible order: each ticker once, at its first occurrence. */
export function readTickers(doc: Y.Doc): string[] {
  return [...new Set(order(doc).toArray())];
}

export function readWatchlist(doc: Y.Doc): WatchlistContent {
  const tickers = readTickers(doc);
  return { tickers, notes: Object.fromEntries(tickers.map((t) => [t, noteText(doc, t).toString()])) };
}

/** The array index where the visible entry `index` sits, or the array's length past the end. */
function arrayIndexOf(items: readonly string[], index: number): number {
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    // Before a later duplicate is as good as after it: duplicates are not shown.
    if (seen.size === index) return i;
    seen.add(items[i] as string);
  }
  return items.length;
}

function deleteAll(tickers: Y.Array<string>, ticker: string): void {
  const items = tickers.toArray();
  // From the end, so earlier indexes stay valid.
  for (let i = items.length - 1; i >= 0; i--) if (items[i] === ticker) tickers.delete(i, 1);
}

/** Adds `ticker` at visible position `index` (default: last). False when it is there already. */
export function addTicker(doc: Y.Doc, ticker: string, index = Number.POSITIVE_INFINITY): boolean {
  const tickers = order(doc);
  if (tickers.toArray().includes(ticker)) return false;
  doc.transact(() => tickers.insert(arrayIndexOf(tickers.toArray(), Math.max(0, index)), [ticker]));
  return true;
}

/** Removes `ticker` and its note. False when it is not in the list. */
export function removeTicker(doc: Y.Doc, ticker: string): boolean {
  const tickers = order(doc);
  if (!tickers.toArray().includes(ticker)) return false;
  doc.transact(() => {
    deleteAll(tickers, ticker);
    const note = noteText(doc, ticker);
    note.delete(0, note.length);
  });
  return true;
}

/** Moves `ticker` to visible position `index` (clamped). False when nothing changes. */
export function moveTicker(doc: Y.Doc, ticker: string, index: number): boolean {
  const visible = readTickers(doc);
  const from = visible.indexOf(ticker);
  const to = Math.max(0, Math.min(index, visible.length - 1));
  if (from < 0 || from === to) return false;
  const tickers = order(doc);
  doc.transact(() => {
    deleteAll(tickers, ticker);
    tickers.insert(arrayIndexOf(tickers.toArray(), to), [ticker]);
  });
  return true;
}

/** One edit that turns `prev` into `next`: at `index`, delete `remove` characters, insert `insert`. */
export interface Splice {
  readonly index: number;
  readonly remove: number;
  readonly insert: string;
}

/**
 * The edit that turns `prev` into `next`, as small as a common prefix and suffix allow. Where
 * that is ambiguous (typing "a" into "aa") and `caret` is known (where the cursor stands after
 * the edit), the edit ends there, so the characters inserted are the ones typed.
 */
export function textSplice(prev: string, next: string, caret?: number): Splice {
  const max = Math.min(prev.length, next.length);
  const prefix = (limit: number) => {
    let n = 0;
    while (n < limit && prev[n] === next[n]) n++;
    return n;
  };
  const suffix = (limit: number) => {
    let n = 0;
    while (n < limit && prev[prev.length - 1 - n] === next[next.length - 1 - n]) n++;
    return n;
  };
  let start: number;
  let end: number;
  if (caret === undefined) {
    start = prefix(max);
    end = suffix(max - start);
  } else {
    end = suffix(Math.max(0, Math.min(max, next.length - caret)));
    start = prefix(max - end);
  }
  return { index: start, remove: prev.length - start - end, insert: next.slice(start, next.length - end) };
}

/**
 * Makes the note of `ticker` read `next`, as one edit of the changed middle (`textSplice`, with
 * the cursor at `caret` after it), so what another device types meanwhile elsewhere in the note
 * survives. `origin` marks the transaction, for a binding to tell its own edits apart.
 */
export function setNote(doc: Y.Doc, ticker: string, next: string, caret?: number, origin?: unknown): boolean {
  const text = noteText(doc, ticker);
  const prev = text.toString();
  if (prev === next) return false;
  const { index, remove, insert } = textSplice(prev, next, caret);
  doc.transact(() => {
    if (remove > 0) text.delete(index, remove);
    if (insert) text.insert(index, insert);
  }, origin);
  return true;
}
