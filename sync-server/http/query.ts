import { z } from 'zod';
import { HttpError, type Request } from './types.ts';

// Query strings of the admin lists (dead letters, audit): filters checked by zod, a bad one
// answered 422 naming the parameter, and the opaque keyset cursor their pages continue from.

/** The request's query read by `schema`; 422 `invalid_query` naming the first bad parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  const r = schema.safeParse(Object.fromEntries(req.query));
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw new HttpError(
    422,
    'invalid_query',
    first ? `${first.path.join('.') || 'query'}: ${first.message}` : 'Invalid query',
  );
}

/** A page's `next`: where it ended (the last row's sort key), as base64url JSON the client passes back. */
const encodeCursor = (key: readonly (string | number)[]): string =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

/**
 * A page of rows read as `limit + 1` (whether there is a next page, without counting the rest):
 * the first `limit`, and the cursor after the last of them when there were more.
 */
export function pageOf<T>(
  rows: readonly T[],
  limit: number,
  key: (last: T) => readonly (string | number)[],
): { rows: T[]; next: string | null } {
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  return { rows: rows.slice(0, limit), next: last === undefined ? null : encodeCursor(key(last)) };
}

/** A `cursor` parameter: decoded to the key `shape` describes, else an issue (422) that says to start over. */
export const cursorParam = <T extends z.ZodType>(shape: T) =>
  z
    .string()
    .max(200)
    .transform((text, ctx): z.output<T> => {
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
      } catch {
        decoded = undefined;
      }
      const r = shape.safeParse(decoded);
      if (r.success) return r.data;
      ctx.addIssue({
        code: 'custom',
        message: 'not a cursor of this list: take `next` from a page, or leave it out',
      });
      return z.NEVER;
    });

/** An ISO 8601 time with its offset (`Z` or `-03:00`), as `from`/`to` take. */
export const isoTime = z.iso.datetime({ offset: true });

/** `from` before `to` when both are given. */
export const inOrder = (q: { from?: string; to?: string }) =>
  q.from === undefined || q.to === undefined || Date.parse(q.from) < Date.parse(q.to);
