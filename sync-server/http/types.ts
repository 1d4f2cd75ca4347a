import type { Principal } from '../auth/tokens.ts';
import { Refusal } from '../refusal.ts';
import type { Role } from '../shared/admin.ts';

// Framework-free request/response shapes: routes never see uWebSockets.js.

export interface Request {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** With `expiresAt`: when its access token expires, ms since the epoch. */
  readonly principal: (Principal & { readonly expiresAt: number }) | undefined;
  /** The peer's address as the socket sees it (a proxy's, behind one). */
  readonly remoteAddress?: string;
}

export interface Reply {
  readonly status: number;
  readonly json?: unknown;
  readonly text?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A body sent as it is produced (chunked), with backpressure; ended when the iterable ends. */
  readonly stream?: AsyncIterable<string>;
}

export type Access = 'public' | readonly Role[];

export interface Route {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'del';
  /** uWS pattern, e.g. `/api/v1/orders/:id`; `:name` segments arrive in `params`. */
  readonly path: string;
  readonly access: Access;
  /** The token scope the route accepts (default `api`), e.g. `rag:query`. */
  readonly scope?: string;
  /**
   * A credential of the route's own, taken besides an access token of its roles: true for a
   * bearer token it accepts (the metrics scrape token). The request then has no principal.
   */
  readonly bearer?: (token: string) => boolean;
  readonly maxBodyBytes?: number;
  handle(req: Request): Promise<Reply> | Reply;
}

/** A refusal raised by the HTTP layer itself (routes, parsing); see refusal.ts. */
export class HttpError extends Refusal {}

export const ok = (json: unknown, status = 200): Reply => ({ status, json });
