import { z } from 'zod';
import type { Principal } from '../../auth/tokens.ts';
import { OrderError, type OrderManager } from '../../orders/manager.ts';
import { exposure } from '../../orders/positions.ts';
import { DEFAULT_RISK } from '../../orders/risk.ts';
import { orderJson, positionJson } from '../../orders/wire.ts';
import type { Instrument } from '../../shared/instruments.ts';
import type { RiskConfig } from '../../shared/orders.ts';
import type { OrderRow, OrderStore } from '../../store/orders.ts';
import { HttpError, ok, type Request, type Route } from '../types.ts';

const clientOrderId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, '1-64 letters, digits or . _ : -');
const qty = z.number().int().positive().max(100_000_000);
const price = z.number().positive().finite().max(1e9);
const newOrder = z
  .object({
    clientOrderId,
    ticker: z.string().regex(/^[A-Z0-9]{4,12}$/),
    side: z.enum(['buy', 'sell']),
    type: z.enum(['limit', 'market']),
    qty,
    price: price.optional(),
  })
  .strict();
const modify = z
  .object({ price: price.optional(), qty: qty.optional() })
  .strict()
  .refine((p) => p.price !== undefined || p.qty !== undefined, 'give price or qty');
// The kill switch is not a limit: it changes only through its own (audited) route.
const riskLimits = z
  .object({
    maxOrderQty: z.number().int().positive(),
    maxOrderNotionalCents: z.number().int().positive(),
    maxPositionQty: z.number().int().positive(),
    maxOpenOrders: z.number().int().positive(),
    dailyLossLimitCents: z.number().int().positive(),
    priceBandPct: z.number().positive().max(100),
    ordersPerSecond: z.number().positive().max(1_000),
    orderBurst: z.number().int().positive().max(10_000),
  })
  .strict();
const newAccount = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/),
    brokerId: z.number().int().positive().max(2_147_483_647), // accounts.broker_id is an integer
    name: z.string().min(1).max(100),
  })
  .strict();
const assignAccount = z
  .object({
    accountId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,40}$/)
      .nullable(),
  })
  .strict();
const killSwitch = z.object({ on: z.boolean(), cancelAll: z.boolean().default(false) }).strict();
const listQuery = z.object({
  working: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  beforeId: z.coerce.number().int().positive().optional(),
  account: z.string().max(40).optional(),
});

export interface OrderRouteDeps {
  readonly manager: OrderManager;
  readonly store: OrderStore;
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly lastPrice: (ticker: string) => number | undefined;
}

const traders = ['admin', 'trader'] as const;
const everyone = ['admin', 'trader', 'viewer'] as const;

export function orderRoutes({ manager, store, instruments, lastPrice }: OrderRouteDeps): Route[] {
  const accountOf = async (p: Principal, requested?: string): Promise<string> => {
    if (requested !== undefined && p.role === 'admin') return requested;
    const account = await store.accountOf(p.userId);
    if (!account)
      throw new HttpError(403, 'no_account', 'Your user has no trading account: ask an admin to assign one');
    if (requested !== undefined && requested !== account)
      throw new HttpError(403, 'forbidden', 'That account is not yours');
    return account;
  };
  // The list query of a request and the account it may see (an admin may name any).
  const queried = async (req: Request) => {
    const q = listQuery.parse(Object.fromEntries(req.query));
    return { q, account: await accountOf(req.principal as Principal, q.account) };
  };
  // Risk settings belong to an existing account (risk_configs references accounts).
  const existing = async (account: string): Promise<string> => {
    if ((await store.brokerOf(account)) === undefined)
      throw new HttpError(404, 'unknown_account', `No account ${account}: create it first`);
    return account;
  };
  const config = async (account: string): Promise<RiskConfig> => ({
    ...DEFAULT_RISK,
    ...((await store.riskConfig(account)) as Partial<RiskConfig> | undefined),
  });
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
  const run = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      if (err instanceof OrderError) throw new HttpError(err.status, err.code, err.message, err.retryAfterS);
      throw err;
    }
  };

  return [
    {
      method: 'post',
      path: '/api/v1/orders',
      access: traders,
      async handle(req) {
        const body = newOrder.parse(req.body);
        const p = req.principal as Principal;
        const account = await accountOf(p);
        const r = await run(async () => manager.submit(account, p.userId, body, await config(account)));
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
        const { q, account } = await queried(req);
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
        await run(() => manager.cancel(order));
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
        const risk = await run(async () => manager.modify(order, patch, await config(order.accountId)));
        if (!risk.ok) return { status: 422, json: { error: risk.reason, message: risk.message } };
        return ok({ order: orderJson(order), requested: 'modify' }, 202);
      },
    },
    {
      method: 'post',
      path: '/api/v1/orders/cancel-all',
      access: traders,
      async handle(req) {
        const account = await accountOf(req.principal as Principal);
        return ok({ account, cancelRequested: await run(() => manager.cancelAll(account)) }, 202);
      },
    },
    {
      method: 'get',
      path: '/api/v1/fills',
      access: everyone,
      async handle(req) {
        const { q, account } = await queried(req);
        return ok({ account, fills: (await store.fills(account, q.limit)).reverse() });
      },
    },
    {
      method: 'get',
      path: '/api/v1/positions',
      access: everyone,
      async handle(req) {
        const { account } = await queried(req);
        const rows = [...manager.positionsOf(account)].flatMap(([ticker, position]) => {
          const inst = instruments.get(ticker);
          return inst ? [{ ticker, position, inst, mark: lastPrice(ticker) }] : [];
        });
        return ok({
          account,
          realizedTodayCents: manager.realized(account),
          exposure: exposure(rows.map((r) => ({ position: r.position, mark: r.mark, inst: r.inst }))),
          positions: rows.map((r) => positionJson(r.ticker, r.position, r.inst, r.mark)),
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/risk/config',
      access: everyone,
      async handle(req) {
        const { account } = await queried(req);
        return ok({ account, config: await config(account) });
      },
    },
    {
      method: 'put',
      path: '/api/v1/risk/config/:account',
      access: ['admin'],
      async handle(req) {
        const limits = riskLimits.parse(req.body);
        const account = await existing(req.params.account as string);
        // The kill switch is kept as stored at the write, whatever happened since this request began.
        let stored: Record<string, unknown> = limits;
        await store.setRiskConfig(
          account,
          (before) => {
            stored = { ...limits, killSwitch: Boolean(before?.killSwitch) };
            return stored;
          },
          (req.principal as Principal).userId,
        );
        return ok({ account, config: { ...DEFAULT_RISK, ...stored } });
      },
    },
    {
      method: 'post',
      path: '/api/v1/risk/kill-switch/:account',
      access: ['admin'],
      async handle(req) {
        const body = killSwitch.parse(req.body);
        const account = await existing(req.params.account as string);
        // On takes effect before anything awaits (no order of the account reaches the DLL from
        // here, whatever config its request was read with); off only once it is stored.
        const underWay = body.on ? manager.setKillSwitch(account, true) : undefined;
        await store.setRiskConfig(
          account,
          (before) => ({ ...DEFAULT_RISK, ...before, killSwitch: body.on }),
          (req.principal as Principal).userId,
          body.on ? 'kill_switch.on' : 'kill_switch.off',
        );
        if (!body.on) await manager.setKillSwitch(account, false);
        // The submissions already past the check have stored their orders: the cancel finds them.
        await underWay;
        const canceled = body.on && body.cancelAll ? await run(() => manager.cancelAll(account)) : 0;
        return ok({ account, killSwitch: body.on, cancelRequested: canceled });
      },
    },
    {
      method: 'get',
      path: '/api/v1/accounts',
      access: ['admin'],
      handle: async () => ok({ accounts: await store.listAccounts() }),
    },
    {
      method: 'post',
      path: '/api/v1/accounts',
      access: ['admin'],
      async handle(req) {
        const a = newAccount.parse(req.body);
        const stored = await store.createAccount(a.id, a.brokerId, a.name);
        if (stored.created) return ok({ account: a }, 201);
        // A retry of the same creation is answered as such; other details never overwrite it.
        if (stored.brokerId === a.brokerId && stored.name === a.name) return ok({ account: a });
        throw new HttpError(409, 'account_exists', `Account ${a.id} already exists with other details`);
      },
    },
    {
      method: 'put',
      path: '/api/v1/users/:id/account',
      access: ['admin'],
      async handle(req) {
        const { accountId } = assignAccount.parse(req.body);
        const userId = Number(req.params.id);
        if (!Number.isSafeInteger(userId)) throw new HttpError(404, 'not_found', `No user ${req.params.id}`);
        try {
          if (!(await store.assignAccount(userId, accountId)))
            throw new HttpError(404, 'not_found', `No user ${req.params.id}`);
        } catch (err) {
          // 23503: the account does not exist (foreign key).
          if ((err as { code?: string }).code === '23503')
            throw new HttpError(422, 'unknown_account', `No account ${accountId}: create it first`);
          throw err;
        }
        return ok({ userId, accountId });
      },
    },
    {
      method: 'get',
      path: '/api/v1/audit',
      access: ['admin'],
      async handle(req) {
        const target = req.query.get('target') ?? undefined;
        const rows = await store.audit(200, target);
        return ok({
          audit: rows.map((r) => ({
            ...r,
            id: Number(r.id),
            actorId: r.actor_id === null ? null : Number(r.actor_id),
            at: r.at.toISOString(),
          })),
        });
      },
    },
  ];
}
