// An order as its venue reports it, in the venue's terms translated to ours (after
// NautilusTrader's OrderStatusReport): the adapter of each venue (profitDllAdapter.ts) maps its
// own codes onto these, so the manager never reads a venue's numbers.

/** Where the venue says the order is. */
export const REPORT_STATUSES = [
  /** Taken, not acknowledged yet (the venue's pending new / received). */
  'submitted',
  'accepted',
  'partially_filled',
  'filled',
  'pending_cancel',
  /** Canceled, whether or not part of it was filled first. */
  'canceled',
  'pending_replace',
  'replaced',
  'rejected',
  'expired',
  /** A code the adapter does not know: the manager keeps the report, applies nothing. */
  'unknown',
] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** An order as the venue has it now, already validated by the venue's adapter. */
export interface OrderReport {
  /** The venue's id of the order (ProfitDLL's local order id). */
  readonly localOrderId: bigint;
  /** The venue's own client order id ('' when the call does not report it). */
  readonly clOrderId: string;
  readonly accountId: string;
  readonly ticker: string;
  readonly side: 'buy' | 'sell';
  readonly status: ReportStatus;
  /** The venue's own status code, kept for the record (a dead letter names it). */
  readonly venueStatus: number;
  readonly qty: number;
  /** How much of it is filled, in total. */
  readonly filledQty: number;
  /** The average price of what is filled (0 while nothing is). */
  readonly avgPrice: number;
  /** Limit price; null for a market order. */
  readonly price: number | null;
  /** A stop-limit's stop price; null for the other types. */
  readonly stopPrice: number | null;
  /**
   * The venue says this stop-limit's stop has triggered (it works as a limit order now); false
   * for a waiting stop and for the other types. A stop with fills has triggered whatever this says.
   */
  readonly stopTriggered: boolean;
  /** When the venue took the order (ms since the epoch), if it says. */
  readonly createdAt: number | null;
  readonly text: string;
}

/** Still working at the venue: acknowledged, not closed, no request pending on it. */
export const isWorkingReport = (s: ReportStatus) => s === 'accepted' || s === 'partially_filled';
