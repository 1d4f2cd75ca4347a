// A series as a small SVG path: time along x, value up y, inside a box with a margin so the
// stroke is not clipped. No chart library: the Health screen draws five of these.

export type Point = readonly [t: number, value: number];

export interface Spark {
  /** The path's `d`, empty when there is nothing to draw. */
  readonly d: string;
  /** Where the last point is drawn (a dot marks "now"). */
  readonly last: { readonly x: number; readonly y: number } | undefined;
  readonly min: number;
  readonly max: number;
}

const round = (v: number) => Math.round(v * 10) / 10;

/**
 * The points in `width` x `height`, `pad` inside each edge. Non-finite points are left out; a
 * flat series is drawn through the middle; one point is a dot at the right edge.
 */
export function sparkline(points: readonly Point[], width: number, height: number, pad = 2): Spark {
  const shown = points.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v));
  const first = shown[0];
  const end = shown.at(-1);
  if (!first || !end) return { d: '', last: undefined, min: 0, max: 0 };
  let min = first[1];
  let max = first[1];
  for (const [, v] of shown) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const t0 = first[0];
  const span = end[0] - t0;
  const x = (t: number) => round(span > 0 ? pad + ((t - t0) / span) * (width - 2 * pad) : width - pad);
  const y = (v: number) =>
    round(max > min ? height - pad - ((v - min) / (max - min)) * (height - 2 * pad) : height / 2);
  const d = shown.map(([t, v], i) => `${i === 0 ? 'M' : 'L'}${x(t)} ${y(v)}`).join(' ');
  return { d, last: { x: x(end[0]), y: y(end[1]) }, min, max };
}
