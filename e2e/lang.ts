import type { BrowserContext } from '@playwright/test';
import { en, pt } from '../app/i18n/messages.ts';

// The interface's language in e2e: the specs read English (tape.lang=en in every context they
// open, storage set before the first page loads); language.spec.ts and the Portuguese phone run
// start without it, as a new device does, and read the catalogue's Portuguese.

export type Words = typeof en;
export const WORDS = { en, pt } as const satisfies Record<string, Words>;
export type Lang = keyof typeof WORDS;

/** A context's storage state with `tape.lang` set to `lang` for the origin of `baseURL`. */
export const langState = (baseURL: string, lang: Lang = 'en') => ({
  cookies: [],
  origins: [{ origin: new URL(baseURL).origin, localStorage: [{ name: 'tape.lang', value: lang }] }],
});

/**
 * English for a context opened without storage state (a persistent profile, as an installed app
 * runs): set before each page's scripts, so before the app reads it.
 */
export const inEnglish = (context: BrowserContext) =>
  context.addInitScript(() => localStorage.setItem('tape.lang', 'en'));
