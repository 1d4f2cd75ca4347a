import type { HealthMonitor } from '../../health.ts';
import { ok, type Route } from '../types.ts';

/** The operator's feed health (admins): current figures and the last 15 minutes. */
export function healthRoutes(health: HealthMonitor): Route[] {
  return [
    {
      method: 'get',
      path: '/api/v1/admin/health',
      access: ['admin'],
      handle: async () => ok(await health.snapshot()),
    },
  ];
}
