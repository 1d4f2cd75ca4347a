import { type ChatMessage, type Passage, rankMessages } from './answer.ts';
import { terms } from './text.ts';

// Second-stage ordering of the fused candidates. Lexical (the embedded default): how much of
// the question's weight the passage and its heading cover, how close together the matched
// terms sit, and the fused rank as a prior. With an LLM: one JSON ranking call; anything it
// gets wrong (bad JSON, unknown numbers, a failure) falls back to the lexical order.

export interface Reranker {
  readonly kind: 'lexical' | 'llm';
  rerank(question: string, passages: readonly Passage[]): Promise<Passage[]>;
}

// Picked on bench/rag-eval.json (proximity mattered most); see docs/assistant.md.
const WEIGHTS = Object.freeze({ coverage: 0.3, heading: 0.2, proximity: 0.3, prior: 0.3 });

// The shortest run of positions that holds the most distinct query terms: (found - 1) / span.
function proximity(positions: readonly { term: string; at: number }[]): { found: number; tightness: number } {
  const sorted = [...positions].sort((a, b) => a.at - b.at);
  const distinct = new Set(sorted.map((p) => p.term)).size;
  if (distinct < 2) return { found: distinct, tightness: 0 };
  const inWindow = new Map<string, number>();
  let best = Number.POSITIVE_INFINITY;
  let left = 0;
  for (const p of sorted) {
    inWindow.set(p.term, (inWindow.get(p.term) ?? 0) + 1);
    while (inWindow.size === distinct) {
      const l = sorted[left] as { term: string; at: number };
      best = Math.min(best, p.at - l.at);
      const n = (inWindow.get(l.term) as number) - 1;
      if (n === 0) inWindow.delete(l.term);
      else inWindow.set(l.term, n);
      left++;
    }
  }
  return { found: distinct, tightness: (distinct - 1) / Math.max(best, distinct - 1) };
}

export function lexicalScore(question: string, p: Passage, idf: (t: string) => number): number {
  const asked = [...new Set(terms(question))];
  if (asked.length === 0) return 0;
  const weight = (t: string) => Math.max(idf(t), 0.1);
  const total = asked.reduce((s, t) => s + weight(t), 0);
  const body = terms(p.text);
  const heading = new Set(terms(p.heading));
  const inBody = new Set(body);
  let covered = 0;
  let headed = 0;
  for (const t of asked) {
    if (inBody.has(t) || heading.has(t)) covered += weight(t);
    if (heading.has(t)) headed += weight(t);
  }
  const wanted = new Set(asked);
  const { found, tightness } = proximity(
    body.flatMap((term, at) => (wanted.has(term) ? [{ term, at }] : [])),
  );
  return (
    WEIGHTS.coverage * (covered / total) +
    WEIGHTS.heading * (headed / total) +
    WEIGHTS.proximity * tightness * (found / asked.length)
  );
}

export function lexicalReranker(idf: (t: string) => number): Reranker {
  return {
    kind: 'lexical',
    async rerank(question, passages) {
      const n = passages.length;
      return passages
        .map((p, rank) => ({ p, s: lexicalScore(question, p, idf) + WEIGHTS.prior * (1 - rank / n) }))
        .sort((a, b) => b.s - a.s)
        .map((x) => x.p);
    },
  };
}

/** Reads `{"ranking": [3, 1, …]}`; unknown or repeated numbers are dropped, missing ones appended. */
export function parseRanking(reply: string, n: number): number[] | undefined {
  const json = /\{[\s\S]*\}/.exec(reply)?.[0];
  if (!json) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  const list = (parsed as { ranking?: unknown }).ranking;
  if (!Array.isArray(list)) return undefined;
  const order: number[] = [];
  for (const x of list)
    if (Number.isInteger(x) && x >= 1 && x <= n && !order.includes(x - 1)) order.push(x - 1);
  if (order.length === 0) return undefined;
  for (let i = 0; i < n; i++) if (!order.includes(i)) order.push(i);
  return order;
}

/** Ranks with the LLM (`ask` sends the messages and returns the reply), else with `fallback`. */
export function llmReranker(
  ask: (messages: ChatMessage[]) => Promise<string>,
  fallback: Reranker,
  onFallback: (reason: string) => void = () => {},
): Reranker {
  return {
    kind: 'llm',
    async rerank(question, passages) {
      const lexical = await fallback.rerank(question, passages);
      if (passages.length < 2) return lexical;
      try {
        const order = parseRanking(await ask(rankMessages(question, lexical)), lexical.length);
        if (order) return order.map((i) => lexical[i] as Passage);
        onFallback('the ranking reply was not the JSON asked for');
      } catch (err) {
        onFallback((err as Error).message);
      }
      return lexical;
    },
  };
}
