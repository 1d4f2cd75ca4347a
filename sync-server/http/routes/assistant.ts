import { z } from 'zod';
import type { Principal } from '../../auth/tokens.ts';
import { type RateLimit, rateLimiter } from '../../rag/rateLimit.ts';
import type { RagService } from '../../rag/service.ts';
import { type AnswerEvent, encodeEvent } from '../../shared/assistant.ts';
import { HttpError, ok, type Route } from '../types.ts';

// The assistant's routes. Questions need a short-lived token of scope `rag:query`, minted by
// `POST /api/v1/rag/token` for a signed-in user: an ordinary API token is refused there, and a
// leaked query token can do nothing else. Answers stream as NDJSON (shared/assistant.ts).

export const RAG_SCOPE = 'rag:query';
export const RAG_TOKEN_TTL_S = 300;

const question = z
  .object({
    question: z.string().trim().min(1, 'ask a question').max(1000, 'at most 1000 characters'),
    paths: z.array(z.string().min(1).max(300)).min(1).max(50).optional(),
  })
  .strict();
const sourceQuery = z.object({
  path: z.string().min(1, 'give the document path').max(300),
  anchor: z.string().max(200).default(''),
});

export interface AssistantRouteDeps {
  readonly rag: RagService;
  /** Signs a `rag:query` token for the user. */
  readonly mint: (p: Principal) => Promise<string>;
  readonly rate: RateLimit;
  readonly now?: () => number;
}

const everyone = ['admin', 'trader', 'viewer'] as const;

// Events → NDJSON lines; a failure after the first line ends the answer with the reason.
async function* ndjson(events: AsyncGenerator<AnswerEvent>): AsyncGenerator<string> {
  let sent = false;
  try {
    for await (const e of events) {
      sent = true;
      yield encodeEvent(e);
    }
  } catch (err) {
    if (!sent) throw err;
    yield encodeEvent({ type: 'done', error: 'The answer failed on the server: ask again' });
  }
}

export function assistantRoutes({ rag, mint, rate, now }: AssistantRouteDeps): Route[] {
  const limiter = rateLimiter(rate, now);
  return [
    {
      method: 'post',
      path: '/api/v1/rag/token',
      access: everyone,
      async handle(req) {
        const token = await mint(req.principal as Principal);
        return ok({ token, scope: RAG_SCOPE, expiresIn: RAG_TOKEN_TTL_S });
      },
    },
    {
      method: 'post',
      path: '/api/v1/rag/query',
      access: everyone,
      scope: RAG_SCOPE,
      maxBodyBytes: 16 * 1024,
      async handle(req) {
        const body = question.parse(req.body);
        const taken = limiter.take((req.principal as Principal).userId);
        if (!taken.ok) {
          return {
            status: 429,
            headers: { 'Retry-After': String(taken.retryAfterS) },
            json: {
              error: 'rate_limited',
              message: `Too many questions: ask again in ${taken.retryAfterS} s`,
              retryAfterS: taken.retryAfterS,
            },
          };
        }
        return {
          status: 200,
          contentType: 'application/x-ndjson; charset=utf-8',
          stream: ndjson(rag.ask(body.question, { paths: body.paths })),
        };
      },
    },
    {
      method: 'get',
      path: '/api/v1/rag/status',
      access: everyone,
      handle: async () => ok(await rag.status()),
    },
    {
      method: 'get',
      path: '/api/v1/rag/source',
      access: everyone,
      async handle(req) {
        const q = sourceQuery.parse(Object.fromEntries(req.query));
        const section = await rag.source(q.path, q.anchor);
        if (!section)
          throw new HttpError(404, 'not_found', `No section ${q.anchor || '(start)'} in ${q.path}`);
        return ok(section);
      },
    },
    {
      method: 'post',
      path: '/api/v1/rag/ingest',
      access: ['admin'],
      handle() {
        const already = rag.indexing;
        void rag.ingest().catch(() => {}); // reported by status and the log
        return ok({ started: !already, indexing: true }, 202);
      },
    },
  ];
}
