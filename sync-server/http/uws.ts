import uWS from 'uWebSockets.js';
import type { BlockList } from 'node:net';
import { ZodError } from 'zod';
import type { Principal } from '../auth/tokens.ts';
import { AuthError } from '../auth/tokens.ts';
import { clientAddress } from '../clientAddress.ts';
import { StartupError } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { Refusal } from '../refusal.ts';
import { isUnreachable } from '../store/pgErrors.ts';
import { CloseCode, type WsEndpoint, type WsSession } from '../ws.ts';
import { SECURITY_HEADERS } from './security.ts';
import type { StaticFiles } from './static.ts';
import { HttpError, type Reply, type Route } from './types.ts';

// The only module that knows uWebSockets.js (../ws.ts holds the framework-free socket shapes it
// adapts); an upstream build can replace the npm republish without touching any other file.

const DEFAULT_MAX_BODY = 64 * 1024;
/** ListenOptions.LIBUS_LISTEN_EXCLUSIVE_PORT (index.d.ts): no SO_REUSEPORT. */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;
const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  204: '204 No Content',
  304: '304 Not Modified',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  422: '422 Unprocessable Entity',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};
const statusLine = (s: number) => STATUS_TEXT[s] ?? `${s} Status`;

export interface ServerDeps {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly routes: readonly Route[];
  readonly staticFiles: StaticFiles | undefined;
  readonly ws: readonly WsEndpoint<unknown>[];
  /** Proxies whose X-Forwarded-For names the client (clientAddress.ts). */
  readonly trustedProxies?: BlockList;
  /**
   * A bearer token of the scope (default `api`) as its principal, or throws AuthError.
   * Synchronous: a WebSocket upgrade completes inside uWS's upgrade handler (auth/tokens.ts).
   */
  readonly authenticate: (token: string | undefined, scope?: string) => Principal & { expiresAt: number };
  /**
   * Who opens a WebSocket, from its URL's query (a one-time `ticket`, or a `token`), or throws
   * AuthError. Synchronous like `authenticate`.
   */
  readonly authenticateSocket: (query: URLSearchParams) => Principal & { expiresAt: number };
}

export interface RunningServer {
  readonly port: number;
  /** Sends bytes (binary frame) or text to every socket subscribed to `topic`. */
  publish(topic: string, message: Uint8Array | string): boolean;
  /** Stops accepting connections; open sockets are closed with `code`. */
  close(code?: number, reason?: string): void;
  /**
   * Closes every open socket of the user, on every endpoint, with `code` and `reason` (a disable,
   * a sign-out: auth/service.ts); returns how many. A scan of the open sockets: rare, and no
   * endpoint keeps a second index of its sockets by user.
   */
  closeSockets(userId: number, code: number, reason: string): number;
}

export async function listen(host: string, port: number, deps: ServerDeps): Promise<RunningServer> {
  const app = uWS.App();
  for (const route of deps.routes) mountRoute(app, route, deps);
  const sockets = new Set<uWS.WebSocket<SocketData>>();
  for (const endpoint of deps.ws) mountWs(app, endpoint, deps, sockets);
  const noSuchRoute = (res: uWS.HttpResponse) => {
    res.cork(() => send(res, { status: 404, json: { error: 'not_found', message: 'No such API route' } }));
  };
  // GET too: uWS prefers a method's own wildcard (the app shell's `/*`) to `any`, so an unknown
  // API path would otherwise get the app's index.html with a 200.
  app.get('/api/*', noSuchRoute);
  app.any('/api/*', noSuchRoute);
  app.get('/*', (res, req) => serveStatic(res, req, deps));

  // Exclusively: by default uWS sets SO_REUSEPORT, and a second server on the same port would
  // start and share its connections with the first. uWS.js takes (host, port, options, cb),
  // though its types name the options only in the overload without a host.
  const listenExclusive = app.listen as unknown as (
    host: string,
    port: number,
    options: number,
    cb: (s: uWS.us_listen_socket | false) => void,
  ) => void;
  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    listenExclusive.call(app, host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (s) =>
      s
        ? resolve(s)
        : reject(
            new StartupError(
              `Cannot listen on ${host}:${port} (TAPE_HOST:TAPE_PORT): the port is in use by another process, or the address is not this machine's`,
            ),
          ),
    );
  });
  return {
    port: uWS.us_socket_local_port(listenSocket as unknown as uWS.us_socket),
    publish: (topic, message) => app.publish(topic, message, typeof message !== 'string'),
    close(code = 1001, reason = 'server shutting down') {
      uWS.us_listen_socket_close(listenSocket);
      for (const ws of [...sockets]) ws.end(code, reason);
      app.close();
    },
    closeSockets(userId, code, reason) {
      const theirs = [...sockets].filter((ws) => ws.getUserData().session?.principal.userId === userId);
      for (const ws of theirs) ws.end(code, reason);
      return theirs.length;
    },
  };
}

function mountRoute(app: uWS.TemplatedApp, route: Route, deps: ServerDeps) {
  const paramNames = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
  app[route.method](route.path, (res, req) => {
    // First of all: uWS aborts the whole process when a handler returns (or throws) before it
    // has answered or attached an abort handler.
    let aborted = false;
    let onAbort: (() => void) | undefined;
    res.onAborted(() => {
      aborted = true;
      onAbort?.();
    });
    // Whatever goes wrong before the request is handed over is answered, never thrown into uWS
    // (an exception escaping a uWS callback takes the process down).
    try {
      // uWS frees `req` when this function returns: copy what we need first.
      const headers: Record<string, string> = {};
      req.forEach((k, v) => {
        headers[k] = v;
      });
      const params: Record<string, string> = {};
      // A malformed escape (`/api/v1/orders/%ZZ`) is the client's mistake: 400, not a throw.
      let badPath: HttpError | undefined;
      paramNames.forEach((name, i) => {
        const raw = req.getParameter(i) ?? '';
        try {
          params[name] = decodeURIComponent(raw);
        } catch {
          badPath ??= new HttpError(
            400,
            'bad_path',
            `The path segment :${name} is not valid percent-encoding`,
          );
        }
      });
      const path = req.getUrl();
      const remoteAddress = clientAddress(
        Buffer.from(res.getRemoteAddressAsText()).toString(),
        headers['x-forwarded-for'],
        deps.trustedProxies,
      );
      const query = new URLSearchParams(req.getQuery() ?? '');
      const method = req.getMethod().toUpperCase();
      // No text Tape keeps may hold U+0000 (PostgreSQL refuses it): a client error, not a 500.
      if (Object.values(params).some((v) => v.includes('\0')))
        badPath ??= new HttpError(400, 'bad_path', 'The path may not contain %00 (U+0000)');
      for (const [k, v] of query) {
        if (k.includes('\0') || v.includes('\0'))
          badPath ??= new HttpError(400, 'bad_query', 'The query string may not contain %00 (U+0000)');
      }
      const wantsBody = route.method !== 'get' && route.method !== 'del';
      const body = wantsBody
        ? readBody(res, route.maxBodyBytes ?? DEFAULT_MAX_BODY, headers['content-length'])
        : { done: Promise.resolve(undefined), mustClose: () => false };
      const started = performance.now();
      const finish = (reply: Reply) => {
        deps.metrics.httpRequests.inc({ route: `${method} ${route.path}`, status: reply.status });
        // The access log: the path without its query (a query may carry a token), never a body.
        deps.log.debug(
          { method, path, status: reply.status, ms: Math.round(performance.now() - started) },
          'http',
        );
        if (reply.stream) {
          void streamReply(res, reply, reply.stream, {
            aborted: () => aborted,
            onAbort: (fn) => {
              onAbort = fn;
            },
            log: deps.log,
            where: `${method} ${path}`,
          });
        } else if (!aborted) {
          const close = body.mustClose();
          res.cork(() => send(res, reply, close));
        }
      };
      void (async () => {
        try {
          const raw = await body.done;
          const given = bearerOf(headers);
          const ownCredential = given !== undefined && route.bearer?.(given) === true;
          const principal =
            route.access === 'public' || ownCredential ? undefined : await authorize(route, headers, deps);
          if (badPath) throw badPath;
          const json =
            raw === undefined || raw.length === 0 ? undefined : parseJson(raw, headers['content-type']);
          finish(
            await route.handle({
              method,
              path,
              params,
              query,
              headers,
              body: json,
              principal,
              remoteAddress,
            }),
          );
        } catch (err) {
          finish(errorReply(err, deps.log, `${method} ${path}`));
        }
      })();
    } catch (err) {
      if (!aborted) res.cork(() => send(res, errorReply(err, deps.log, route.path), true));
    }
  });
}

async function authorize(
  route: Route,
  headers: Record<string, string>,
  deps: ServerDeps,
): Promise<Principal & { expiresAt: number }> {
  const principal = deps.authenticate(bearerOf(headers), route.scope);
  if (route.access !== 'public' && !route.access.includes(principal.role)) {
    throw new HttpError(403, 'forbidden', `This action needs the role ${route.access.join(' or ')}`);
  }
  return principal;
}

/** The token of an `Authorization: Bearer` header. */
function bearerOf(headers: Record<string, string>): string | undefined {
  const auth = headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
}

/**
 * A body over its route's limit is still read (and dropped) up to this size before the 413 goes
 * out: uWS closes a refused connection as soon as the answer is written, and closing a socket
 * with the client's bytes still arriving makes the kernel send RST, which a client still sending
 * gets instead of the answer. A body declared or found larger than this is refused at once.
 */
const DISCARD_MAX = 8 * 1024 * 1024;

/**
 * Collects a request body up to `limit` bytes; a larger one is refused with 413 once it has been
 * read to its end (or at once past DISCARD_MAX). `mustClose`: the connection is closed after the
 * answer, as it is after a refused body, and whenever the body was not read to its end.
 */
function readBody(
  res: uWS.HttpResponse,
  limit: number,
  contentLength: string | undefined,
): { done: Promise<Buffer>; mustClose(): boolean } {
  let complete = false;
  let refused = false;
  const done = new Promise<Buffer>((resolve, reject) => {
    const refuse = () => {
      refused = true;
      reject(new HttpError(413, 'body_too_large', `The request body is over ${limit} bytes`));
    };
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(contentLength) > limit;
    if (Number(contentLength) > DISCARD_MAX) refuse();
    res.onData((chunk, isLast) => {
      if (isLast) complete = true;
      if (refused) return;
      size += chunk.byteLength;
      over ||= size > limit;
      if (size > DISCARD_MAX || (over && isLast)) refuse();
      else if (!over) {
        // uWS reuses the chunk's memory after this callback: copy it.
        chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
        if (isLast) resolve(Buffer.concat(chunks));
      }
    });
  });
  return { done, mustClose: () => refused || !complete };
}

function parseJson(raw: Buffer, contentType: string | undefined): unknown {
  if (!contentType?.toLowerCase().startsWith('application/json')) {
    throw new HttpError(415, 'unsupported_media_type', 'Send the body as application/json');
  }
  let value: unknown;
  const text = raw.toString('utf8');
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'bad_json', 'The request body is not valid JSON');
  }
  const nul = text.includes('\\u0000') ? nulAt(value) : undefined;
  if (nul !== undefined) {
    throw new HttpError(400, 'invalid_body', `${nul || 'body'}: text may not contain U+0000 (NUL)`);
  }
  return value;
}

/** The path (`a.b.0`) of the first string (or key) holding U+0000 in a parsed JSON value. */
function nulAt(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, at] = next;
    if (typeof v === 'string') {
      if (v.includes('\0')) return at;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const here = at ? `${at}.${k}` : k;
        if (k.includes('\0')) return here;
        stack.push([child, here]);
      }
    }
  }
  return undefined;
}

function errorReply(err: unknown, log: Logger, where: string): Reply {
  if (err instanceof Refusal) {
    const json = { error: err.code, message: err.message };
    return err.retryAfterS === undefined
      ? { status: err.status, json }
      : { status: err.status, headers: { 'Retry-After': String(err.retryAfterS) }, json };
  }
  if (err instanceof AuthError) return { status: 401, json: { error: err.code, message: err.message } };
  if (err instanceof ZodError) {
    const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const first = issues[0];
    return {
      status: 400,
      json: {
        error: 'invalid_body',
        message: first ? `${first.path || 'body'}: ${first.message}` : 'Invalid body',
        issues,
      },
    };
  }
  // A dependency that does not answer (the database during an outage): the request may be
  // retried shortly, and the operator sees a warning, not a bug.
  if (isUnreachable(err)) {
    log.warn({ code: (err as { code: string }).code, where }, 'a dependency is unavailable');
    return {
      status: 503,
      headers: { 'Retry-After': '5' },
      json: { error: 'unavailable', message: 'The database is not answering; try again in a few seconds' },
    };
  }
  log.error({ err, where }, 'unhandled error in a route');
  return {
    status: 500,
    json: { error: 'internal', message: 'Something went wrong on the server; it was logged' },
  };
}

function send(res: uWS.HttpResponse, reply: Reply, closeConnection = false) {
  res.writeStatus(statusLine(reply.status));
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.writeHeader(k, v);
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v);
  if (reply.json !== undefined) {
    res.writeHeader('Content-Type', 'application/json; charset=utf-8');
    res.writeHeader('Cache-Control', 'no-store');
    res.end(JSON.stringify(reply.json), closeConnection);
  } else {
    res.writeHeader('Content-Type', reply.contentType ?? 'text/plain; charset=utf-8');
    res.end(reply.text ?? '', closeConnection);
  }
}

function writeHead(res: uWS.HttpResponse, reply: Reply) {
  res.writeStatus(statusLine(reply.status));
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.writeHeader(k, v);
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v);
  res.writeHeader('Content-Type', reply.contentType ?? 'text/plain; charset=utf-8');
  res.writeHeader('Cache-Control', 'no-store');
}

/**
 * Writes a streamed reply chunk by chunk (chunked encoding). A write that uWS had to buffer
 * waits for the socket to drain (onWritable) before the next chunk is pulled; a client that
 * goes away ends the iteration, so the producer stops (its `finally` runs).
 */
async function streamReply(
  res: uWS.HttpResponse,
  reply: Reply,
  body: AsyncIterable<string>,
  conn: { aborted(): boolean; onAbort(fn: () => void): void; log: Logger; where: string },
) {
  const it = body[Symbol.asyncIterator]();
  let drained: (() => void) | undefined;
  conn.onAbort(() => {
    drained?.();
    void it.return?.();
  });
  if (conn.aborted()) {
    void it.return?.();
    return;
  }
  res.onWritable(() => {
    drained?.();
    return true;
  });
  let started = false;
  try {
    for (;;) {
      const next = await it.next();
      if (conn.aborted()) return;
      if (next.done) break;
      if (next.value.length === 0) continue;
      let ok = true;
      res.cork(() => {
        if (!started) writeHead(res, reply);
        started = true;
        ok = res.write(next.value);
      });
      if (!ok) {
        await new Promise<void>((resolve) => {
          drained = resolve;
        });
        drained = undefined;
        if (conn.aborted()) return;
      }
    }
    res.cork(() => {
      if (!started) writeHead(res, reply);
      res.end();
    });
  } catch (err) {
    if (conn.aborted()) return;
    // Before the first chunk the client can still get a proper error; after it, only the end.
    if (!started) res.cork(() => send(res, errorReply(err, conn.log, conn.where)));
    else {
      conn.log.error({ err, where: conn.where }, 'a streamed reply failed midway');
      res.cork(() => res.end());
    }
  }
}

function serveStatic(res: uWS.HttpResponse, req: uWS.HttpRequest, deps: ServerDeps) {
  const file = deps.staticFiles?.lookup(
    req.getUrl(),
    req.getHeader('accept-encoding'),
    req.getHeader('if-none-match'),
  );
  res.cork(() => {
    if (!file) {
      send(res, { status: 404, text: 'Not found. Build the app with `npm run build:app`.' });
      return;
    }
    res.writeStatus(statusLine(file.status));
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.writeHeader(k, v);
    for (const [k, v] of Object.entries(file.headers)) res.writeHeader(k, v);
    if (file.status === 304) res.endWithoutBody();
    else res.end(file.body);
  });
}

interface SocketData {
  session?: WsSession;
}

// One object per socket with its methods on the prototype: per-socket closures cost ~2 KiB of
// heap per idle connection, which this class does not.
class UwsSession implements WsSession {
  readonly expiresAt: number;
  constructor(
    private readonly ws: uWS.WebSocket<SocketData>,
    readonly principal: Principal & { expiresAt: number },
    readonly params: Readonly<Record<string, string>>,
  ) {
    this.expiresAt = principal.expiresAt;
  }
  send(message: string | Uint8Array, binary?: boolean): number {
    return this.ws.send(message, binary ?? typeof message !== 'string');
  }
  subscribe(topic: string): boolean {
    return this.ws.subscribe(topic);
  }
  unsubscribe(topic: string): boolean {
    return this.ws.unsubscribe(topic);
  }
  bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }
  cork(fn: () => void): void {
    this.ws.cork(fn);
  }
  close(code: number, reason: string): void {
    this.ws.end(code, reason);
  }
}

function mountWs(
  app: uWS.TemplatedApp,
  endpoint: WsEndpoint<unknown>,
  deps: ServerDeps,
  sockets: Set<uWS.WebSocket<SocketData>>,
) {
  // An exception escaping a uWS callback would take the whole process down: it costs only the
  // socket whose message raised it (1011), and is logged.
  const guard = (ws: uWS.WebSocket<SocketData> | undefined, what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      deps.log.error({ err, where: `WS ${endpoint.path} ${what}` }, 'unhandled error in a socket handler');
      try {
        ws?.end(CloseCode.internalError, 'internal error; it was logged');
      } catch {
        // already closed
      }
    }
  };
  app.ws<
    SocketData & {
      principal: Principal & { expiresAt: number };
      params: Record<string, string>;
    }
  >(endpoint.path, {
    maxPayloadLength: endpoint.maxPayloadBytes,
    maxBackpressure: endpoint.maxBackpressureBytes,
    // Past uWS's ceiling a message would be dropped: close instead, never lose silently.
    closeOnBackpressureLimit: 1,
    idleTimeout: 60,
    sendPingsAutomatically: true,
    // Completed here, synchronously, never later under res.cork: uWS can close a socket upgraded
    // from a cork at once, without a close frame (uNetworking/uWebSockets#1928).
    upgrade: (res, req, context) => {
      const url = req.getUrl();
      try {
        const principal = deps.authenticateSocket(new URLSearchParams(req.getQuery() ?? ''));
        res.upgrade(
          { principal, params: endpoint.params(url) },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      } catch (err) {
        deps.metrics.authFailures.inc({ reason: err instanceof AuthError ? err.code : 'error' });
        send(res, errorReply(err, deps.log, `WS ${url}`));
      }
    },
    open: (ws) => {
      sockets.add(ws);
      deps.metrics.wsConnections.inc();
      const data = ws.getUserData();
      const session = new UwsSession(ws, data.principal, data.params);
      data.session = session;
      guard(ws, 'open', () => endpoint.open(session));
    },
    message: (ws, message, isBinary) => {
      const session = ws.getUserData().session;
      // The ArrayBuffer is only valid during this call; handlers copy what they keep.
      if (session) guard(ws, 'message', () => endpoint.message(session, message, isBinary));
    },
    drain: (ws) => {
      const session = ws.getUserData().session;
      if (session) guard(ws, 'drain', () => endpoint.drain?.(session));
    },
    close: (ws, code) => {
      sockets.delete(ws);
      deps.metrics.wsConnections.dec();
      const session = ws.getUserData().session;
      if (session) guard(undefined, 'close', () => endpoint.close(session, code));
    },
  });
}
