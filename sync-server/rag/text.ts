// Terms of a text, the one tokenizer behind BM25, the lexical embedding and the re-ranker:
// lower case, accents folded, stop words dropped, a light English suffix stemmer (so
// "subscribed", "subscribes" and "subscribing" meet).

const STOP = new Set(
  (
    'a an and are as at be been but by can could did do does doing for from had has have how i if in ' +
    'into is it its me my no not of on or our so than that the their them then there these they this ' +
    'those to too up us was we were what when where which while who whom why will with would you your ' +
    'get gets got should shall may might must am any all also about after before over under again ' +
    'just more most other some such only own same very s t don isn'
  ).split(' '),
);

/** A light suffix stemmer: conservative, so unrelated words rarely collide. */
export function stem(w: string): string {
  if (w.length <= 3 || /\d/.test(w)) return w;
  let s = w;
  if (s.endsWith('ies') && s.length > 4) s = `${s.slice(0, -3)}y`;
  else if (s.endsWith('sses')) s = s.slice(0, -2);
  else if (s.endsWith('s') && !s.endsWith('ss') && !s.endsWith('us') && !s.endsWith('is')) s = s.slice(0, -1);
  if (s.endsWith('ing') && s.length > 5) s = undouble(s.slice(0, -3));
  else if (s.endsWith('ed') && s.length > 4) s = undouble(s.slice(0, -2));
  else if (s.endsWith('ly') && s.length > 5) s = s.slice(0, -2);
  if (s.endsWith('e') && s.length > 4) s = s.slice(0, -1);
  return s;
}

const undouble = (s: string) =>
  /([b-df-hj-np-tv-z])\1$/.test(s) && !/(ll|ss|zz)$/.test(s) ? s.slice(0, -1) : s;

/** Raw lower-case words, accents folded, in order. */
export function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0 && w.length <= 40);
}

/** Words that carry meaning: no stop words, no single letters. */
export const contentWords = (text: string): string[] =>
  words(text).filter((w) => !STOP.has(w) && (w.length > 1 || /\d/.test(w)));

/** The indexable terms of a text, in order (positions matter to the re-ranker). */
export const terms = (text: string): string[] => contentWords(text).map(stem);
