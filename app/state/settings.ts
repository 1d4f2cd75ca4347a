import { create } from 'zustand';
import { localDb } from '../data/db.ts';
import { msg, type Text } from '../i18n/i18n.ts';
import { DEFAULT_HOTKEYS, type Hotkeys } from '../orders/hotkeys.ts';

export interface Settings {
  /** A quote not updated for this long is shown as stale. */
  readonly staleAfterSeconds: number;
  /** An order saved offline expires after this long and can then only be discarded. */
  readonly outboxMinutes: number;
  /** Ask before sending from the ticket (Enter then Enter). */
  readonly confirmOrders: boolean;
  /** Ask before flattening (zerar) a ticker or the account, restating what will be sent. */
  readonly confirmFlatten: boolean;
  /** Ask before reversing (inverter) a position. */
  readonly confirmReverse: boolean;
  /** The trading hotkeys' combinations (orders/hotkeys.ts). */
  readonly hotkeys: Hotkeys;
  /** A sound when one of the user's price or order alerts fires while Tape is open. */
  readonly alertSound: boolean;
}

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  staleAfterSeconds: 10,
  outboxMinutes: 10,
  confirmOrders: false,
  confirmFlatten: true,
  confirmReverse: true,
  hotkeys: DEFAULT_HOTKEYS,
  alertSound: true,
});

interface SettingsState extends Settings {
  /** Applies at once; rolled back, with the reason, if the device cannot store it. */
  change(patch: Partial<Settings>): Promise<void>;
  load(): Promise<void>;
  error: Text | undefined;
}

const KEY = 'settings';

export const useSettings = create<SettingsState>((set, get) => ({
  ...DEFAULT_SETTINGS,
  error: undefined,
  async load() {
    const row = await localDb().settings.get(KEY);
    const stored = row?.value as Partial<Settings> | undefined;
    // A hotkey added after the device stored its own gets its default.
    set({ ...DEFAULT_SETTINGS, ...stored, hotkeys: { ...DEFAULT_HOTKEYS, ...stored?.hotkeys } });
  },
  async change(patch) {
    const s = get();
    const before: Settings = Object.fromEntries(
      (Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]).map((k) => [k, s[k]]),
    ) as unknown as Settings;
    const next = { ...before, ...patch };
    set({ ...next, error: undefined });
    try {
      await localDb().settings.put({ key: KEY, value: next });
    } catch (err) {
      set({ ...before, error: msg('settings.notSaved', { reason: (err as Error).message }) });
    }
  },
}));
