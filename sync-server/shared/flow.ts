import { b3Day, type Trade } from './market.ts';

// The broker flow ("fluxo de players") of one ticker's B3 session: per broker, what it bought and
// sold. The server answers the session so far from its stored trades (GET /api/v1/market/flow),
// through a seq; the app adds the live trades after that seq with the same fold, so a trade is
// counted once whichever way it came.

export interface BrokerFlowRow {
  /** The broker's B3 code (a trade's buyAgent/sellAgent; names come in `agents` messages). */
  readonly agent: number;
  readonly bought: number;
  readonly sold: number;
  /** Trades it took part in (once when it was on both sides). */
  readonly trades: number;
}

export interface BrokerFlowJson {
  readonly ticker: string;
  /** The B3 session day (days since the epoch in Brasília time, shared/market.ts b3Day). */
  readonly day: number;
  /** The last trade counted: later ones are added by the fold, earlier ones never again. */
  readonly throughSeq: number;
  /** By agent code, ascending. */
  readonly brokers: readonly BrokerFlowRow[];
}

export const netOf = (r: BrokerFlowRow) => r.bought - r.sold;

/** An empty flow of the ticker's session on `day`. */
export const emptyFlow = (ticker: string, day: number, throughSeq = 0): BrokerFlowJson => ({
  ticker,
  day,
  throughSeq,
  brokers: [],
});

/**
 * The flow with these trades of its ticker added: those at or below `throughSeq` are already in
 * it and skipped; a trade of a later session day starts the flow again from that trade.
 */
export function foldFlow(flow: BrokerFlowJson, trades: readonly Trade[]): BrokerFlowJson {
  let day = flow.day;
  let through = flow.throughSeq;
  const rows = new Map(flow.brokers.map((r) => [r.agent, { ...r }]));
  const row = (agent: number) => {
    let r = rows.get(agent);
    if (!r) {
      r = { agent, bought: 0, sold: 0, trades: 0 };
      rows.set(agent, r);
    }
    return r;
  };
  for (const t of trades) {
    if (t.ticker !== flow.ticker || t.seq <= through) continue;
    const tradeDay = b3Day(t.time);
    if (tradeDay < day) continue;
    if (tradeDay > day) {
      rows.clear();
      day = tradeDay;
    }
    through = t.seq;
    const buyer = row(t.buyAgent);
    buyer.bought += t.qty;
    buyer.trades++;
    const seller = row(t.sellAgent);
    seller.sold += t.qty;
    if (seller !== buyer) seller.trades++;
  }
  if (through === flow.throughSeq) return flow;
  return {
    ticker: flow.ticker,
    day,
    throughSeq: through,
    brokers: [...rows.values()].sort((a, b) => a.agent - b.agent),
  };
}
