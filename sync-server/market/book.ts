import { type Instrument, isValidPrice } from '../shared/instruments.ts';

// The aggregated price book of one ticker, rebuilt from ProfitDLL's TPriceBookCallback events.
// Conventions (docs/native.md): side 0 buy, 1 sell; position counts from the best price;
// add inserts at the position, edit replaces it, delete removes it, delete-from removes
// positions 0..position.

export const BookAction = { add: 0, edit: 1, delete: 2, deleteFrom: 3, full: 4 } as const;
export const BookSide = { buy: 0, sell: 1 } as const;

export interface Level {
  readonly price: number;
  readonly qty: number;
  /** Offers at this price. */
  readonly count: number;
}

export interface RawPriceBook {
  readonly ticker: string;
  readonly action: number;
  readonly position: number;
  readonly side: number;
  readonly price: number;
  readonly qty: number;
  readonly count: number;
}

export class BookError extends Error {
  override name = 'BookError';
  constructor(
    readonly reason:
      | 'bad_book_side'
      | 'bad_book_action'
      | 'book_position_out_of_range'
      | 'bad_book_level'
      | 'full_book_unsupported',
    message: string,
  ) {
    super(message);
  }
}

/** Applies one positional book action to one side; throws BookError when it cannot apply. */
export function applyBookAction<T>(side: T[], action: number, position: number, entry: () => T) {
  const within = Number.isInteger(position) && position >= 0 && position < side.length;
  if (action === BookAction.add && Number.isInteger(position) && position >= 0 && position <= side.length) {
    side.splice(position, 0, entry());
  } else if (action === BookAction.edit && within) side[position] = entry();
  else if (action === BookAction.delete && within) side.splice(position, 1);
  else if (action === BookAction.deleteFrom && within) side.splice(0, position + 1);
  else if (action === BookAction.full) {
    // The full-book arrays' layout is not public enough to decode (docs/native.md).
    throw new BookError('full_book_unsupported', 'a full-book snapshot cannot be decoded: resubscribing');
  } else if (action < 0 || action > BookAction.full || !Number.isInteger(action)) {
    throw new BookError('bad_book_action', `unknown book action ${action}`);
  } else {
    throw new BookError(
      'book_position_out_of_range',
      `action ${action} at position ${position} of ${side.length} levels`,
    );
  }
}

export class PriceBook {
  readonly bids: Level[] = [];
  readonly asks: Level[] = [];
  /** Bumped on every applied change, so clients can tell books apart. */
  version = 0;

  constructor(readonly instrument: Instrument) {}

  /** Validates and applies one event; on BookError the book is unchanged. */
  apply(e: RawPriceBook) {
    if (e.side !== BookSide.buy && e.side !== BookSide.sell)
      throw new BookError('bad_book_side', `side ${e.side}`);
    const side = e.side === BookSide.buy ? this.bids : this.asks;
    const carriesLevel = e.action === BookAction.add || e.action === BookAction.edit;
    if (carriesLevel) {
      const { tickSize, lotSize } = this.instrument;
      const ok =
        isValidPrice(e.price, tickSize) &&
        Number.isSafeInteger(e.qty) &&
        e.qty > 0 &&
        e.qty % lotSize === 0 &&
        Number.isSafeInteger(e.count) &&
        e.count > 0;
      if (!ok) throw new BookError('bad_book_level', `price ${e.price}, qty ${e.qty}, count ${e.count}`);
    }
    const decimals = 10 ** this.instrument.priceDecimals;
    applyBookAction(side, e.action, e.position, () => ({
      price: Math.round(e.price * decimals) / decimals,
      qty: e.qty,
      count: e.count,
    }));
    this.version++;
  }

  clear() {
    this.bids.length = 0;
    this.asks.length = 0;
    this.version++;
  }
}
