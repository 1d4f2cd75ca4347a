import { describe, expect, it } from 'vitest';
import { formatDuration, progressBar } from './progress.ts';

const sink = (isTTY: boolean) => {
  const writes: string[] = [];
  return { writes, out: { isTTY, columns: 120, write: (s: string) => writes.push(s) } };
};

describe('progressBar', () => {
  it('on a terminal, redraws one line with a bar, counts and an ETA', () => {
    let t = 0;
    const { writes, out } = sink(true);
    const p = progressBar(out, { now: () => t, redrawMs: 0 });
    p.start(4, 'files');
    t = 1000;
    p.tick('docs/a.md');
    expect(writes.at(-1)).toBe('\r\x1b[2K[######------------------] 1/4 files 25% ETA 3s docs/a.md');
    t = 2000;
    p.tick();
    p.tick();
    p.tick();
    expect(writes.at(-1)).toContain('4/4 files 100%');
    p.finish('done: 4 files');
    expect(writes.at(-1)).toBe('\r\x1b[2Kdone: 4 files\n');
    expect(writes.every((w) => !w.includes('\n') || w.endsWith('done: 4 files\n'))).toBe(true);
  });

  it('elsewhere, prints plain lines, at most one per interval, always the last', () => {
    let t = 0;
    const { writes, out } = sink(false);
    const p = progressBar(out, { now: () => t, lineMs: 2000 });
    p.start(100, 'files');
    for (let i = 0; i < 100; i++) {
      t += 100;
      p.tick();
    }
    expect(writes[0]).toBe('0/100 files 0%\n');
    expect(writes).toHaveLength(1 + 5); // every 2 s over 10 s, the last included
    expect(writes.at(-1)).toBe('100/100 files 100%\n');
    expect(writes.some((w) => w.includes('\r') || w.includes('\x1b'))).toBe(false);
  });

  it('formats durations', () => {
    expect(formatDuration(400)).toBe('0s');
    expect(formatDuration(61_000)).toBe('1m01s');
  });
});
