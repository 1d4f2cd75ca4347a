import { z } from 'zod';
import type { Principal } from '../../auth/tokens.ts';
import type { Brackets } from '../../orders/brackets.ts';
import { FLATTEN_WAIT_MS, flatten } from '../../orders/flatten.ts';
import type { OrderManager } from '../../orders/manager.ts';
import type { OrderRow } from '../../orders/model.ts';
import { exposure, heldPosition } from '../../orders/positions.ts';
import { riskConfig } from '../../orders/risk.ts';
import { orderJson, positionJson } from '../../orders/wire.ts';
import type { Instrument } from '../../shared/instruments.ts';
import { ORDER_TYPES } from '../../shared/orders.ts';
import type { AuditStore } from '../../store/audit.ts';
import type { OrderStore } from '../../store/orders.ts';
import { HttpError, ok, type Request, type Route } from '../types.ts';

const clientOrderId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, '1-64 letters, digits or . _ : -');
const qty = z.number().int().positive().max(100_000_000);
const price = z.number().positive().finite().max(1e9);
const newOrder = z
  .object({
    clientOrderId,
    ticker: z.string().regex(/^[A-Z0-9]{4,12}$/),
    side: z.enum(['buy', 'sell']),
    type: z.enum(ORDER_TYPES),
    qty,
    price: price.optional(),
    stopPrice: price.optional(),
  })
  .strict()
  .refine((o) => (o.type === 'stop_limit') === (o.stopPrice !== undefined), {
    message: 'a stop_limit order needs stopPrice, and only a stop_limit order has one',
    path: ['stopPrice'],
  });
const modify = z
  .object({ price: price.optional(), qty: qty.optional(), stopPrice: price.optional() })
  .strict()
  .refine(
    (p) => p.price !== undefined || p.qty !== undefined || p.stopPrice !== undefined,
    'give price, qty or stopPrice',
  );
const flattenBody = z
  .object({
    // Room for `.<ticker>` on each market order of an account-wide flatten.
    clientOrderId: z
      .string()
      .regex(/^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,47}$/, '1-48 letters, digits or . _ : -'),
    ticker: z
      .string()
      .regex(/^[A-Z0-9]{4,12}$/)
      .optional(),
    reverse: z.boolean().default(false),
  })
  .strict();
const listQuery = z.object({
  working: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  beforeId: z.coerce.number().int().positive().optional(),
  account: z.string().max(40).optional(),
});

export interface OrderRouteDeps {
  readonly manager: OrderManager;
  readonly store: OrderStore;
  /** Every order created and every cancel, change and cancel-all sent is audited as its user's. */
  readonly audit: AuditStore;
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly lastPrice: (ticker: string) => number | undefined;
  /** A flatten closes the ticker's brackets first. */
  readonly brackets?: Brackets | undefined;
}

const traders = ['admin', 'trader'] as const;
export const everyone = ['admin', 'trader', 'viewer'] as const;

/** The account a request acts on: the user's own, or for an admin any it names. */
export async function accountOf(store: OrderStore, p: Principal, requested?: string): Promise<string> {
  if (requested !== undefined && p.role === 'admin') return requested;
  const account = await store.accountOf(p.userId);
  if (!account)
    throw new HttpError(403, 'no_account', 'Your user has no trading account: ask an admin to assign one');
  if (requested !== undefined && requested !== account)
    throw new HttpError(403, 'forbidden', 'That account is not yours');
  return account;
}

/** The account named, when it exists: settings belong to an existing account (they reference it). */
export async function existingAccount(store: OrderStore, account: string): Promise<string> {
  if ((await store.brokerOf(account)) === undefined)
    throw new HttpError(404, 'unknown_account', `No account ${account}: create it first`);
  return account;
}

/** The list query of a request and the account it may see (an admin may name any). */
export async function queried(store: OrderStore, req: Request) {
  const q = listQuery.parse(Object.fromEntries(req.query));
  return { q, account: await accountOf(store, req.principal as Principal, q.account) };
}

export function orderRoutes({
  manager,
  store,
  audit,
  instruments,
  lastPrice,
  brackets,
}: OrderRouteDeps): Route[] {
  const config = (account: string) => riskConfig(store, account);
  const actor = (req: Request) => (req.principal as Principal).userId;
  // Another user's order is reported as missing: its existence is not revealed.
  const ownOrder = async (req: Request): Promise<OrderRow> => {
    const id = Number(req.params.id);
    const order = Number.isSafeInteger(id) ? await store.byId(id) : undefined;
    const p = req.principal as Principal;
    if (!order || (p.role !== 'admin' && order.accountId !== (await store.accountOf(p.userId)))) {
      throw new HttpError(404, 'not_found', `No order ${req.params.id}`);
    }
    return order;
  };

  return [
    {
      method: 'post',
      path: '/api/v1/orders',
      access: traders,
      async handle(req) {
        const body = newOrder.parse(req.body);
        const p = req.principal as Principal;
        const account = await accountOf(store, p);
        const r = await manager.submit(account, p.userId, body, await config(account));
        // A repeat of a submit (same clientOrderId and request) created nothing: it is not audited again.
        if (r.created) {
          const { id, clientOrderId, ticker, side, type, qty, price, stopPrice, state, rejectReason } =
            r.order;
          const order = {
            clientOrderId,
            ticker,
            side,
            type,
            qty,
            price,
            ...(stopPrice === null ? {} : { stopPrice }),
            state,
          };
          await audit.record({
            actorId: p.userId,
            action: 'order.submit',
            target: `order:${id}`,
            after: rejectReason ? { ...order, rejectReason } : order,
          });
        }
        if (r.order.state === 'rejected') {
          // The reason is a code; what it says is the rejection's own (a retry reads it back).
          const message =
            r.risk && !r.risk.ok
              ? r.risk.message
              : ((await store.rejectionMessage(r.order.id)) ?? `Order ${r.order.clientOrderId} was rejected`);
          const error = r.order.rejectReason ?? 'rejected';
          return { status: 422, json: { error, message, order: orderJson(r.order) } };
        }
        return ok({ order: orderJson(r.order), created: r.created }, r.created ? 201 : 200);
      },
    },
    {
      method: 'get',
      path: '/api/v1/orders',
      access: everyone,
      async handle(req) {
        const { q, account } = await queried(store, req);
        const orders = await store.list(account, {
          working: q.working === 'true',
          limit: q.limit,
          beforeId: q.beforeId,
        });
        return ok({ account, orders: orders.map(orderJson) });
      },
    },
    {
      method: 'get',
      path: '/api/v1/orders/:id',
      access: everyone,
      handle: async (req) => ok({ order: orderJson(await ownOrder(req)) }),
    },
    {
      method: 'get',
      path: '/api/v1/orders/:id/events',
      access: everyone,
      async handle(req) {
        const order = await ownOrder(req);
        return ok({ order: orderJson(order), events: await store.events(order.id) });
      },
    },
    {
      method: 'post',
      path: '/api/v1/orders/:id/cancel',
      access: traders,
      async handle(req) {
        const order = await ownOrder(req);
        await manager.cancel(order);
        await audit.record({
          actorId: actor(req),
          action: 'order.cancel',
          target: `order:${order.id}`,
          before: { state: order.state },
          after: { requested: 'cancel' },
        });
        return ok({ order: orderJson(order), requested: 'cancel' }, 202);
      },
    },
    {
      method: 'post',
      path: '/api/v1/orders/:id/modify',
      access: traders,
      async handle(req) {
        const patch = modify.parse(req.body);
        const order = await ownOrder(req);
        const risk = await manager.modify(order, patch, await config(order.accountId));
        if (!risk.ok) return { status: 422, json: { error: risk.reason, message: risk.message } };
        await audit.record({
          actorId: actor(req),
          action: 'order.modify',
          target: `order:${order.id}`,
          before: {
            price: order.price,
            qty: order.qty,
            ...(order.stopPrice === null ? {} : { stopPrice: order.stopPrice }),
          },
          after: {
            price: patch.price ?? order.price,
            qty: patch.qty ?? order.qty,
            ...(patch.stopPrice === undefined ? {} : { stopPrice: patch.stopPrice }),
          },
        });
        return ok({ order: orderJson(order), requested: 'modify' }, 202);
      },
    },
    {
      method: 'post',
      path: '/api/v1/orders/cancel-all',
      access: traders,
      async handle(req) {
        const account = await accountOf(store, req.principal as Principal);
        const count = await manager.cancelAll(account);
        await audit.record({
          actorId: actor(req),
          action: 'order.cancel_all',
          target: `account:${account}`,
          after: { count },
        });
        return ok({ account, cancelRequested: count }, 202);
      },
    },
    {
      // Zerar / inverter: the ticker's (or the account's) working orders cancelled and closed,
      // then one market order per ticker for the position (twice it to reverse). flatten.ts.
      method: 'post',
      path: '/api/v1/positions/flatten',
      access: traders,
      async handle(req) {
        const body = flattenBody.parse(req.body);
        const p = req.principal as Principal;
        const account = await accountOf(store, p);
        if (body.ticker !== undefined && !instruments.has(body.ticker))
          throw new HttpError(422, 'unknown_ticker', `No instrument ${body.ticker}`);
        const results = await flatten(
          manager,
          store,
          { accountId: account, userId: p.userId, risk: await config(account) },
          body,
          FLATTEN_WAIT_MS,
          brackets,
        );
        await audit.record({
          actorId: p.userId,
          action: body.reverse ? 'position.reverse' : 'position.flatten',
          target: `account:${account}`,
          after: {
            clientOrderId: body.clientOrderId,
            ticker: body.ticker ?? null,
            orders: results.flatMap((r) => (r.order ? [{ ticker: r.ticker, order: r.order.order.id }] : [])),
          },
        });
        return ok({
          account,
          reverse: body.reverse,
          positions: results.map((r) => ({
            ticker: r.ticker,
            positionQty: r.positionQty,
            order: r.order ? orderJson(r.order.order) : null,
            created: r.order?.created ?? false,
          })),
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/fills',
      access: everyone,
      async handle(req) {
        const { q, account } = await queried(store, req);
        return ok({ account, fills: (await store.fills(account, q.limit)).reverse() });
      },
    },
    {
      method: 'get',
      path: '/api/v1/positions',
      access: everyone,
      async handle(req) {
        const { account } = await queried(store, req);
        const day = manager.day(account);
        const rows = manager.tickersOf(account).flatMap((ticker) => {
          const inst = instruments.get(ticker);
          const own = manager.position(account, ticker);
          const broker = manager.brokerPosition(account, ticker);
          return inst
            ? [
                {
                  ticker,
                  own,
                  broker,
                  position: heldPosition(own, broker, inst),
                  inst,
                  mark: lastPrice(ticker),
                },
              ]
            : [];
        });
        return ok({
          account,
          realizedTodayCents: day.realizedCents,
          costsTodayCents: day.costsCents,
          exposure: exposure(rows.map((r) => ({ position: r.position, mark: r.mark, inst: r.inst }))),
          positions: rows.map((r) => positionJson(r.ticker, r.own, r.inst, r.mark, r.broker)),
        });
      },
    },
  ];
}
