import { z } from 'zod';
import { DEFAULT_RISK } from '../../orders/risk.ts';
import type { AccountJson } from '../../shared/admin.ts';
import type { RiskConfig } from '../../shared/orders.ts';
import type { AccountStore } from '../../store/accounts.ts';
import type { OrderStore } from '../../store/orders.ts';
import { isForeignKeyViolation } from '../../store/pgErrors.ts';
import { HttpError, ok, type Route } from '../types.ts';

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

/** Trading accounts (admins): list, create, and which account a user trades in. */
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
          // The account does not exist (the foreign key refused it).
          if (isForeignKeyViolation(err))
            throw new HttpError(422, 'unknown_account', `No account ${accountId}: create it first`);
          throw err;
        }
        return ok({ userId, accountId });
      },
    },
  ];
}
