// Markdown → chunks that follow the headings: each section (a heading and the text up to the
// next heading, code fences respected) is one chunk, or several overlapping ones when it is
// long, cut at a paragraph, line, sentence or word boundary. A chunk is an exact slice of the
// source, so every character of the document is in some chunk and a citation can point back.

export interface Chunk {
  readonly path: string;
  /** Position of the chunk in its document, from 0. */
  readonly ordinal: number;
  /** The heading trail, e.g. `Architecture › The path of a tick` ('' before the first heading). */
  readonly heading: string;
  /** The GitHub slug of the section's own heading ('' before the first heading). */
  readonly anchor: string;
  /** `source.slice(start, end)` is `text`. */
  readonly start: number;
  readonly end: number;
  /** The whole section this chunk belongs to. */
  readonly sectionStart: number;
  readonly sectionEnd: number;
  readonly text: string;
}

export interface ChunkOptions {
  /** Longest chunk, in characters. */
  readonly maxChars: number;
  /** Characters a long section's consecutive chunks share. */
  readonly overlapChars: number;
}

export const DEFAULT_CHUNKING: ChunkOptions = Object.freeze({ maxChars: 1200, overlapChars: 200 });

/** Bumped whenever the chunker cuts or names differently: stored chunks are then cut again. */
export const CHUNKER_VERSION = 2;

/** What a stored index records of how it was cut. */
export const chunkingId = (o: ChunkOptions): string =>
  `chunker-v${CHUNKER_VERSION}/${o.maxChars}/${o.overlapChars}`;

export class ChunkOptionsError extends Error {
  override name = 'ChunkOptionsError';
}

interface Section {
  start: number;
  end: number;
  heading: string;
  anchor: string;
  hasBody: boolean;
}

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** Heading text as a reader sees it: links reduced to their text, emphasis markers dropped. */
const plain = (h: string) =>
  h
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_]{1,3}(\S[^*_]*?)[*_]{1,3}/g, '$1')
    .replace(/`/g, '')
    .trim();

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return plain(heading)
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

function sections(source: string): Section[] {
  const out: Section[] = [];
  const trail: { level: number; text: string }[] = [];
  const seen = new Map<string, number>();
  let current: Section = { start: 0, end: source.length, heading: '', anchor: '', hasBody: false };
  let fence: string | undefined;
  let pos = 0;
  while (pos < source.length) {
    const nl = source.indexOf('\n', pos);
    const lineEnd = nl < 0 ? source.length : nl + 1;
    const line = source.slice(pos, nl < 0 ? source.length : nl).replace(/\r$/, '');
    const f = FENCE.exec(line);
    const h = fence ? null : HEADING.exec(line);
    if (f) {
      const marker = f[1] as string;
      if (!fence) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
    }
    if (h) {
      current.end = pos;
      if (current.end > current.start) out.push(current);
      const level = (h[1] as string).length;
      const text = plain(h[2] as string);
      while (trail.length > 0 && (trail.at(-1) as { level: number }).level >= level) trail.pop();
      trail.push({ level, text });
      const base = slug(text);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      current = {
        start: pos,
        end: source.length,
        heading: trail.map((t) => t.text).join(' › '),
        anchor: n === 0 ? base : `${base}-${n}`,
        hasBody: false,
      };
    } else if (line.trim() !== '') current.hasBody = true;
    pos = lineEnd;
  }
  current.end = source.length;
  if (current.end > current.start) out.push(current);
  // A heading with nothing under it (a parent right before its first child) joins the next
  // section, so its words still count and no chunk is a bare heading.
  const merged: Section[] = [];
  for (let i = 0; i < out.length; i++) {
    const s = out[i] as Section;
    const next = out[i + 1];
    if (!s.hasBody && next) next.start = s.start;
    else merged.push(s);
  }
  return merged;
}

// Where to cut a long section: the last good boundary in the second half of the window.
function cutPoint(source: string, from: number, limit: number): number {
  const floor = from + Math.floor((limit - from) / 2);
  for (const sep of ['\n\n', '\n', '. ', ' ']) {
    const at = source.lastIndexOf(sep, limit - sep.length);
    if (at >= floor) return at + sep.length;
  }
  return limit;
}

/** Splits one markdown document; never throws on any input text. */
export function chunkMarkdown(path: string, source: string, opts: ChunkOptions = DEFAULT_CHUNKING): Chunk[] {
  if (!(opts.maxChars >= 16) || !(opts.overlapChars >= 0) || opts.overlapChars > opts.maxChars / 2) {
    throw new ChunkOptionsError('maxChars must be ≥ 16 and overlapChars between 0 and maxChars / 2');
  }
  const chunks: Chunk[] = [];
  for (const s of sections(source)) {
    let from = s.start;
    while (from < s.end) {
      const limit = Math.min(from + opts.maxChars, s.end);
      const end = limit < s.end ? cutPoint(source, from, limit) : limit;
      const text = source.slice(from, end);
      if (text.trim() !== '') {
        chunks.push({
          path,
          ordinal: chunks.length,
          heading: s.heading,
          anchor: s.anchor,
          start: from,
          end,
          sectionStart: s.start,
          sectionEnd: s.end,
          text,
        });
      }
      if (end >= s.end) break;
      // Step back by the overlap, then forward to a word start, always moving on.
      let next = Math.max(end - opts.overlapChars, from + 1);
      const space = source.slice(next, end).search(/\s\S/);
      if (space >= 0) next += space + 1;
      from = next;
    }
  }
  return chunks;
}
