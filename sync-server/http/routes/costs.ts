import { z } from 'zod';
import type { Principal } from '../../auth/tokens.ts';
import { DEFAULT_COSTS } from '../../orders/costs.ts';
import type { OrderManager } from '../../orders/manager.ts';
import type { CostSchedule, CostsAnswer } from '../../shared/orders.ts';
import type { OrderStore } from '../../store/orders.ts';
import { ok, type Route } from '../types.ts';
import { everyone, existingAccount, queried } from './orders.ts';

// The uws.ts answer names the field: `brokerageCents: may not be negative`.
const cents = (max: number) =>
  z
    .number({ message: 'a whole number of centavos' })
    .int('a whole number of centavos')
    .min(0, 'may not be negative')
    .max(max, `at most ${max} centavos`);
const costSchedule = z
  .object({
    brokerage: z.enum(['per_order', 'per_unit'], { message: "must be 'per_order' or 'per_unit'" }),
    brokerageCents: cents(1_000_000),
    equitiesFeePpm: z
      .number({ message: 'a whole number of millionths of the notional (230 = 0,0230 %)' })
      .int('a whole number of millionths of the notional (230 = 0,0230 %)')
      .min(0, 'may not be negative')
      .max(10_000, 'at most 10000 (1 %)'),
    futuresFeeCents: cents(100_000),
  })
  .strict();

/** An account's cost schedule: read by its users, set by admins (in effect from the change on). */
export function costRoutes({ manager, store }: { manager: OrderManager; store: OrderStore }): Route[] {
  const current = async (account: string): Promise<CostsAnswer> => {
    const last = (await store.costSchedules(account)).at(-1);
    return last
      ? { account, schedule: last.schedule, set: true, since: new Date(last.from).toISOString() }
      : { account, schedule: DEFAULT_COSTS, set: false, since: null };
  };
  return [
    {
      method: 'get',
      path: '/api/v1/costs',
      access: everyone,
      async handle(req) {
        const { account } = await queried(store, req);
        return ok(await current(account));
      },
    },
    {
      method: 'put',
      path: '/api/v1/costs/:account',
      access: ['admin'],
      async handle(req) {
        const schedule: CostSchedule = costSchedule.parse(req.body);
        const account = await existingAccount(store, req.params.account as string);
        const from = Date.now();
        await store.setCostSchedule(account, schedule, from, (req.principal as Principal).userId);
        manager.setCostSchedule(account, from, schedule);
        return ok({
          account,
          schedule,
          set: true,
          since: new Date(from).toISOString(),
        } satisfies CostsAnswer);
      },
    },
  ];
}
