import { z } from 'zod';
import { DEFAULT_RISK } from '../../orders/risk.ts';
import type { AccountJson } from '../../shared/admin.ts';
import type { RiskConfig } from '../../shared/orders.ts';
import type { AccountStore } from '../../store/accounts.ts';
import type { OrderStore } from '../../store/orders.ts';
import { HttpError, ok, type Route } from '../types.ts';

const newAccount = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/),
    brokerId: z.number().int().positive().max(2_147_483_647), // accounts.broker_id is an integer
    name: z.string().min(1).max(100),
  })
  .strict();
/** Trading accounts (admins): list and create (which one a user trades: routes/users.ts). */
export function accountRoutes(store: OrderStore, accounts: AccountStore): Route[] {
  return [
    {
      method: 'get',
      path: '/api/v1/accounts',
      access: ['admin'],
      async handle() {
        const list: AccountJson[] = (await accounts.list()).map(({ config, ...a }) => {
          const risk = { ...DEFAULT_RISK, ...(config as Partial<RiskConfig> | undefined) };
          return { ...a, risk, riskSet: config !== undefined, killSwitch: risk.killSwitch };
        });
        return ok({ accounts: list });
      },
    },
    {
      method: 'post',
      path: '/api/v1/accounts',
      access: ['admin'],
      async handle(req) {
        const a = newAccount.parse(req.body);
        const stored = await store.createAccount(
          a.id,
          a.brokerId,
          a.name,
          (req.principal as { userId: number }).userId,
        );
        if (stored.created) return ok({ account: a }, 201);
        // A retry of the same creation is answered as such; other details never overwrite it.
        if (stored.brokerId === a.brokerId && stored.name === a.name) return ok({ account: a });
        throw new HttpError(409, 'account_exists', `Account ${a.id} already exists with other details`);
      },
    },
  ];
}
