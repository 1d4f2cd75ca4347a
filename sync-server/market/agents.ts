import type { NewDeadLetter } from '../deadLetters/queue.ts';
import type { AgentJson, ServerMessage, Trade } from '../shared/market.ts';

// The brokers ("agentes") behind trades, by their B3 codes: each code is looked up in the DLL
// once (GetAgentNameLength/GetAgentName), the first time a trade names it, and the names go to
// clients once, not with every trade: the whole directory when a socket connects, each newly
// named broker to every socket as it comes. A code the DLL does not know stays a number.

/** Where names come from (the binding's ProfitConnector.agentName). */
export interface AgentNames {
  agentName(agentId: number, short: boolean): string | undefined;
}

/** The topic every /ws session joins for newly named brokers. */
export const AGENTS_TOPIC = 'agents';

export class AgentDirectory {
  /** Every code seen: its names, or null when the DLL does not know it (asked once). */
  private readonly known = new Map<number, AgentJson | null>();

  constructor(
    private readonly names: AgentNames,
    /** Sends a message to every /ws session (uWS publish on AGENTS_TOPIC). */
    private readonly publish: (message: string) => void,
    private readonly deadLetter: (letter: NewDeadLetter) => void,
  ) {}

  /** Names the brokers of these trades not seen before, and tells clients of the new ones. */
  learn(trades: readonly Pick<Trade, 'buyAgent' | 'sellAgent'>[]): void {
    // Every trade batch passes here: a code seen before costs one map look-up, no allocation.
    const fresh: AgentJson[] = [];
    const see = (id: number) => {
      if (this.known.has(id)) return;
      const agent = this.lookUp(id);
      this.known.set(id, agent);
      if (agent) fresh.push(agent);
    };
    for (const t of trades) {
      see(t.buyAgent);
      see(t.sellAgent);
    }
    if (fresh.length > 0)
      this.publish(JSON.stringify({ type: 'agents', agents: fresh } satisfies ServerMessage));
  }

  /** Every broker named so far, by code. */
  all(): AgentJson[] {
    return [...this.known.values()].filter((a): a is AgentJson => a !== null).sort((a, b) => a.id - b.id);
  }

  private lookUp(id: number): AgentJson | null {
    try {
      const short = this.names.agentName(id, true);
      const name = this.names.agentName(id, false);
      if (short === undefined && name === undefined) return null;
      return { id, short: short ?? name ?? String(id), name: name ?? short ?? String(id) };
    } catch (err) {
      // A DLL error about one code (a malformed name): that code stays a number, the trade goes on.
      this.deadLetter({
        source: 'profitdll.agent',
        reason: 'invalid_agent',
        detail: `agent ${id}: ${(err as Error).message}`,
        payload: { agentId: id },
      });
      return null;
    }
  }
}
