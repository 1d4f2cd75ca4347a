import type { OrderRow } from './model.ts';
import type { OrderRepository, OrderVenue, VenueAccount } from './ports.ts';
import type { OrderReport } from './report.ts';

// Start-up reconciliation: every working order Tape has, set against the venue's own list of
// the account's orders before new orders are accepted. Nothing is ever sent again.

/** What reconciliation does with each working order (the manager's transitions). */
export interface ReconcileSteps {
  /** A sent order the venue still lists: brought to what it reports. */
  sync(order: OrderRow, report: OrderReport): Promise<void>;
  /** A sent order the venue no longer lists: it expired there. */
  gone(order: OrderRow): Promise<void>;
  /** Written, never acknowledged, and not in the venue's list: it never reached the venue. */
  notSent(order: OrderRow): Promise<void>;
  /** Written, never acknowledged, found in the venue's list: it did reach it. */
  adopt(order: OrderRow, report: OrderReport): Promise<void>;
}

export interface ReconcileCounts {
  checked: number;
  adopted: number;
  notSent: number;
  gone: number;
}

/**
 * Whether the venue's order is the one Tape wrote: the same instrument, side, quantity, price
 * and stop price (a stop-limit's, triggered or not: it keeps its stop), taken no earlier than the
 * row was written (a second of clock skew allowed).
 */
export function isSentAs(order: OrderRow, report: OrderReport): boolean {
  const written = Date.parse(order.createdAt) - 1_000;
  return (
    report.ticker === order.ticker &&
    report.side === order.side &&
    report.qty === order.qty &&
    (order.type === 'market' ? report.price === null : report.price === order.price) &&
    report.stopPrice === order.stopPrice &&
    (report.createdAt === null || report.createdAt >= written)
  );
}

export async function reconcileWorking(
  store: Pick<OrderRepository, 'allWorking' | 'knownLocalIds'>,
  venue: Pick<OrderVenue, 'enumerate'>,
  accountRef: (accountId: string) => Promise<VenueAccount>,
  steps: ReconcileSteps,
): Promise<ReconcileCounts> {
  const working = await store.allWorking();
  const counts = { checked: working.length, adopted: 0, notSent: 0, gone: 0 };
  for (const accountId of new Set(working.map((o) => o.accountId))) {
    const listed = venue.enumerate(await accountRef(accountId));
    const known = new Set(
      (await store.knownLocalIds(listed.map((d) => d.localOrderId))).map((id) => id.toString()),
    );
    // The venue's orders no row carries yet: what an order written but not acknowledged may be.
    const unclaimed = listed.filter((d) => !known.has(d.localOrderId.toString()));
    for (const o of working.filter((w) => w.accountId === accountId)) {
      if (o.localOrderId !== null) {
        const found = listed.find((d) => d.localOrderId === o.localOrderId);
        if (found) await steps.sync(o, found);
        else {
          counts.gone++;
          await steps.gone(o);
        }
        continue;
      }
      const i = unclaimed.findIndex((d) => isSentAs(o, d));
      if (i < 0) {
        counts.notSent++;
        await steps.notSent(o);
        continue;
      }
      const [found] = unclaimed.splice(i, 1) as [OrderReport];
      counts.adopted++;
      await steps.adopt(o, found);
    }
  }
  return counts;
}
