import { create } from 'zustand';
import { localDb } from '../data/db.ts';
import { msg, type Text } from '../i18n/i18n.ts';
import { DEFAULT_WORKSPACE, normalize, type Workspace } from './model.ts';

// The trader's arrangement of the Trade screen, kept in this user's database on this device, so it
// is there offline and on the next start, and another user of the device has their own.

const KEY = 'workspace';

interface WorkspaceState {
  workspace: Workspace;
  /** Arranging: each panel shows its move, hide and size controls. */
  arranging: boolean;
  error: Text | undefined;
  load(): Promise<void>;
  /** Applies at once and stores it; a store that fails says so and keeps the change for the session. */
  change(update: (ws: Workspace) => Workspace): Promise<void>;
  reset(): Promise<void>;
  setArranging(on: boolean): void;
}

export const useWorkspace = create<WorkspaceState>((set, get) => ({
  workspace: DEFAULT_WORKSPACE,
  arranging: false,
  error: undefined,
  async load() {
    const row = await localDb().settings.get(KEY);
    set({ workspace: normalize(row?.value ?? DEFAULT_WORKSPACE) });
  },
  async change(update) {
    const next = update(get().workspace);
    if (next === get().workspace) return;
    set({ workspace: next, error: undefined });
    try {
      await localDb().settings.put({ key: KEY, value: next });
    } catch (err) {
      set({ error: msg('ws.notSaved', { reason: (err as Error).message }) });
    }
  },
  reset: () => get().change(() => DEFAULT_WORKSPACE),
  setArranging: (arranging) => set({ arranging }),
}));
