import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// Test doubles for the two servers that cannot run here, Qdrant and Ollama: node:http servers
// on 127.0.0.1 (random port) that serve the endpoints and JSON shapes the real client libraries
// send and expect (read from node_modules/@qdrant/js-client-rest and node_modules/ollama), so
// the tests drive the real clients. They record every request for the tests to check.

export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

interface Double {
  readonly url: string;
  readonly requests: Recorded[];
  close(): Promise<void>;
}

async function serve(
  handle: (req: Recorded, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>,
): Promise<Double> {
  const requests: Recorded[] = [];
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (c: Buffer) => chunks.push(c));
    raw.on('end', () => {
      const url = new URL(raw.url ?? '/', 'http://double');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const req = {
        method: raw.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: raw.headers,
        body,
      };
      requests.push(req);
      Promise.resolve(handle(req, res, raw)).catch((err: Error) => {
        if (!res.headersSent) json(res, 500, { status: { error: err.message } });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

// ---------------------------------------------------------------------------------------------
// Qdrant: the REST API of collections and points (openapi paths of js-client-rest 1.18).

type Condition = { key?: string; match?: { value?: unknown; any?: unknown[] }; has_id?: unknown[] } & Filter;
interface Filter {
  must?: Condition[];
  must_not?: Condition[];
  should?: Condition[];
}
interface Point {
  id: string | number;
  vector: number[];
  payload: Record<string, unknown>;
}

function matches(p: Point, c: Condition): boolean {
  if (c.has_id) return c.has_id.includes(p.id);
  if (c.key !== undefined && c.match) {
    const v = p.payload[c.key];
    if ('value' in c.match) return v === c.match.value;
    if (c.match.any) return c.match.any.includes(v);
  }
  if (c.must || c.must_not || c.should) return passes(p, c);
  throw new Error(`the double does not know the condition ${JSON.stringify(c)}`);
}

function passes(p: Point, f: Filter | undefined | null): boolean {
  if (!f) return true;
  const all = (x?: Condition[] | Condition) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  return (
    all(f.must).every((c) => matches(p, c)) &&
    !all(f.must_not).some((c) => matches(p, c)) &&
    (all(f.should).length === 0 || all(f.should).some((c) => matches(p, c)))
  );
}

const cosine = (a: number[], b: number[]) => {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return na && nb ? d / Math.sqrt(na * nb) : 0;
};

export interface QdrantDouble extends Double {
  readonly collections: Map<string, { size: number; points: Map<string, Point> }>;
  /** Answer every request with 503 while true (a Qdrant that is down). */
  down: boolean;
}

export async function qdrantDouble(): Promise<QdrantDouble> {
  const collections = new Map<string, { size: number; points: Map<string, Point> }>();
  const ok = (res: ServerResponse, result: unknown) => json(res, 200, { result, status: 'ok', time: 0.0001 });
  const state = { down: false };
  let operations = 0;
  const d = await serve((req, res) => {
    if (state.down) return json(res, 503, { status: { error: 'service unavailable' } });
    const m = /^\/collections\/([^/]+)(\/.*)?$/.exec(req.path);
    if (!m) return json(res, 404, { status: { error: `no route ${req.method} ${req.path}` } });
    const name = decodeURIComponent(m[1] as string);
    const rest = m[2] ?? '';
    const c = collections.get(name);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const notFound = () => json(res, 404, { status: { error: `Collection \`${name}\` doesn't exist!` } });
    const op = () => ok(res, { operation_id: ++operations, status: 'completed' });
    switch (`${req.method} ${rest}`) {
      case 'GET /exists':
        return ok(res, { exists: c !== undefined });
      case 'GET ':
        if (!c) return notFound();
        return ok(res, {
          status: 'green',
          optimizer_status: 'ok',
          points_count: c.points.size,
          indexed_vectors_count: 0,
          segments_count: 1,
          config: { params: { vectors: { size: c.size, distance: 'Cosine' } } },
          payload_schema: {},
        });
      case 'PUT ': {
        const vectors = body.vectors as { size: number; distance: string };
        if (c) return json(res, 409, { status: { error: `Collection \`${name}\` already exists!` } });
        if (!Number.isInteger(vectors?.size) || vectors.distance !== 'Cosine')
          return json(res, 400, { status: { error: 'bad vectors config' } });
        collections.set(name, { size: vectors.size, points: new Map() });
        return ok(res, true);
      }
      case 'DELETE ':
        return ok(res, collections.delete(name));
      case 'PUT /index':
        return c ? op() : notFound();
      case 'PUT /points': {
        if (!c) return notFound();
        for (const p of body.points as Point[]) {
          if (p.vector.length !== c.size)
            return json(res, 400, {
              status: {
                error: `Wrong input: Vector dimension error: expected dim: ${c.size}, got ${p.vector.length}`,
              },
            });
          c.points.set(String(p.id), { id: p.id, vector: p.vector, payload: p.payload ?? {} });
        }
        return op();
      }
      case 'POST /points/delete': {
        if (!c) return notFound();
        const filter = body.filter as Filter;
        for (const [id, p] of c.points) if (passes(p, filter)) c.points.delete(id);
        return op();
      }
      case 'POST /points/query': {
        if (!c) return notFound();
        const query = body.query as number[];
        const limit = (body.limit as number | undefined) ?? 10;
        const fields = body.with_payload;
        const points = [...c.points.values()]
          .filter((p) => passes(p, body.filter as Filter))
          .map((p) => ({ p, score: cosine(query, p.vector) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, limit)
          .map(({ p, score }) => ({
            id: p.id,
            version: 1,
            score,
            payload: Array.isArray(fields)
              ? Object.fromEntries(fields.map((f: string) => [f, p.payload[f]]))
              : fields
                ? p.payload
                : undefined,
          }));
        return ok(res, { points });
      }
      case 'POST /points/count':
        if (!c) return notFound();
        return ok(res, {
          count: [...c.points.values()].filter((p) => passes(p, body.filter as Filter)).length,
        });
      default:
        return json(res, 404, { status: { error: `no route ${req.method} ${req.path}` } });
    }
  });
  // The handler reads `state`: the double returned is that same object.
  return Object.assign(state, d, { collections });
}

// ---------------------------------------------------------------------------------------------
// Ollama: /api/version, /api/embed, /api/chat (streamed NDJSON or one JSON), as ollama-js 0.6.

export type OllamaBehaviour =
  /** Answers normally. */
  | 'ok'
  /** 500 with an error body. */
  | 'error'
  /** Waits `delayMs` before the headers. */
  | 'slow'
  /** Streams the first chunk of an answer, then goes silent. */
  | 'stall'
  /** Drops the connection without answering. */
  | 'reset';

export interface OllamaDouble extends Double {
  behaviour: OllamaBehaviour;
  delayMs: number;
  /** The answer a chat streams, split on spaces into chunks. */
  reply: string;
  /** What a `format: 'json'` chat answers (the re-ranker's call). */
  jsonReply: string | undefined;
  /** Chat requests only, in order. */
  chats(): Recorded[];
}

// A small deterministic embedding: words hashed into 64 dimensions.
export function doubleEmbedding(text: string): number[] {
  const v = new Array<number>(64).fill(0);
  for (const w of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (!w) continue;
    let h = 7;
    for (const ch of w) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    v[h % 64] = (v[h % 64] as number) + 1;
  }
  return v;
}

export async function ollamaDouble(): Promise<OllamaDouble> {
  const self = {
    behaviour: 'ok' as OllamaBehaviour,
    delayMs: 0,
    reply: 'Tape keeps the last 10,000 events per ticker [1].',
    jsonReply: undefined as string | undefined,
  };
  const model = 'double';
  const chunk = (content: string, done: boolean) => ({
    model,
    created_at: new Date().toISOString(),
    message: { role: 'assistant', content },
    done,
    ...(done
      ? {
          done_reason: 'stop',
          total_duration: 1,
          load_duration: 1,
          prompt_eval_count: 1,
          prompt_eval_duration: 1,
          eval_count: 1,
          eval_duration: 1,
        }
      : {}),
  });
  const d = await serve(async (req, res, raw) => {
    if (self.behaviour === 'reset') {
      raw.socket.destroy();
      return;
    }
    if (self.behaviour === 'slow') await new Promise((r) => setTimeout(r, self.delayMs));
    if (res.destroyed) return;
    if (self.behaviour === 'error') return json(res, 500, { error: 'model runner crashed' });
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (req.method === 'GET' && req.path === '/api/version') return json(res, 200, { version: '0.12.0' });
    if (req.method === 'POST' && req.path === '/api/embed') {
      const input = body.input;
      const texts = Array.isArray(input) ? (input as string[]) : [String(input)];
      return json(res, 200, {
        model: body.model,
        embeddings: texts.map(doubleEmbedding),
        total_duration: 1,
        load_duration: 1,
        prompt_eval_count: texts.length,
      });
    }
    if (req.method === 'POST' && req.path === '/api/chat') {
      const messages = body.messages as { role: string; content: string }[];
      if (body.format === 'json') {
        const n = (messages.at(-1)?.content.match(/<document n=/g) ?? []).length;
        const ranking = Array.from({ length: n }, (_, i) => n - i); // reversed: visible in tests
        const content = self.jsonReply ?? JSON.stringify({ ranking });
        return json(res, 200, chunk(content, true));
      }
      const words = self.reply.split(/(?<= )/);
      if (body.stream !== true) return json(res, 200, chunk(self.reply, true));
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const [i, w] of words.entries()) {
        res.write(`${JSON.stringify(chunk(w, false))}\n`);
        if (self.behaviour === 'stall' && i === 0) return; // silent from here on
        await new Promise((r) => setImmediate(r));
      }
      res.end(`${JSON.stringify(chunk('', true))}\n`);
      return;
    }
    json(res, 404, { error: `no route ${req.method} ${req.path}` });
  });
  // The handler reads `self`: the double returned is that same object.
  return Object.assign(self, d, { chats: () => d.requests.filter((r) => r.path === '/api/chat') });
}
