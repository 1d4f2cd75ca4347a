import {
  type AnswerEvent,
  type AnswerMode,
  answerReader,
  type Citation,
  normaliseQuestion,
} from '../../sync-server/shared/assistant.ts';
import { ApiError, api } from '../api/client.ts';
import { localDb } from '../data/db.ts';
import { useSession } from '../state/session.ts';

// The assistant's client: a short-lived rag:query token minted with the session's token, the
// question POSTed, the NDJSON answer read as it streams (shared/assistant.ts), and each complete
// answer kept on the device for reading offline.

export interface Answer {
  readonly question: string;
  readonly mode: AnswerMode | undefined;
  readonly citations: readonly Citation[];
  readonly text: string;
  readonly done: boolean;
  /** The server answered from its semantic cache (when it first made it). */
  readonly cachedAt?: number | undefined;
  /** Why the answer stopped short, or the stream was not readable. */
  readonly error?: string | undefined;
  /** Shown from the device (offline): when it was saved. */
  readonly savedAt?: number | undefined;
}

export const emptyAnswer = (question: string): Answer => ({
  question,
  mode: undefined,
  citations: [],
  text: '',
  done: false,
});

/** Folds one streamed event into the answer shown. */
export function applyEvent(a: Answer, e: AnswerEvent): Answer {
  switch (e.type) {
    case 'meta':
      return { ...a, mode: e.mode, citations: e.citations, cachedAt: e.cached ? e.cachedAt : undefined };
    case 'delta':
      return { ...a, text: a.text + e.text };
    case 'done':
      return { ...a, done: true, error: e.error };
  }
}

/**
 * Reads an NDJSON answer body, calling `onEvent` per event; bytes may be cut anywhere (even
 * inside a character). Lines that are not events are skipped; returns how many there were.
 */
export async function readAnswer(
  body: ReadableStream<Uint8Array>,
  onEvent: (e: AnswerEvent) => void,
): Promise<number> {
  const reader = body.getReader();
  const text = new TextDecoder();
  const lines = answerReader();
  let invalid = 0;
  const emit = (xs: ReturnType<typeof lines.push>) => {
    for (const x of xs) {
      if (x.type === 'invalid') invalid++;
      else onEvent(x);
    }
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    emit(lines.push(text.decode(value, { stream: true })));
  }
  emit(lines.push(text.decode()));
  emit(lines.end());
  return invalid;
}

let token: { value: string; until: number; user: string } | undefined;

// A rag:query token, reused until a little before it expires (and never across users).
async function ragToken(fresh: boolean): Promise<string> {
  const user = useSession.getState().user?.username ?? '';
  if (!fresh && token && token.user === user && Date.now() < token.until) return token.value;
  const r = await api<{ token: string; expiresIn: number }>('/api/v1/rag/token', { method: 'POST' });
  token = { value: r.token, until: Date.now() + (r.expiresIn - 30) * 1000, user };
  return r.token;
}

const offline = () => new ApiError(0, 'offline', 'The server cannot be reached: check your connection');

/** Asks the server; `onEvent` sees the answer as it streams. Throws ApiError before the first event. */
export async function ask(
  question: string,
  onEvent: (e: AnswerEvent) => void,
  signal?: AbortSignal,
  retry = true,
): Promise<void> {
  const bearer = await ragToken(!retry);
  let res: Response;
  try {
    res = await fetch('/api/v1/rag/query', {
      method: 'POST',
      headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ question }),
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw offline();
  }
  if (res.status === 401 && retry) return ask(question, onEvent, signal, false);
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
    throw new ApiError(res.status, body.error ?? 'http_error', body.message ?? `HTTP ${res.status}`);
  }
  try {
    await readAnswer(res.body, onEvent);
  } catch (err) {
    if (signal?.aborted) throw err;
    onEvent({ type: 'done', error: DROPPED });
  }
}

/** The error of an answer cut off on the way: said in the interface's language where it shows. */
export const DROPPED = 'The connection dropped mid-answer: ask again';

/** Keeps a complete answer on the device, keyed by the normalised question. */
export async function saveAnswer(a: Answer): Promise<void> {
  if (!a.done || a.error || !a.mode) return;
  await localDb().answers.put({
    key: normaliseQuestion(a.question),
    question: a.question,
    answer: { mode: a.mode, citations: a.citations, text: a.text },
    at: Date.now(),
  });
}

/** The answer kept on the device for this question (offline reading), if any. */
export async function savedAnswer(question: string): Promise<Answer | undefined> {
  const row = await localDb().answers.get(normaliseQuestion(question));
  if (!row) return undefined;
  const a = row.answer as { mode: AnswerMode; citations: Citation[]; text: string };
  return { ...emptyAnswer(row.question), ...a, done: true, savedAt: row.at };
}

/** The latest questions kept on the device, newest first. */
export async function recentQuestions(limit = 8): Promise<{ question: string; at: number }[]> {
  const rows = await localDb().answers.orderBy('at').reverse().limit(limit).toArray();
  return rows.map((r) => ({ question: r.question, at: r.at }));
}
