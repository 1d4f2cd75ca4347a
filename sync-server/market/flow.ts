import { type BrokerFlowJson, foldFlow } from '../shared/flow.ts';
import type { Trade } from '../shared/market.ts';

// The broker flow of a ticker's session as a client starts it: what is stored, then what the
// replay ring holds past it (trades fanned out but not written yet), so the answer reaches the
// live edge and a client that subscribed before asking misses nothing and counts nothing twice.

export interface FlowSources {
  readonly stored: (ticker: string, at: number) => Promise<BrokerFlowJson>;
  readonly since: (ticker: string, after: number) => Trade[] | undefined;
}

export async function sessionFlow(ticker: string, at: number, from: FlowSources): Promise<BrokerFlowJson> {
  const stored = await from.stored(ticker, at);
  return foldFlow(stored, from.since(ticker, stored.throughSeq) ?? []);
}
