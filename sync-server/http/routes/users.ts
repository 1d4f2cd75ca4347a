import { z } from 'zod';
import type { AuthService, WithPassword } from '../../auth/service.ts';
import { toUserJson, UserChangeRefused, type UserRefusalCode } from '../../auth/users.ts';
import { ROLES, type UserWithPassword } from '../../shared/admin.ts';
import { HttpError, ok, type Request, type Route } from '../types.ts';

// The users, as admins manage them (issue 16): list, create, change role, disable/enable, assign
// a trading account, reset a password, sign out everywhere. Every change is audited where it is written (store/users.ts).

const password = z.string().min(1).max(200);
const newUser = z.object({
  username: z.string().min(1).max(100),
  role: z.enum(ROLES),
  password: password.optional(),
});
const change = z
  .object({ role: z.enum(ROLES).optional(), disabled: z.boolean().optional() })
  .strict()
  .refine((c) => c.role !== undefined || c.disabled !== undefined, 'give role or disabled (or both)');
const reset = z.object({ password: password.optional() }).strict();
const account = z
  .object({
    accountId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,40}$/)
      .nullable(),
  })
  .strict();

const STATUS: Record<UserRefusalCode, number> = {
  invalid_username: 422,
  weak_password: 422,
  username_taken: 409,
  last_admin: 409,
  unknown_account: 422,
  not_found: 404,
};

/** The service's refusals as HTTP answers. */
async function answering<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UserChangeRefused) throw new HttpError(STATUS[err.code], err.code, err.message);
    throw err;
  }
}

const userId = (req: Request) => {
  const id = Number(req.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(404, 'not_found', `No user ${req.params.id}`);
  return id;
};
const actor = (req: Request) => (req.principal as { userId: number }).userId;
const withPassword = ({ user, password }: WithPassword): UserWithPassword =>
  password === undefined ? { user: toUserJson(user) } : { user: toUserJson(user), password };

export function userRoutes(auth: AuthService): Route[] {
  return [
    {
      method: 'get',
      path: '/api/v1/users',
      access: ['admin'],
      handle: async () => ok({ users: (await auth.listUsers()).map(toUserJson) }),
    },
    {
      // The password is typed, or generated and in this answer only (never stored in clear).
      method: 'post',
      path: '/api/v1/users',
      access: ['admin'],
      async handle(req) {
        const input = newUser.parse(req.body);
        return ok(withPassword(await answering(() => auth.createUser(input, actor(req)))), 201);
      },
    },
    {
      method: 'patch',
      path: '/api/v1/users/:id',
      access: ['admin'],
      async handle(req) {
        const id = userId(req);
        const c = change.parse(req.body);
        return ok({ user: toUserJson(await answering(() => auth.changeUser(actor(req), id, c))) });
      },
    },
    {
      method: 'post',
      path: '/api/v1/users/:id/password',
      access: ['admin'],
      async handle(req) {
        const id = userId(req);
        const { password: typed } = reset.parse(req.body ?? {});
        return ok(withPassword(await answering(() => auth.resetPassword(actor(req), id, typed))));
      },
    },
    {
      method: 'put',
      path: '/api/v1/users/:id/account',
      access: ['admin'],
      async handle(req) {
        const id = userId(req);
        const { accountId } = account.parse(req.body);
        await answering(() => auth.setAccount(actor(req), id, accountId));
        return ok({ userId: id, accountId });
      },
    },
    {
      method: 'post',
      path: '/api/v1/users/:id/sign-out',
      access: ['admin'],
      async handle(req) {
        const id = userId(req);
        return ok({ user: toUserJson(await answering(() => auth.signOut(actor(req), id))) });
      },
    },
  ];
}
