import { z } from 'zod';
import { CollabError, type SharedDocuments } from '../../collab/documents.ts';
import { MEMBER_ROLES } from '../../collab/model.ts';
import { HttpError, ok, type Request, type Route } from '../types.ts';

// REST for shared watchlists; their content is edited live over /yjs/<room>.

const name = z.string().trim().min(1, 'a name is required').max(100);
const newWatchlist = z.object({ name }).strict();
const share = z.object({ role: z.enum(MEMBER_ROLES) }).strict();
const username = z.string().regex(/^[a-z0-9._-]{3,40}$/, 'a username');

export function watchlistRoutes(watchlists: SharedDocuments): Route[] {
  const everyone = ['admin', 'trader', 'viewer'] as const;
  const base = '/api/v1/watchlists';
  const id = (req: Request) => {
    const n = Number(req.params.id);
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new HttpError(404, 'not_found', `No watchlist ${req.params.id}`);
    return n;
  };
  const principal = (req: Request) => req.principal as NonNullable<Request['principal']>;
  const run = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      if (err instanceof CollabError) throw new HttpError(err.status, err.code, err.message);
      throw err;
    }
  };
  return [
    {
      method: 'post',
      path: base,
      access: ['admin', 'trader'],
      handle: (req) =>
        run(async () =>
          ok({ watchlist: await watchlists.create(principal(req), newWatchlist.parse(req.body).name) }, 201),
        ),
    },
    {
      method: 'get',
      path: base,
      access: everyone,
      handle: (req) => run(async () => ok({ watchlists: await watchlists.list(principal(req)) })),
    },
    {
      method: 'get',
      path: `${base}/:id`,
      access: everyone,
      handle: (req) => run(async () => ok({ watchlist: await watchlists.get(principal(req), id(req)) })),
    },
    {
      method: 'patch',
      path: `${base}/:id`,
      access: everyone,
      handle: (req) =>
        run(async () =>
          ok({
            watchlist: await watchlists.rename(principal(req), id(req), newWatchlist.parse(req.body).name),
          }),
        ),
    },
    {
      method: 'put',
      path: `${base}/:id/members/:username`,
      access: ['admin', 'trader'],
      handle: (req) =>
        run(async () => {
          const who = username.parse(req.params.username);
          const { role } = share.parse(req.body);
          return ok({ watchlist: await watchlists.share(principal(req), id(req), who, role) });
        }),
    },
    {
      method: 'del',
      path: `${base}/:id/members/:username`,
      access: everyone,
      handle: (req) =>
        run(async () => {
          await watchlists.unshare(principal(req), id(req), username.parse(req.params.username));
          return { status: 204 };
        }),
    },
    {
      method: 'del',
      path: `${base}/:id`,
      access: ['admin', 'trader'],
      handle: (req) =>
        run(async () => {
          await watchlists.remove(principal(req), id(req));
          return { status: 204 };
        }),
    },
  ];
}
