import type { Bracket, BracketPatch, BracketRepository, NewBracket } from '../orders/brackets.ts';
import type { BracketState } from '../shared/orders.ts';
import type { Sql } from './db.ts';

// OCO brackets as stored (migration 014): what each protects and which orders are its legs.

type RawBracket = {
  id: string;
  account_id: string;
  user_id: string;
  client_id: string;
  ticker: string;
  side: 'long' | 'short';
  qty: number;
  take_profit: number;
  stop_price: number;
  stop_limit: number;
  entry_order_id: string | null;
  tp_order_id: string | null;
  sl_order_id: string | null;
  state: BracketState;
  reason: string | null;
  created_at: Date;
  updated_at: Date;
};

const num = (v: string | null) => (v === null ? null : Number(v));
const toBracket = (r: RawBracket): Bracket => ({
  id: Number(r.id),
  accountId: r.account_id,
  userId: Number(r.user_id),
  clientId: r.client_id,
  ticker: r.ticker,
  side: r.side,
  qty: r.qty,
  takeProfit: r.take_profit,
  stopPrice: r.stop_price,
  stopLimit: r.stop_limit,
  entryOrderId: num(r.entry_order_id),
  takeProfitOrderId: num(r.tp_order_id),
  stopLossOrderId: num(r.sl_order_id),
  state: r.state,
  reason: r.reason,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export class BracketStore implements BracketRepository {
  constructor(private readonly sql: Sql) {}

  /** Writes the bracket, or returns the one of that (account, clientId): `created` tells which. */
  async insert(b: NewBracket): Promise<{ bracket: Bracket; created: boolean }> {
    const [row] = await this.sql<RawBracket[]>`
      insert into brackets (account_id, user_id, client_id, ticker, side, qty, take_profit, stop_price,
                            stop_limit, entry_order_id, state)
      values (${b.accountId}, ${b.userId}, ${b.clientId}, ${b.ticker}, ${b.side}, ${b.qty}, ${b.takeProfit},
              ${b.stopPrice}, ${b.stopLimit}, ${b.entryOrderId}, ${b.state})
      on conflict (account_id, client_id) do nothing
      returning *`;
    if (row) return { bracket: toBracket(row), created: true };
    const existing = await this.byClientId(b.accountId, b.clientId);
    if (!existing) throw new Error(`bracket ${b.clientId} vanished after a conflict`);
    return { bracket: existing, created: false };
  }

  async update(id: number, p: BracketPatch): Promise<Bracket> {
    const [row] = await this.sql<RawBracket[]>`
      update brackets set
        qty = coalesce(${p.qty ?? null}::int, qty),
        tp_order_id = coalesce(${p.takeProfitOrderId ?? null}::bigint, tp_order_id),
        sl_order_id = coalesce(${p.stopLossOrderId ?? null}::bigint, sl_order_id),
        entry_order_id = coalesce(${p.entryOrderId ?? null}::bigint, entry_order_id),
        state = coalesce(${p.state ?? null}::text, state),
        reason = coalesce(${p.reason ?? null}::text, reason),
        updated_at = now()
      where id = ${id} returning *`;
    if (!row) throw new Error(`bracket ${id} does not exist`);
    return toBracket(row);
  }

  async byId(id: number): Promise<Bracket | undefined> {
    const [row] = await this.sql<RawBracket[]>`select * from brackets where id = ${id}`;
    return row && toBracket(row);
  }

  async byClientId(accountId: string, clientId: string): Promise<Bracket | undefined> {
    const [row] = await this.sql<RawBracket[]>`
      select * from brackets where account_id = ${accountId} and client_id = ${clientId}`;
    return row && toBracket(row);
  }

  async list(accountId: string, opts: { open?: boolean; limit: number }): Promise<Bracket[]> {
    const rows = await this.sql<RawBracket[]>`select * from brackets
      where account_id = ${accountId} and (${!opts.open} or state in ('pending', 'active'))
      order by id desc limit ${opts.limit}`;
    return rows.map(toBracket);
  }

  /** Every open bracket of every account: what start-up resolves. */
  async allOpen(): Promise<Bracket[]> {
    const rows = await this.sql<RawBracket[]>`
      select * from brackets where state in ('pending', 'active') order by id`;
    return rows.map(toBracket);
  }
}
