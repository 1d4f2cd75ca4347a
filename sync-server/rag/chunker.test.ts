import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkOptionsError, chunkMarkdown, slug } from './chunker.ts';

const DOC = `# Operating Tape

Intro line.

## Settings

Every setting comes from the environment.

### Ports

One port.

\`\`\`sh
# not a heading inside a fence
npm start
\`\`\`

## Settings

A second section with the same title.
`;

describe('chunkMarkdown', () => {
  it('follows the headings, with trails and GitHub anchors, ignoring # in code fences', () => {
    const chunks = chunkMarkdown('docs/ops.md', DOC);
    expect(chunks.map((c) => [c.heading, c.anchor])).toEqual([
      ['Operating Tape', 'operating-tape'],
      ['Operating Tape › Settings', 'settings'],
      ['Operating Tape › Settings › Ports', 'ports'],
      ['Operating Tape › Settings', 'settings-1'],
    ]);
    expect(chunks[2]?.text).toContain('# not a heading inside a fence');
    for (const c of chunks) expect(DOC.slice(c.start, c.end)).toBe(c.text);
  });

  it('gives a heading with nothing under it to the section that follows', () => {
    const chunks = chunkMarkdown('a.md', '# Title\n## Child\nbody\n');
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatchObject({
      heading: 'Title › Child',
      anchor: 'child',
      text: '# Title\n## Child\nbody\n',
    });
  });

  it('cuts a long section at paragraph boundaries with overlap', () => {
    const para = (n: number) => `Paragraph ${n} ${'word '.repeat(30).trim()}.`;
    const body = `## Long\n\n${Array.from({ length: 12 }, (_, i) => para(i)).join('\n\n')}\n`;
    const chunks = chunkMarkdown('a.md', body, { maxChars: 400, overlapChars: 80 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const [i, c] of chunks.entries()) {
      expect(c.text.length).toBeLessThanOrEqual(400);
      expect(c.anchor).toBe('long');
      const next = chunks[i + 1];
      if (next) {
        expect(next.start).toBeLessThan(c.end); // overlap
        expect(next.start).toBeGreaterThan(c.start);
      }
    }
    expect(chunks[0]?.text.endsWith('\n\n')).toBe(true);
  });

  it('slugs like GitHub', () => {
    expect(slug('The `/ws` protocol')).toBe('the-ws-protocol');
    expect(slug('Health, readiness, metrics')).toBe('health-readiness-metrics');
    expect(slug('[Link](x.md) and *emphasis*')).toBe('link-and-emphasis');
    expect(slug('Embedded vs production')).toBe('embedded-vs-production');
  });

  it('refuses options that could not make progress', () => {
    expect(() => chunkMarkdown('a.md', 'x', { maxChars: 10, overlapChars: 0 })).toThrow(ChunkOptionsError);
    expect(() => chunkMarkdown('a.md', 'x', { maxChars: 100, overlapChars: 60 })).toThrow(ChunkOptionsError);
  });

  it('on any text: never throws, covers every non-blank character, keeps every chunk within bounds', () => {
    const markdownish = fc
      .array(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.constantFrom('# ', '## ', '\n', '\n\n', '```\n', '~~~\n', '. ', ' ', '#'.repeat(7)),
          fc.string({ unit: fc.constantFrom('a', ' ', '\n', '#', '`'), maxLength: 200 }),
        ),
        { maxLength: 40 },
      )
      .map((xs) => xs.join(''));
    fc.assert(
      fc.property(markdownish, fc.integer({ min: 16, max: 500 }), fc.nat(), (text, maxChars, o) => {
        const overlapChars = o % (Math.floor(maxChars / 2) + 1);
        const chunks = chunkMarkdown('p.md', text, { maxChars, overlapChars });
        const covered = new Uint8Array(text.length);
        for (const [i, c] of chunks.entries()) {
          expect(c.ordinal).toBe(i);
          expect(c.end - c.start).toBeLessThanOrEqual(maxChars);
          expect(c.end).toBeGreaterThan(c.start);
          expect(text.slice(c.start, c.end)).toBe(c.text);
          expect(c.start).toBeGreaterThanOrEqual(c.sectionStart);
          expect(c.end).toBeLessThanOrEqual(c.sectionEnd);
          covered.fill(1, c.start, c.end);
        }
        for (let i = 0; i < text.length; i++) if (!/\s/.test(text[i] as string)) expect(covered[i]).toBe(1);
      }),
      { numRuns: 300 },
    );
  });
});
