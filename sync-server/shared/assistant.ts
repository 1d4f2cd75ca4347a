// The assistant's wire format, shared by the server and the app (which imports this file):
// `POST /api/v1/rag/query` answers with NDJSON, one event a line — `meta` first (the mode
// and the citations), then `delta`s of text, then `done`; `GET /api/v1/rag/source` answers a
// cited Section and `GET /api/v1/rag/status` the RagStatus.

export const ANSWER_MODES = ['llm', 'extractive'] as const;
export type AnswerMode = (typeof ANSWER_MODES)[number];

/** A passage an answer rests on; `[n]` in the text refers to it. */
export interface Citation {
  readonly n: number;
  /** The document, e.g. `docs/operations.md`. */
  readonly path: string;
  /** The heading trail of its section, e.g. `Operating Tape › Settings`. */
  readonly heading: string;
  /** The GitHub-style slug of the section's heading. */
  readonly anchor: string;
}

export type AnswerEvent =
  | {
      readonly type: 'meta';
      readonly mode: AnswerMode;
      readonly citations: readonly Citation[];
      /** Served from the semantic cache; `cachedAt` is when the answer was first made (ms). */
      readonly cached: boolean;
      readonly cachedAt?: number;
    }
  | { readonly type: 'delta'; readonly text: string }
  /** The last event; `error` says why an answer stopped short. */
  | { readonly type: 'done'; readonly error?: string };

/** A line of the stream that is not an event: the reader reports it and goes on. */
export interface InvalidLine {
  readonly type: 'invalid';
  readonly reason: string;
}

export const encodeEvent = (e: AnswerEvent): string => `${JSON.stringify(e)}\n`;

/** Longest line a reader accepts; a longer one is reported and skipped, never buffered whole. */
export const MAX_LINE_CHARS = 1 << 20;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function isCitation(v: unknown): v is Citation {
  return (
    isObject(v) &&
    Number.isSafeInteger(v.n) &&
    typeof v.path === 'string' &&
    typeof v.heading === 'string' &&
    typeof v.anchor === 'string'
  );
}

/** Checks one parsed line against the event shapes. */
export function toEvent(v: unknown): AnswerEvent | InvalidLine {
  if (!isObject(v)) return { type: 'invalid', reason: 'not a JSON object' };
  switch (v.type) {
    case 'meta':
      if (!ANSWER_MODES.includes(v.mode as AnswerMode)) return { type: 'invalid', reason: 'meta: bad mode' };
      if (!Array.isArray(v.citations) || !v.citations.every(isCitation))
        return { type: 'invalid', reason: 'meta: bad citations' };
      return {
        type: 'meta',
        mode: v.mode as AnswerMode,
        citations: v.citations as Citation[],
        cached: v.cached === true,
        ...(typeof v.cachedAt === 'number' ? { cachedAt: v.cachedAt } : {}),
      };
    case 'delta':
      return typeof v.text === 'string'
        ? { type: 'delta', text: v.text }
        : { type: 'invalid', reason: 'delta: text is not a string' };
    case 'done':
      return typeof v.error === 'string' ? { type: 'done', error: v.error } : { type: 'done' };
    default:
      return { type: 'invalid', reason: `unknown event type ${JSON.stringify(v.type)?.slice(0, 40)}` };
  }
}

/**
 * An incremental NDJSON reader for answer streams: feed it text as it arrives, in pieces of any
 * size; it never throws, and a bad line becomes an `invalid` entry without losing the others.
 */
export function answerReader(maxLine = MAX_LINE_CHARS) {
  let buffer = '';
  let skipping = false; // inside a line already reported as too long
  const parse = (line: string): AnswerEvent | InvalidLine | undefined => {
    if (line.trim() === '') return undefined;
    try {
      return toEvent(JSON.parse(line));
    } catch {
      return { type: 'invalid', reason: 'a line is not valid JSON' };
    }
  };
  return {
    push(text: string): (AnswerEvent | InvalidLine)[] {
      const out: (AnswerEvent | InvalidLine)[] = [];
      let rest = text;
      for (;;) {
        const nl = rest.indexOf('\n');
        if (nl < 0) break;
        const line = buffer + rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        buffer = '';
        if (skipping) skipping = false;
        else {
          const e = parse(line);
          if (e) out.push(e);
        }
      }
      if (skipping) return out;
      buffer += rest;
      if (buffer.length > maxLine) {
        out.push({ type: 'invalid', reason: `a line is over ${maxLine} characters` });
        buffer = '';
        skipping = true;
      }
      return out;
    },
    /** The stream ended: a last line without its newline still counts. */
    end(): (AnswerEvent | InvalidLine)[] {
      const line = buffer;
      buffer = '';
      const e = skipping ? undefined : parse(line);
      skipping = false;
      return e ? [e] : [];
    },
  };
}

/**
 * The key of a question for the caches (server and app): case, accents, punctuation and
 * spacing do not make two questions different.
 */
export function normaliseQuestion(q: string): string {
  return q
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .slice(0, 1000);
}

/** A cited section's whole text (`GET /api/v1/rag/source`). */
export interface Section {
  readonly path: string;
  readonly heading: string;
  readonly anchor: string;
  readonly text: string;
}

/** A circuit breaker's state (rag/llm.ts): closed passes, open refuses, half-open lets one try. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** An LLM host as logs and status show it. */
export interface HostStatus {
  readonly host: string;
  readonly state: BreakerState;
}

/** Where the vectors are searched: an in-process scan of the database's, or Qdrant (rag/index.ts). */
export type VectorIndexKind = 'database' | 'qdrant';
/** Where the semantic cache keeps its answers (rag/cache.ts). */
export type CacheKind = 'memory' | 'redis';

/** What `GET /api/v1/rag/status` answers: the index, its backends, the LLM hosts (cached 30 s). */
export interface RagStatus {
  readonly state: 'indexing' | 'ready' | 'empty';
  readonly documents: number;
  readonly chunks: number;
  readonly generation: number;
  readonly embedder: string | undefined;
  readonly lastIngestAt: string | undefined;
  readonly lastIngest: unknown;
  readonly backends: {
    readonly database: boolean;
    readonly vectorIndex: { readonly kind: VectorIndexKind; readonly up: boolean };
    readonly cache: { readonly kind: CacheKind; readonly up: boolean };
    readonly llm:
      | { readonly configured: false }
      | {
          readonly configured: true;
          readonly model: string;
          readonly hosts: (HostStatus & { up: boolean })[];
        };
  };
  readonly checkedAt: number;
}
