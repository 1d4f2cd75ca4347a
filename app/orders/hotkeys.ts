import type { PlainId } from '../i18n/i18n.ts';

// The trading hotkeys that act on the selected ticker or the whole account from anywhere on the
// desk (not while typing in a field): flatten, reverse, cancel. Each can be rebound under
// Settings → Shortcuts; a combination is written as the shortcuts panel shows it ("Shift+Z").

export const HOTKEY_ACTIONS = ['flatten', 'reverse', 'flattenAll', 'cancelTicker', 'cancelAll'] as const;
export type HotkeyAction = (typeof HOTKEY_ACTIONS)[number];
export type Hotkeys = Readonly<Record<HotkeyAction, string>>;

export const DEFAULT_HOTKEYS: Hotkeys = Object.freeze({
  flatten: 'Shift+Z',
  reverse: 'Shift+I',
  flattenAll: 'Alt+Shift+Z',
  cancelTicker: 'Shift+X',
  cancelAll: 'Alt+Shift+X',
});

export const HOTKEY_WORDS: Readonly<Record<HotkeyAction, PlainId>> = {
  flatten: 'hotkey.flatten',
  reverse: 'hotkey.reverse',
  flattenAll: 'hotkey.flattenAll',
  cancelTicker: 'hotkey.cancelTicker',
  cancelAll: 'hotkey.cancelAll',
};

const MODIFIERS = new Set(['Shift', 'Control', 'Alt', 'Meta', 'AltGraph', 'CapsLock']);

/**
 * A key press as a combination ("Ctrl+Alt+Shift+Z"), by the key's place on the keyboard for
 * letters and digits (the same on ABNT2 and US layouts, Shift or not); undefined for a lone
 * modifier.
 */
export function comboOf(e: {
  key: string;
  code: string;
  ctrlKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  metaKey: boolean;
}): string | undefined {
  if (MODIFIERS.has(e.key)) return undefined;
  const key = /^Key[A-Z]$/.test(e.code)
    ? e.code.slice(3)
    : /^Digit[0-9]$/.test(e.code)
      ? e.code.slice(5)
      : e.key.length === 1
        ? e.key.toUpperCase()
        : e.key;
  return [e.ctrlKey && 'Ctrl', e.metaKey && 'Meta', e.altKey && 'Alt', e.shiftKey && 'Shift', key]
    .filter(Boolean)
    .join('+');
}

/** The action bound to a combination, if any. */
export function actionFor(hotkeys: Hotkeys, combo: string): HotkeyAction | undefined {
  return HOTKEY_ACTIONS.find((a) => hotkeys[a] === combo);
}

/** Actions that share a combination with another (a rebinding that would make a key ambiguous). */
export function clashes(hotkeys: Hotkeys): HotkeyAction[] {
  return HOTKEY_ACTIONS.filter((a) => HOTKEY_ACTIONS.some((b) => b !== a && hotkeys[b] === hotkeys[a]));
}

/** Where a key press is typing, not a command. */
export const isTyping = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
