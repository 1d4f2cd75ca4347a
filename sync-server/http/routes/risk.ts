import { z } from 'zod';
import type { Principal } from '../../auth/tokens.ts';
import type { OrderManager } from '../../orders/manager.ts';
import { DEFAULT_RISK, riskConfig } from '../../orders/risk.ts';
import type { OrderStore } from '../../store/orders.ts';
import { ok, type Route } from '../types.ts';
import { everyone, existingAccount, queried } from './orders.ts';

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
const killSwitch = z.object({ on: z.boolean(), cancelAll: z.boolean().default(false) }).strict();

export interface RiskRouteDeps {
  readonly manager: OrderManager;
  readonly store: OrderStore;
}

/** An account's risk limits, and its kill switch. */
export function riskRoutes({ manager, store }: RiskRouteDeps): Route[] {
  const existing = (account: string) => existingAccount(store, account);
  return [
    {
      method: 'get',
      path: '/api/v1/risk/config',
      access: everyone,
      async handle(req) {
        const { account } = await queried(store, req);
        return ok({ account, config: await riskConfig(store, account) });
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
        const canceled = body.on && body.cancelAll ? await manager.cancelAll(account) : 0;
        return ok({ account, killSwitch: body.on, cancelRequested: canceled });
      },
    },
  ];
}
