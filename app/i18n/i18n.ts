import { useMemo } from 'react';
import { create } from 'zustand';
import { b3Time, quantity } from '../format.ts';
import { type Entry, en, type MessageId, type Plural, pt } from './messages.ts';

// The interface's language: Portuguese unless the device was set to English on Settings. Kept in
// localStorage (device-wide, read before sign-in, so the Login screen follows it too); a change
// re-renders every component that took `useT()`, no reload.

export const LANGS = ['pt', 'en'] as const;
export type Lang = (typeof LANGS)[number];
export const LANG_KEY = 'tape.lang';
/** What `<html lang>` says for each language. */
export const HTML_LANG: Record<Lang, string> = { pt: 'pt-BR', en: 'en' };

const TABLES: Record<Lang, Readonly<Record<MessageId, Entry>>> = { pt, en };

const stored = (): Lang => {
  const v = typeof localStorage === 'undefined' ? null : localStorage.getItem(LANG_KEY);
  return v === 'en' ? 'en' : 'pt';
};

const showLang = (lang: Lang) => {
  if (typeof document !== 'undefined') document.documentElement.lang = HTML_LANG[lang];
};

export const useLang = create<{ lang: Lang }>(() => ({ lang: stored() }));
showLang(useLang.getState().lang);

export function setLang(lang: Lang): void {
  if (typeof localStorage !== 'undefined') localStorage.setItem(LANG_KEY, lang);
  showLang(lang);
  useLang.setState({ lang });
}

// The placeholders of a message, `{name}`, as a type: t's second argument names each of them.
type Vars<S> = S extends `${string}{${infer P}}${infer R}` ? P | Vars<R> : never;
type EntryVars<E> = E extends Plural ? Vars<E['one']> | Vars<E['other']> | 'count' : Vars<E>;
/** A placeholder's value: a number (written as is), or a text said in the same language. */
export type Value = number | Text;
export type Params<K extends MessageId> = {
  readonly [P in EntryVars<(typeof pt)[K]>]: P extends 'count' ? number : Value;
};
/** No second argument for a message without placeholders; the right ones for one with. */
export type Args<K extends MessageId> = [EntryVars<(typeof pt)[K]>] extends [never] ? [] : [Params<K>];

/** The ids of messages without placeholders: what a table of labels names. */
export type PlainId = { [K in MessageId]: Args<K> extends [] ? K : never }[MessageId];

/** A message to be said later, in whatever language is chosen then (alerts, verdicts, notices). */
export interface Message {
  readonly id: MessageId;
  readonly params?: Readonly<Record<string, Value>> | undefined;
}
/**
 * A server's refusal (an ApiError, a reject reason): its code said in Portuguese when the
 * catalogue has `refusal.<code>`; in English, and for a code it lacks, the server's own words.
 */
export interface Refusal {
  readonly code: string;
  readonly message: string;
}
/** What a store keeps to show: a message, a refusal, or text as it came. */
export type Text = string | Message | Refusal;

export const msg = <K extends MessageId>(id: K, ...args: Args<K>): Message => ({ id, params: args[0] });

// Zero takes the plural in Brazilian usage ("0 ordens"), though CLDR files it with one.
const form = (p: Plural, n: number, lang: Lang) =>
  n !== 0 && new Intl.PluralRules(HTML_LANG[lang]).select(n) === 'one' ? p.one : p.other;

function render(lang: Lang, id: MessageId, params: Readonly<Record<string, Value>> | undefined): string {
  const entry = TABLES[lang][id];
  const count = params?.count;
  const text = typeof entry === 'string' ? entry : form(entry, typeof count === 'number' ? count : 0, lang);
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name];
    if (v === undefined) return whole;
    if (typeof v === 'object') return sayIn(lang, v);
    // A plural's count is a quantity as B3 writes it ("1.234 negócios"); other numbers as they are.
    return name === 'count' && typeof v === 'number' && typeof entry !== 'string' ? quantity(v) : String(v);
  });
}

/** A message in the current language. Components take `useT()`, so a change of language redraws them. */
export function t<K extends MessageId>(id: K, ...args: Args<K>): string {
  return render(useLang.getState().lang, id, args[0]);
}

/** Whether the catalogue has `id`: for ids made from a server's word (a state, a code). */
export const isMessageId = (id: string): id is MessageId => Object.hasOwn(pt, id);

const refusalId = (code: string) => {
  const id = `refusal.${code}`;
  return isMessageId(id) ? id : undefined;
};

function sayIn(lang: Lang, text: Text): string {
  if (typeof text === 'string') return text;
  if ('id' in text) return render(lang, text.id, text.params);
  const id = refusalId(text.code);
  return id && (lang === 'pt' || text.message === '') ? render(lang, id, undefined) : text.message;
}

/** A stored text in the current language. */
export const say = (text: Text): string => sayIn(useLang.getState().lang, text);

/** What went wrong, for the screen: a server's (or the client's) named refusal through `say`. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? say({ code, message: err.message }) : err.message;
}

/** `t`, and a redraw of the calling component when the language changes. */
export function useT(): typeof t {
  const lang = useLang((s) => s.lang);
  // A new function per language: memoised children given `t` draw again too.
  return useMemo(() => ((...a: Parameters<typeof t>) => t(...a)) as typeof t, [lang]);
}

/** "de 10:32 (há 5 min)": the stamp on anything shown from the device's cache. */
export function age(ms: number, now = Date.now()): string {
  const mins = Math.floor((now - ms) / 60_000);
  const ago =
    mins < 1
      ? t('time.justNow')
      : mins < 60
        ? t('time.minutesAgo', { n: mins })
        : t('time.hoursAgo', { n: Math.floor(mins / 60) });
  return t('time.asOf', { time: b3Time(ms), ago });
}
