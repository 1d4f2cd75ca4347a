import { type Query, QueryClient, type QueryKey } from '@tanstack/react-query';
import { experimental_createQueryPersister } from '@tanstack/react-query-persist-client';
import { localDb } from '../data/db.ts';

// Server state lives in TanStack Query; each query is persisted to the user's Dexie database so
// a cold start offline shows the last answer, stamped with its age (`dataUpdatedAt`). A restored
// answer is shown at once but always asked for again: one persisted a second before a reload
// would otherwise count as fresh (staleTime) and stand for the server's state, e.g. a kill switch
// shown off after it was set (seen in the e2e risk test).
const persister = experimental_createQueryPersister<string>({
  storage: {
    getItem: async (key) => (await localDb().queries.get(key))?.value,
    setItem: (key, value) => localDb().queries.put({ key, value }),
    removeItem: (key) => localDb().queries.delete(key),
    entries: async () => (await localDb().queries.toArray()).map((r) => [r.key, r.value] as [string, string]),
  },
  maxAge: 7 * 86_400_000,
  buster: '1',
  refetchOnRestore: 'always',
});

/**
 * The persister refetches a restored query with a bare `query.fetch()` whose promise nobody
 * handles: offline or with the server down each failed refetch was an uncaught page error ("The
 * server cannot be reached"), although the query records the error in its own state. The query
 * it is handed catches that promise; everything else goes to the query itself.
 */
function quietRefetch(query: Query): Query {
  return new Proxy(query, {
    get(target, key) {
      if (key === 'fetch')
        return (...args: Parameters<Query['fetch']>) => target.fetch(...args).catch(() => target.state.data);
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Run the query function offline too: the persister answers from Dexie, the fetch then fails quietly.
      networkMode: 'offlineFirst',
      persister: (queryFn, ctx, query) => persister.persisterFn(queryFn, ctx, quietRefetch(query)),
      staleTime: 5_000,
      retry: 1,
    },
    mutations: { networkMode: 'always' },
  },
});

/** Data pushed over the WebSocket replaces a query's data and is persisted like a fetch. */
export function pushQueryData<T>(key: QueryKey, update: (prev: T | undefined) => T | undefined) {
  queryClient.setQueryData<T>(key, update);
  void persister.persistQueryByKey(key, queryClient);
}
