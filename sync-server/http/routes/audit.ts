import { z } from 'zod';
import { type AuditPage, USERNAME } from '../../shared/admin.ts';
import type { AuditStore } from '../../store/audit.ts';
import { cursorParam, inOrder, isoTime, pageOf, parseQuery } from '../query.ts';
import { ok, type Route } from '../types.ts';

// The audit trail (admins; operations.md, Audit): newest first, filtered by who, what and when,
// paged by an opaque cursor (the last entry's id: entries are only ever added).

const auditQuery = z
  .object({
    actor: z.string().regex(USERNAME, 'a username: 3-40 of a-z, 0-9, . _ -').optional(),
    action: z
      .string()
      .max(100)
      .regex(
        /^[a-z_]+(\.[a-z_]+)*\.?$/,
        "an action such as user.role, or a prefix ending in '.' such as user.",
      )
      .optional(),
    target: z.string().min(1).max(200).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: cursorParam(z.tuple([z.number().int().positive()])).optional(),
  })
  .refine(inOrder, { message: '`from` must be before `to`', path: ['from'] });

export function auditRoutes(audit: AuditStore): Route[] {
  return [
    {
      method: 'get',
      path: '/api/v1/audit',
      access: ['admin'],
      async handle(req) {
        const { cursor, limit, ...filter } = parseQuery(auditQuery, req);
        const page = pageOf(
          await audit.list({ ...filter, limit: limit + 1, beforeId: cursor?.[0] }),
          limit,
          (e) => [e.id],
        );
        const answer: AuditPage = { entries: page.rows, next: page.next };
        return ok(answer);
      },
    },
  ];
}
