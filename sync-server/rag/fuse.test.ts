import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from './fuse.ts';

const list = (...ids: string[]) => ids.map((id, i) => ({ id, score: 100 - i }));

describe('reciprocalRankFusion', () => {
  it('rewards items both lists rank well over items only one ranks first', () => {
    const fused = reciprocalRankFusion([list('x', 'both', 'y'), list('z', 'both', 'w')]);
    expect(fused[0]?.id).toBe('both');
    expect(fused[0]?.score).toBeCloseTo(2 / 62, 10);
    expect(fused.map((f) => f.id).sort()).toEqual(['both', 'w', 'x', 'y', 'z']);
  });

  it('uses ranks, not scores: a list of huge scores does not dominate', () => {
    const big = [
      { id: 'a', score: 1e9 },
      { id: 'b', score: 1e8 },
    ];
    const small = [
      { id: 'b', score: 0.2 },
      { id: 'a', score: 0.1 },
    ];
    const fused = reciprocalRankFusion([big, small]);
    expect(fused[0]?.score).toBeCloseTo(fused[1]?.score as number, 12);
  });

  it('passes a single list through in order, and an empty one as empty', () => {
    expect(reciprocalRankFusion([list('a', 'b', 'c')]).map((f) => f.id)).toEqual(['a', 'b', 'c']);
    expect(reciprocalRankFusion([[], []])).toEqual([]);
  });
});
