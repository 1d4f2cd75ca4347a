import { z } from 'zod';
import type { BrokerAccountJson, SetupJson } from '../../shared/admin.ts';
import type { AccountStore } from '../../store/accounts.ts';
import type { OrderStore } from '../../store/orders.ts';
import { HttpError, ok, type Route } from '../types.ts';

/** An account the DLL reports for this login, before it is a Tape account. */
export type BrokerAccount = Omit<BrokerAccountJson, 'imported'>;

export interface SetupRouteDeps {
  readonly accounts: AccountStore;
  readonly orders: OrderStore;
  /** False when TAPE_ROUTING=off: market data only, nothing to trade with. */
  readonly routing: boolean;
  /** What the DLL reports (GetAccounts + GetAccountDetails); null until it is connected to the broker. */
  readonly brokerAccounts: () => readonly BrokerAccount[] | null;
}

// Tape's account id is the broker's account id, as the accounts table allows it.
const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,40}$/;

const importBody = z
  .object({
    accounts: z
      .array(
        z.object({ brokerId: z.number().int().positive(), accountId: z.string().min(1).max(40) }).strict(),
      )
      .min(1)
      .max(100),
  })
  .strict();
const doneBody = z.object({ ownAccount: z.string().min(1).max(40).nullable() }).strict();

/**
 * The first run, for admins: the trading accounts the DLL reports become Tape accounts, the admin
 * takes one, and the run is recorded as finished, never to be shown again.
 */
export function setupRoutes({ accounts, orders, routing, brokerAccounts }: SetupRouteDeps): Route[] {
  const reported = async (): Promise<BrokerAccountJson[] | null> => {
    const fromDll = routing ? brokerAccounts() : null;
    if (!fromDll) return null;
    const have = new Set((await accounts.list()).map((a) => a.id));
    return fromDll.map((a) => ({ ...a, imported: have.has(a.accountId) }));
  };
  return [
    {
      method: 'get',
      path: '/api/v1/setup',
      access: ['admin'],
      async handle(req) {
        const [completedAt, list, own] = await Promise.all([
          accounts.setupCompletedAt(),
          accounts.list(),
          orders.accountOf(req.principal?.userId ?? 0),
        ]);
        const setup: SetupJson = {
          done: completedAt !== undefined,
          routing,
          brokerAccounts: await reported(),
          accounts: list.length,
          ownAccount: own ?? null,
        };
        return ok(setup);
      },
    },
    {
      method: 'post',
      path: '/api/v1/setup/accounts',
      access: ['admin'],
      async handle(req) {
        const { accounts: wanted } = importBody.parse(req.body);
        if (!routing)
          throw new HttpError(
            409,
            'routing_off',
            'Routing is off (TAPE_ROUTING=off): there are no accounts to import',
          );
        const fromDll = brokerAccounts();
        if (!fromDll)
          throw new HttpError(
            409,
            'broker_not_connected',
            'The DLL is not connected to the broker yet, so it has not reported its accounts: try again in a moment',
          );
        const chosen = wanted.map((w) => {
          const a = fromDll.find((d) => d.brokerId === w.brokerId && d.accountId === w.accountId);
          if (!a)
            throw new HttpError(
              422,
              'unknown_broker_account',
              `The DLL reports no account ${w.accountId} at broker ${w.brokerId} for this login`,
            );
          if (a.subAccountId !== '')
            throw new HttpError(
              422,
              'sub_account_unsupported',
              `${a.accountId}/${a.subAccountId} is a sub-account: Tape routes to master accounts only`,
            );
          if (!ACCOUNT_ID.test(a.accountId))
            throw new HttpError(
              422,
              'invalid_account_id',
              `Account id ${JSON.stringify(a.accountId)} has characters Tape does not store (letters, digits, . _ - only)`,
            );
          return { id: a.accountId, brokerId: a.brokerId, brokerName: a.brokerName, holder: a.holder };
        });
        const created = await accounts.import(chosen, req.principal?.userId ?? 0);
        return ok({ created, accounts: await reported() }, created.length > 0 ? 201 : 200);
      },
    },
    {
      method: 'post',
      path: '/api/v1/setup/done',
      access: ['admin'],
      async handle(req) {
        const { ownAccount } = doneBody.parse(req.body);
        if (ownAccount !== null && !(await accounts.list()).some((a) => a.id === ownAccount))
          throw new HttpError(422, 'unknown_account', `No account ${ownAccount}: import it first`);
        if (!(await accounts.completeSetup(req.principal?.userId ?? 0, ownAccount)))
          throw new HttpError(409, 'setup_done', 'The first run was already finished');
        return ok({ done: true, ownAccount });
      },
    },
  ];
}
