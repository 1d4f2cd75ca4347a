import { contentWords, stem } from './text.ts';

// Embeddings: the port, and the embedded default — a lexical embedding. Each text becomes a
// fixed-size vector of hashed features (stemmed words in one half, character 3-grams of the
// words in the other), weighted TF-IDF with the IDF fitted on the corpus, L2-normalised, so a
// dot product is a cosine. It knows no synonyms; the char n-grams catch inflections, plurals
// and compound identifiers (`TAPE_REPLAY_RING` ~ "replay ring").

export interface Embedder {
  /** Names the model: vectors of two different ids are never compared. */
  readonly id: string;
  /** Texts → unit vectors, one per text, in order. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

export const LEXICAL_DIM = 1024;
export const LEXICAL_ID = `lexical-v1/${LEXICAL_DIM}`;
const WORD_BUCKETS = LEXICAL_DIM / 2;

// FNV-1a, 32-bit: cheap and well spread for short strings.
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The hashed features of a text: bucket → signed term count. */
export function features(text: string): Map<number, number> {
  const f = new Map<number, number>();
  const add = (bucket: number, sign: number) => f.set(bucket, (f.get(bucket) ?? 0) + sign);
  const ws = contentWords(text);
  for (const w of ws) {
    const h = fnv1a(stem(w));
    add(h % WORD_BUCKETS, h & 0x80000000 ? -1 : 1);
  }
  for (const w of ws) {
    if (w.length < 3) continue;
    const padded = `^${w}$`;
    for (let i = 0; i + 3 <= padded.length; i++) {
      const h = fnv1a(padded.slice(i, i + 3));
      add(WORD_BUCKETS + (h % WORD_BUCKETS), h & 0x80000000 ? -1 : 1);
    }
  }
  return f;
}

/** IDF per bucket over a corpus: ln((N + 1) / (df + 1)) + 1. */
export function fitIdf(texts: readonly string[]): Float32Array {
  const df = new Float32Array(LEXICAL_DIM);
  for (const t of texts) for (const bucket of features(t).keys()) df[bucket] = (df[bucket] as number) + 1;
  const idf = new Float32Array(LEXICAL_DIM);
  for (let i = 0; i < LEXICAL_DIM; i++) idf[i] = Math.log((texts.length + 1) / ((df[i] as number) + 1)) + 1;
  return idf;
}

export function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  if (n > 0) {
    const k = 1 / Math.sqrt(n);
    for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * k;
  }
  return v;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** The lexical embedder for a fitted IDF (sublinear TF × IDF, signed hashing, L2 norm). */
export function lexicalEmbedder(idf: Float32Array): Embedder {
  if (idf.length !== LEXICAL_DIM) throw new RangeError(`an IDF of ${LEXICAL_DIM} buckets is needed`);
  const one = (text: string) => {
    const v = new Float32Array(LEXICAL_DIM);
    for (const [bucket, count] of features(text)) {
      if (count === 0) continue;
      const tf = 1 + Math.log(Math.abs(count));
      v[bucket] = Math.sign(count) * tf * (idf[bucket] as number);
    }
    return normalise(v);
  };
  return { id: LEXICAL_ID, embed: async (texts) => texts.map(one) };
}

/** Float32 little-endian bytes, as vectors are stored (bytea). */
export const vectorBytes = (v: Float32Array): Buffer => {
  const b = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) b.writeFloatLE(v[i] as number, i * 4);
  return b;
};

export const bytesVector = (b: Uint8Array): Float32Array => {
  const v = new Float32Array(Math.floor(b.byteLength / 4));
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < v.length; i++) v[i] = view.getFloat32(i * 4, true);
  return v;
};
