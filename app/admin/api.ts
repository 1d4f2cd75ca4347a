import { type InfiniteData, useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import type {
  AuditPage,
  DeadLetterPage,
  RedriveOutcome,
  Role,
  UserJson,
  UserWithPassword,
} from '../../sync-server/shared/admin.ts';
import type { CostSchedule, CostsAnswer } from '../../sync-server/shared/orders.ts';
import { api } from '../api/client.ts';
import { keys } from '../api/keys.ts';
import { queryClient } from '../api/queryClient.ts';
import { type AuditFilter, afterRedrive, batches, type LetterFilter, pageQuery } from './pages.ts';

// The admin screens' server state. Nothing here is kept on the device: an admin acts on what the
// server holds now, never on a copy from an earlier visit.

const live = { persister: undefined } as const;

export const useUsers = () =>
  useQuery({
    queryKey: keys.users(),
    queryFn: async () => (await api<{ users: UserJson[] }>('/api/v1/users')).users,
    ...live,
  });

const refreshUsers = () =>
  Promise.all([
    queryClient.invalidateQueries({ queryKey: keys.users() }),
    queryClient.invalidateQueries({ queryKey: keys.accounts() }),
  ]);

/** A change of one user; the lists are asked for again whatever the answer. */
const useUserChange = <A, R>(send: (args: A) => Promise<R>) =>
  useMutation({ mutationFn: send, onSettled: refreshUsers });

export const useCreateUser = () =>
  useUserChange((u: { username: string; role: Role; password?: string }) =>
    api<UserWithPassword>('/api/v1/users', { body: u }),
  );
export const useChangeUser = () =>
  useUserChange(({ id, ...change }: { id: number; role?: Role; disabled?: boolean }) =>
    api<{ user: UserJson }>(`/api/v1/users/${id}`, { method: 'PATCH', body: change }),
  );
export const useAssignAccount = () =>
  useUserChange(({ id, accountId }: { id: number; accountId: string | null }) =>
    api(`/api/v1/users/${id}/account`, { method: 'PUT', body: { accountId } }),
  );
export const useResetPassword = () =>
  useUserChange(({ id, password }: { id: number; password?: string }) =>
    api<UserWithPassword>(`/api/v1/users/${id}/password`, { body: password ? { password } : {} }),
  );
export const useSignOutEverywhere = () =>
  useUserChange((id: number) => api<{ user: UserJson }>(`/api/v1/users/${id}/sign-out`, { method: 'POST' }));

/** An account's cost schedule, as the server holds it now. */
export const useCosts = (account: string) =>
  useQuery({
    queryKey: keys.costs(account),
    queryFn: () => api<CostsAnswer>(`/api/v1/costs?account=${encodeURIComponent(account)}`),
    ...live,
  });

/** Sets an account's cost schedule; shown once the server has stored it (its answer is the truth). */
export const useSetCosts = (account: string) =>
  useMutation({
    mutationFn: (schedule: CostSchedule) =>
      api<CostsAnswer>(`/api/v1/costs/${encodeURIComponent(account)}`, { method: 'PUT', body: schedule }),
    onSuccess: (answer) => queryClient.setQueryData(keys.costs(account), answer),
  });

export const useDeadLetters = (filter: LetterFilter) =>
  useInfiniteQuery({
    queryKey: keys.deadLetters(filter),
    queryFn: ({ pageParam }) =>
      api<DeadLetterPage>(`/api/v1/admin/dead-letters?${pageQuery(filter, pageParam)}`),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next ?? undefined,
    ...live,
  });

/**
 * Redrives the letters (in batches), and what became of each. The rows of `filter` shown take the
 * outcomes at once, until the list is asked for again.
 */
export const useRedrive = (filter: LetterFilter) =>
  useMutation({
    mutationFn: async (ids: readonly number[]) => {
      const outcomes: RedriveOutcome[] = [];
      for (const batch of batches(ids)) {
        const r = await api<{ outcomes: RedriveOutcome[] }>('/api/v1/admin/dead-letters/redrive', {
          body: { ids: batch },
        });
        outcomes.push(...r.outcomes);
      }
      return outcomes;
    },
    onSuccess: (outcomes) => {
      const byId = new Map(outcomes.map((o) => [o.id, o]));
      const now = new Date().toISOString();
      queryClient.setQueryData<InfiniteData<DeadLetterPage>>(keys.deadLetters(filter), (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((p) => ({
                ...p,
                letters: p.letters.map((l) => afterRedrive(l, byId.get(l.id), now)),
              })),
            }
          : data,
      );
    },
    // The Health screen's count (the badge hears it from the socket).
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.health() }),
  });

export const useAudit = (filter: AuditFilter) =>
  useInfiniteQuery({
    queryKey: keys.audit(filter),
    queryFn: ({ pageParam }) => api<AuditPage>(`/api/v1/audit?${pageQuery(filter, pageParam)}`),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next ?? undefined,
    ...live,
  });
