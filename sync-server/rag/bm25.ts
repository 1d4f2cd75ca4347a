import { terms } from './text.ts';

// Okapi BM25 over the chunks, in memory (rebuilt from the database when the corpus changes).
// A chunk's heading trail counts twice: a question naming a section's subject should find it.

export interface Scored {
  readonly id: string;
  readonly score: number;
}

export interface Bm25Index {
  readonly size: number;
  /** Best first; `allow` filters chunk ids (a search restricted to some documents). */
  search(query: string, k: number, allow?: (id: string) => boolean): Scored[];
  /** The term's inverse document frequency (0 for a term no chunk has). */
  idf(term: string): number;
}

export const BM25_PARAMS = Object.freeze({ k1: 1.2, b: 0.75 });

export function bm25Index(
  docs: readonly { readonly id: string; readonly heading: string; readonly text: string }[],
  params = BM25_PARAMS,
): Bm25Index {
  const postings = new Map<string, { doc: number; tf: number }[]>();
  const lengths = new Float64Array(docs.length);
  docs.forEach((d, doc) => {
    const ts = [...terms(d.heading), ...terms(d.heading), ...terms(d.text)];
    lengths[doc] = ts.length;
    const tf = new Map<string, number>();
    for (const t of ts) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [t, n] of tf) {
      const list = postings.get(t);
      if (list) list.push({ doc, tf: n });
      else postings.set(t, [{ doc, tf: n }]);
    }
  });
  const avgLength = lengths.reduce((a, b) => a + b, 0) / Math.max(1, docs.length);
  const idf = (t: string) => {
    const n = postings.get(t)?.length ?? 0;
    return n === 0 ? 0 : Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
  };
  return {
    size: docs.length,
    idf,
    search(query, k, allow) {
      const scores = new Map<number, number>();
      for (const t of new Set(terms(query))) {
        const w = idf(t);
        for (const { doc, tf } of postings.get(t) ?? []) {
          const norm = params.k1 * (1 - params.b + (params.b * (lengths[doc] as number)) / avgLength);
          scores.set(doc, (scores.get(doc) ?? 0) + (w * tf * (params.k1 + 1)) / (tf + norm));
        }
      }
      return [...scores]
        .map(([doc, score]) => ({ id: (docs[doc] as { id: string }).id, score }))
        .filter((s) => !allow || allow(s.id))
        .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
        .slice(0, k);
    },
  };
}
