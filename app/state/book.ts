import { create } from 'zustand';
import type { BookFrame } from '../../sync-server/shared/market.ts';
import { perFrame } from './frame.ts';

// The latest book of each watched ticker (the price ladder's), as the server's book frames give
// it: the top BOOK_DEPTH levels per side. Frames come as often as the book changes; the store
// takes the latest of each ticker once per animation frame.

interface BookState {
  books: Record<string, BookFrame>;
  queue(frame: BookFrame): void;
  drop(ticker: string): void;
}

export const useBook = create<BookState>((set) => {
  const queued = perFrame<BookFrame>((ready) =>
    set((s) => ({ books: { ...s.books, ...Object.fromEntries(ready) } })),
  );
  return {
    books: {},
    queue(frame) {
      queued.pending().set(frame.ticker, frame);
    },
    drop: (ticker) =>
      set((s) => {
        const { [ticker]: _, ...rest } = s.books;
        return { books: rest };
      }),
  };
});
