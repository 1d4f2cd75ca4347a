import { create } from 'zustand';
import type { AgentJson } from '../../sync-server/shared/market.ts';

// The brokers ("agentes") trades name by their B3 code, as the /ws `agents` messages tell them:
// every one named so far when the socket connects, then each newly named one. Times & Trades and
// the broker flow show a broker by its short name; a code never named shows as its number.

interface AgentsState {
  /** By B3 code. A new Map on each change, so a selector sees the change. */
  byId: ReadonlyMap<number, AgentJson>;
  add(agents: readonly AgentJson[]): void;
}

export const useAgents = create<AgentsState>((set) => ({
  byId: new Map(),
  add: (agents) =>
    set((s) => {
      const changed = agents.filter((a) => {
        const known = s.byId.get(a.id);
        return known?.short !== a.short || known.name !== a.name;
      });
      if (changed.length === 0) return s;
      const byId = new Map(s.byId);
      for (const a of changed) byId.set(a.id, a);
      return { byId };
    }),
}));

/** The broker's short name ("XP"), or its code when the DLL never named it. */
export const agentLabel = (byId: ReadonlyMap<number, AgentJson>, id: number) =>
  byId.get(id)?.short ?? String(id);
