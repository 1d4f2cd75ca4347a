import { z } from 'zod';
import type { DeadLetterRow, DeadLetterStorage } from '../../deadLetters/queue.ts';
import { type RedriveResult, type RedriveTargets, redrive } from '../../deadLetters/redrive.ts';
import type { DeadLetterJson, DeadLetterPage, RedriveOutcome } from '../../shared/admin.ts';
import type { AuditStore } from '../../store/audit.ts';
import { cursorParam, inOrder, isoTime, pageOf, parseQuery } from '../query.ts';
import { HttpError, ok, type Request, type Route } from '../types.ts';

// The operator's dead letters (operations.md, Dead letters): a filtered page newest first with
// the open counts per source and reason, and redrive, of one letter or of a batch. Every
// redrive is audited as the admin's.

const MAX_BATCH = 500;

const letterQuery = z
  .object({
    source: z.string().min(1).max(100).optional(),
    reason: z.string().min(1).max(100).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
    status: z.enum(['open', 'resolved', 'all']).default('open'),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: cursorParam(z.tuple([z.string().max(40), z.number().int().positive()])).optional(),
  })
  .refine(inOrder, { message: '`from` must be before `to`', path: ['from'] });

const batch = z
  .object({
    ids: z
      .array(z.number().int().positive())
      .min(1)
      .max(MAX_BATCH)
      .refine((ids) => new Set(ids).size === ids.length, 'each id once'),
  })
  .strict();

const letterJson = (l: DeadLetterRow): DeadLetterJson => ({
  id: l.id,
  source: l.source,
  reason: l.reason,
  detail: l.detail,
  payload: l.payload,
  attempts: l.attempts,
  firstSeen: l.firstSeen,
  lastSeen: l.lastSeen,
  resolvedAt: l.resolvedAt,
  resolution: l.resolution,
});

const refusal = (id: number, outcome: 'not_found' | 'already_resolved' | 'not_redrivable', message: string) =>
  ({ id, outcome, reason: outcome, message }) as const;

function outcomeOf(id: number, r: RedriveResult): RedriveOutcome {
  switch (r.outcome) {
    case 'redriven':
      return { id, outcome: 'redriven' };
    case 'refused':
      return { id, outcome: 'refused', reason: r.reason, message: r.detail };
    case 'not_found':
      return refusal(id, 'not_found', `No dead letter ${id}`);
    case 'already_resolved':
      return refusal(id, 'already_resolved', `Dead letter ${id} was already ${r.resolution}`);
    case 'not_redrivable':
      return refusal(id, 'not_redrivable', `Letters from ${r.source} cannot be redriven`);
  }
}

export interface DeadLetterRouteDeps {
  readonly letters: DeadLetterStorage;
  /** Where a redriven letter's payload goes again (the capture, the market, the tick table). */
  readonly targets: RedriveTargets;
  readonly audit: AuditStore;
}

export function deadLetterRoutes({ letters, targets, audit }: DeadLetterRouteDeps): Route[] {
  /** One redrive, as the wire says it, audited as the admin's whatever its outcome. */
  const redriveAs = async (actorId: number, id: number): Promise<RedriveOutcome> => {
    const outcome = outcomeOf(id, await redrive(id, letters, targets));
    await audit.record({
      actorId,
      action: 'dead_letter.redrive',
      target: `dead_letter:${id}`,
      after: outcome,
    });
    return outcome;
  };
  const actor = (req: Request) => (req.principal as { userId: number }).userId;

  return [
    {
      method: 'get',
      path: '/api/v1/admin/dead-letters',
      access: ['admin'],
      async handle(req) {
        const { cursor, limit, ...filter } = parseQuery(letterQuery, req);
        const after = cursor && { lastSeen: cursor[0], id: cursor[1] };
        const [rows, counts, open] = await Promise.all([
          letters.page({ ...filter, limit: limit + 1, after }),
          letters.counts({ source: filter.source, from: filter.from, to: filter.to }),
          letters.countOpen(),
        ]);
        const cut = pageOf(rows, limit, (last) => [last.key.lastSeen, last.key.id]);
        const page: DeadLetterPage = {
          letters: cut.rows.map((r) => letterJson(r.letter)),
          next: cut.next,
          counts,
          open,
        };
        return ok(page);
      },
    },
    {
      // In the order given, one at a time: a batch of stored trades goes into the table as one
      // redrive after another, never two at once.
      method: 'post',
      path: '/api/v1/admin/dead-letters/redrive',
      access: ['admin'],
      async handle(req) {
        const { ids } = batch.parse(req.body);
        const outcomes: RedriveOutcome[] = [];
        for (const id of ids) outcomes.push(await redriveAs(actor(req), id));
        return ok({ outcomes });
      },
    },
    {
      method: 'post',
      path: '/api/v1/admin/dead-letters/:id/redrive',
      access: ['admin'],
      async handle(req) {
        const id = Number(req.params.id);
        if (!Number.isSafeInteger(id) || id <= 0)
          throw new HttpError(404, 'not_found', `No dead letter ${req.params.id}`);
        const r = await redriveAs(actor(req), id);
        switch (r.outcome) {
          case 'redriven':
            return ok({ redriven: true });
          case 'refused':
            return ok({ redriven: false, reason: r.reason, detail: r.message });
          default:
            throw new HttpError(STATUS[r.outcome], r.reason, r.message);
        }
      },
    },
  ];
}

/** The one-letter route's answers to what it cannot redrive. */
const STATUS = { not_found: 404, already_resolved: 409, not_redrivable: 422 } as const;
