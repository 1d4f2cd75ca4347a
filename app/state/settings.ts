import { create } from 'zustand';
import { localDb } from '../data/db.ts';
import { msg, type Text } from '../i18n/i18n.ts';

export interface Settings {
  /** A quote not updated for this long is shown as stale. */
  readonly staleAfterSeconds: number;
  /** An order saved offline expires after this long and can then only be discarded. */
  readonly outboxMinutes: number;
  /** Ask before sending from the ticket (Enter then Enter). */
  readonly confirmOrders: boolean;
}

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  staleAfterSeconds: 10,
  outboxMinutes: 10,
  confirmOrders: false,
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
    set({ ...DEFAULT_SETTINGS, ...(row?.value as Partial<Settings> | undefined) });
  },
  async change(patch) {
    const { staleAfterSeconds, outboxMinutes, confirmOrders } = get();
    const before = { staleAfterSeconds, outboxMinutes, confirmOrders };
    const next = { ...before, ...patch };
    set({ ...next, error: undefined });
    try {
      await localDb().settings.put({ key: KEY, value: next });
    } catch (err) {
      set({ ...before, error: msg('settings.notSaved', { reason: (err as Error).message }) });
    }
  },
}));
