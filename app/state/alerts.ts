import { create } from 'zustand';
import type { Text } from '../i18n/i18n.ts';

export interface Alert {
  readonly id: number;
  readonly level: 'info' | 'warn' | 'error';
  /** Said in the language of the moment it is shown (i18n.ts say). */
  readonly text: Text;
  readonly at: number;
}

interface AlertState {
  alerts: Alert[];
  push(level: Alert['level'], text: Text): void;
  dismiss(id: number): void;
}

const KEEP = 50;
let nextId = 1;

/** What the trader must notice: fills, rejections, outbox verdicts. Newest first, the last 50. */
export const useAlerts = create<AlertState>((set) => ({
  alerts: [],
  push: (level, text) =>
    set((s) => ({ alerts: [{ id: nextId++, level, text, at: Date.now() }, ...s.alerts].slice(0, KEEP) })),
  dismiss: (id) => set((s) => ({ alerts: s.alerts.filter((a) => a.id !== id) })),
}));
