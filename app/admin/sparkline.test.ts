import { describe, expect, it } from 'vitest';
import { sparkline } from './sparkline.ts';

describe('sparkline', () => {
  it('maps time to x and value to y, the lowest at the bottom and the highest at the top', () => {
    const s = sparkline(
      [
        [100, 0],
        [110, 10],
        [120, 5],
      ],
      104,
      24,
      2,
    );
    expect(s.d).toBe('M2 22 L52 2 L102 12');
    expect(s.last).toEqual({ x: 102, y: 12 });
    expect([s.min, s.max]).toEqual([0, 10]);
  });

  it('spaces points by their time, not their index', () => {
    const s = sparkline(
      [
        [0, 1],
        [90, 2],
        [100, 3],
      ],
      20,
      10,
      0,
    );
    expect(s.d).toBe('M0 10 L18 5 L20 0');
  });

  it('draws a flat series through the middle', () => {
    expect(
      sparkline(
        [
          [0, 7],
          [10, 7],
        ],
        50,
        20,
      ).d,
    ).toBe('M2 10 L48 10');
  });

  it('draws one point at the right edge, and nothing for no points', () => {
    expect(sparkline([[5, 3]], 50, 20).d).toBe('M48 10');
    expect(sparkline([], 50, 20)).toEqual({ d: '', last: undefined, min: 0, max: 0 });
  });

  it('leaves out points that are not numbers rather than drawing NaN', () => {
    const s = sparkline(
      [
        [0, 1],
        [5, Number.NaN],
        [10, Number.POSITIVE_INFINITY],
        [10, 3],
      ],
      10,
      10,
      0,
    );
    expect(s.d).toBe('M0 10 L10 0');
    expect(s.d).not.toMatch(/NaN|Infinity/);
  });

  it('keeps one decimal so the path stays short', () => {
    const s = sparkline(
      [
        [0, 0],
        [3, 1],
        [7, 0],
      ],
      10,
      10,
      0,
    );
    expect(s.d).toBe('M0 10 L4.3 0 L10 10');
  });
});
