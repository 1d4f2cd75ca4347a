import type { Scored } from './bm25.ts';

// Reciprocal rank fusion (Cormack et al., 2009): each list votes 1 / (k + rank) for its items.
// Ranks, not scores, so BM25's unbounded scores and cosines in [-1, 1] need no calibration.

export const RRF_K = 60;

export function reciprocalRankFusion(lists: readonly (readonly Scored[])[], k = RRF_K): Scored[] {
  const votes = new Map<string, number>();
  for (const list of lists) {
    list.forEach((item, rank) => {
      votes.set(item.id, (votes.get(item.id) ?? 0) + 1 / (k + rank + 1));
    });
  }
  return [...votes]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}
