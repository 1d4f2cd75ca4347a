import type { OrderStore } from '../../store/orders.ts';
import { ok, type Route } from '../types.ts';

/** The audit trail (admins): its last 200 entries, newest first; of one target if named. */
export function auditRoutes(store: OrderStore): Route[] {
  return [
    {
      method: 'get',
      path: '/api/v1/audit',
      access: ['admin'],
      async handle(req) {
        const target = req.query.get('target') ?? undefined;
        const rows = await store.audit(200, target);
        return ok({
          audit: rows.map((r) => ({
            ...r,
            id: Number(r.id),
            actorId: r.actor_id === null ? null : Number(r.actor_id),
            at: r.at.toISOString(),
          })),
        });
      },
    },
  ];
}
