import { z } from 'zod';
import type { AuthService } from '../../auth/service.ts';
import { ROLES } from '../../auth/tokens.ts';
import { HttpError, ok, type Route } from '../types.ts';

const credentials = z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(200) });
const refresh = z.object({ refreshToken: z.string().min(1).max(200) });
const newUser = z.object({
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(200),
  role: z.enum(ROLES),
});

export function authRoutes(auth: AuthService): Route[] {
  return [
    {
      method: 'post',
      path: '/api/v1/auth/login',
      access: 'public',
      async handle(req) {
        const { username, password } = credentials.parse(req.body);
        return ok(await auth.login(username, password));
      },
    },
    {
      method: 'post',
      path: '/api/v1/auth/refresh',
      access: 'public',
      async handle(req) {
        return ok(await auth.refresh(refresh.parse(req.body).refreshToken));
      },
    },
    {
      method: 'post',
      path: '/api/v1/auth/logout',
      access: 'public',
      async handle(req) {
        await auth.logout(refresh.parse(req.body).refreshToken);
        return { status: 204 };
      },
    },
    {
      method: 'get',
      path: '/api/v1/me',
      access: ['admin', 'trader', 'viewer'],
      handle: (req) => ok({ user: req.principal }),
    },
    {
      method: 'get',
      path: '/api/v1/users',
      access: ['admin'],
      handle: async () => ok({ users: await auth.listUsers() }),
    },
    {
      method: 'post',
      path: '/api/v1/users',
      access: ['admin'],
      async handle(req) {
        const { username, password, role } = newUser.parse(req.body);
        try {
          return ok({ user: await auth.createUser(username, password, role) }, 201);
        } catch (err) {
          if (err instanceof RangeError) throw new HttpError(422, 'invalid_user', err.message);
          throw err;
        }
      },
    },
  ];
}
