import { type BrokerFlowJson, emptyFlow, foldFlow } from '../../sync-server/shared/flow.ts';
import { b3Day, type Trade } from '../../sync-server/shared/market.ts';

// The broker flow of a ticker on the app: it starts from the server's answer for the session
// (GET /api/v1/market/flow, through a seq) and the ticker's tape adds every trade after that seq
// with the same fold (shared/flow.ts), each trade counted once. Without the server's answer (a
// server that has not the route: 404) it counts from the first trade the tape holds.

/** Where a flow's count starts: the server's session, or the first trade this app received. */
export type FlowSource = 'session' | 'opened';

export interface LiveFlow {
  readonly flow: BrokerFlowJson;
  readonly source: FlowSource;
  /** Source 'opened': the exchange time of the first trade counted, once there is one. */
  readonly from?: number;
}

/** What a flow reads of the ticker's tape (state/tradeRing.ts). */
export interface FlowTape {
  /** Every trade after a seq, oldest first; undefined when the tape does not hold them all. */
  after(seq: number): Trade[] | undefined;
  /** The oldest trade of the run the tape holds without a hole. */
  runFirst(): Trade | undefined;
}

/**
 * The flow with every trade the tape has after it; undefined when the tape misses some of them
 * (a hole in the feed, or more trades than it keeps): the flow must start again.
 */
export function catchUp(live: LiveFlow, tape: FlowTape | undefined): LiveFlow | undefined {
  const trades = tape ? tape.after(live.flow.throughSeq) : [];
  if (!trades) return undefined;
  const flow = foldFlow(live.flow, trades);
  if (flow === live.flow) return live;
  const first = trades.find((t) => t.ticker === flow.ticker && t.seq > live.flow.throughSeq);
  return {
    ...live,
    flow,
    ...(live.source === 'opened' && live.from === undefined ? { from: first?.time } : {}),
  };
}

/**
 * A flow counted by this app alone: from the oldest trade of the tape's run, or, with none yet,
 * from the trade after `lastSeq` (the quote's, what the snapshot said) on.
 */
export function openedFlow(
  ticker: string,
  tape: FlowTape | undefined,
  lastSeq: number | undefined,
  now: number,
): LiveFlow {
  const first = tape?.runFirst();
  const flow = first
    ? emptyFlow(ticker, b3Day(first.time), first.seq - 1)
    : emptyFlow(ticker, b3Day(now), lastSeq ?? 0);
  return { flow, source: 'opened' };
}

/** The flow as last folded per ticker, kept while its panel is closed: it goes on from the tape. */
export const keptFlows = new Map<string, LiveFlow>();
