import { useQuery } from '@tanstack/react-query';
import type { AccountJson, HealthJson, SetupJson } from '../../sync-server/shared/admin.ts';
import { api } from './client.ts';
import { keys } from './keys.ts';

// What the shell itself needs of the admin side, in the main bundle: whether the first run is
// still to do, and the open dead letters for the Admin tab's badge until the admin's /ws socket
// says them (state/admin.ts); and the accounts, which the Risk screen lists too. The screens are
// app/admin/.

export const getSetup = () => api<SetupJson>('/api/v1/setup');
export const getHealth = () => api<HealthJson>('/api/v1/admin/health');

/** How often the Health screen asks (and the badge, before the socket has said the count). */
export const HEALTH_POLL_MS = 10_000;

/** While the DLL has not reported its accounts, the first run asks for them this often. */
export const SETUP_POLL_MS = 2_000;

/** The server is connected to the broker but the DLL has not reported the accounts yet. */
export const waitingForBroker = (s: SetupJson | undefined) => !s || (s.routing && s.brokerAccounts === null);

/**
 * The first run's state, for admins; `pollWhileWaiting`: asked again until the broker's accounts
 * are there. Not kept on the device: a copy from before the run was finished would show the
 * first-run screen again on the next cold start.
 */
export const useSetup = (enabled: boolean, pollWhileWaiting = false) =>
  useQuery({
    queryKey: keys.setup(),
    queryFn: getSetup,
    enabled,
    refetchInterval: (q) => (pollWhileWaiting && waitingForBroker(q.state.data) ? SETUP_POLL_MS : false),
    persister: undefined,
  });

export const useHealth = (enabled = true) =>
  useQuery({
    queryKey: keys.health(),
    queryFn: getHealth,
    enabled,
    refetchInterval: HEALTH_POLL_MS,
    persister: undefined,
  });

/** Every trading account with its broker, holder, users, limits and kill switch (admins). */
export const useAccounts = () =>
  useQuery({
    queryKey: keys.accounts(),
    queryFn: async () => (await api<{ accounts: AccountJson[] }>('/api/v1/accounts')).accounts,
  });
