import type { BrokerAccountJson, SetupJson } from '../../sync-server/shared/admin.ts';
import { t } from '../i18n/i18n.ts';

// The first run's step 1 as plain functions: what it shows for the setup the server answers, and
// which of the DLL's accounts the "Import" button sends.

export const accountKey = (a: Pick<BrokerAccountJson, 'brokerId' | 'accountId' | 'subAccountId'>) =>
  `${a.brokerId}/${a.accountId}/${a.subAccountId}`;

/** Why an account cannot be ticked, or undefined when it can. */
export function notImportable(a: BrokerAccountJson): string | undefined {
  if (a.imported) return t('first.alreadyImported');
  if (a.subAccountId !== '') return t('first.subAccount');
  if (!a.enabled) return t('first.disabled');
  return undefined;
}

export type StepOne =
  | { readonly kind: 'routing_off' }
  | { readonly kind: 'waiting' }
  | { readonly kind: 'accounts'; readonly list: readonly BrokerAccountJson[] };

export function stepOne(setup: SetupJson): StepOne {
  if (!setup.routing) return { kind: 'routing_off' };
  if (setup.brokerAccounts === null) return { kind: 'waiting' };
  return { kind: 'accounts', list: setup.brokerAccounts };
}

/**
 * The ticked accounts: what the admin ticked and unticked (`picked`, keyed by accountKey), over
 * the default of every account that can be imported. Accounts reported later start ticked too.
 */
export function ticked(
  list: readonly BrokerAccountJson[],
  picked: ReadonlyMap<string, boolean>,
): BrokerAccountJson[] {
  return list.filter((a) => !notImportable(a) && (picked.get(accountKey(a)) ?? true));
}

/** The body of POST /api/v1/setup/accounts. */
export const importBody = (chosen: readonly BrokerAccountJson[]) => ({
  accounts: chosen.map(({ brokerId, accountId }) => ({ brokerId, accountId })),
});

export const importLabel = (n: number) => t('first.import', { count: n });
