import type { RiskConfig } from '../shared/orders.ts';
import type { Brackets } from './brackets.ts';
import type { OrderManager, SubmitResult } from './manager.ts';
import { OrderError, type OrderRow } from './model.ts';
import type { OrderRepository } from './ports.ts';

// Flatten (zerar) and reverse (inverter) a position, per ticker or for the whole account: the
// ticker's working orders are cancelled and every cancel seen through (a partial fill that
// comes before the cancel moves the position), then one market order for what is left. Reverse
// sends twice the position. Nothing is sent while an order of the ticker may still fill.

/** How long the working orders have to close before a flatten gives up and sends nothing. */
export const FLATTEN_WAIT_MS = 5_000;
/** A cancel the DLL did not answer is read again this often (and any order placed meanwhile). */
const RESCAN_MS = 250;

export interface FlattenRequest {
  /** The market order's id (per ticker `<id>.<ticker>` when the whole account is flattened). */
  readonly clientOrderId: string;
  /** One ticker, or every ticker of the account with a position or a working order. */
  readonly ticker?: string | undefined;
  readonly reverse: boolean;
}

export interface Flattened {
  readonly ticker: string;
  /** The position when the working orders had closed, before the market order. */
  readonly positionQty: number;
  /** The market order, or none when the position was already flat. */
  readonly order?: SubmitResult;
}

type Manager = Pick<OrderManager, 'submit' | 'cancel' | 'whenClosed' | 'positionQty' | 'tickersOf'>;
type Store = Pick<OrderRepository, 'list' | 'byClientId'>;

/** The id of one ticker's market order within a flatten. */
const idFor = (req: FlattenRequest, ticker: string) =>
  req.ticker === undefined ? `${req.clientOrderId}.${ticker}` : req.clientOrderId;

export async function flatten(
  manager: Manager,
  store: Store,
  account: { accountId: string; userId: number; risk: RiskConfig },
  req: FlattenRequest,
  waitMs = FLATTEN_WAIT_MS,
  /** The ticker's brackets close first: none sends or resizes a leg while the flatten works. */
  brackets?: Pick<Brackets, 'closeTicker'>,
): Promise<Flattened[]> {
  const { accountId, userId, risk } = account;
  await brackets?.closeTicker(accountId, req.ticker);
  // A repeat of this flatten (same id) must not cancel its own market orders, nor send again.
  const own = (o: OrderRow) =>
    o.clientOrderId === req.clientOrderId || o.clientOrderId.startsWith(`${req.clientOrderId}.`);
  const working = async () =>
    (await store.list(accountId, { working: true, limit: 10_000 })).filter(
      (o) => !own(o) && (req.ticker === undefined || o.ticker === req.ticker),
    );

  let open = await working();
  const tickers = new Set(
    req.ticker !== undefined
      ? [req.ticker]
      : [
          ...open.map((o) => o.ticker),
          ...manager.tickersOf(accountId).filter((t) => manager.positionQty(accountId, t) !== 0),
        ],
  );
  const deadline = Date.now() + waitMs;
  while (open.length > 0) {
    for (const o of open) {
      if (o.localOrderId === null || o.state === 'pending_cancel') continue;
      try {
        await manager.cancel(o);
      } catch (err) {
        // Closed meanwhile, or refused by the DLL (filling): the next read tells which.
        if (!(err instanceof OrderError)) throw err;
      }
    }
    const left = deadline - Date.now();
    if (left <= 0)
      throw new OrderError(
        409,
        'cancel_pending',
        `${open.length} working order(s) of ${[...new Set(open.map((o) => o.ticker))].join(', ')} did not close within ${waitMs / 1000} s: nothing was sent; the position stays as it is`,
      );
    await manager.whenClosed(open, Math.min(left, RESCAN_MS));
    open = await working();
  }

  const out: Flattened[] = [];
  for (const ticker of [...tickers].sort()) {
    const clientOrderId = idFor(req, ticker);
    const sent = await store.byClientId(accountId, clientOrderId);
    // The broker's quantity once read: a flatten closes trades made outside Tape too.
    const qty = manager.positionQty(accountId, ticker);
    if (sent) {
      out.push({ ticker, positionQty: qty, order: { order: sent, created: false } });
      continue;
    }
    if (qty === 0) {
      out.push({ ticker, positionQty: 0 });
      continue;
    }
    const order = await manager.submit(
      accountId,
      userId,
      {
        clientOrderId,
        ticker,
        side: qty > 0 ? 'sell' : 'buy',
        type: 'market',
        qty: Math.abs(qty) * (req.reverse ? 2 : 1),
      },
      risk,
    );
    out.push({ ticker, positionQty: qty, order });
  }
  return out;
}
