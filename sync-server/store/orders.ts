import type { NewOrder, OrderRow, StateChange } from '../orders/model.ts';
import type { CostSchedule, FillRow, OrderEventRow, OrderState, OrderType } from '../shared/orders.ts';
import { writeAudit } from './audit.ts';
import type { Sql } from './db.ts';

type RawOrder = {
  id: string;
  account_id: string;
  user_id: string | null;
  origin: 'tape' | 'external';
  client_order_id: string;
  request_hash: string;
  ticker: string;
  exchange: string;
  side: 'buy' | 'sell';
  type: OrderType;
  qty: number;
  price: number | null;
  stop_price: number | null;
  triggered_at: Date | null;
  state: OrderState;
  filled_qty: number;
  avg_fill_price: number | null;
  local_order_id: string | null;
  reject_reason: string | null;
  created_at: Date;
  updated_at: Date;
};

const toOrder = (r: RawOrder): OrderRow => ({
  id: Number(r.id),
  accountId: r.account_id,
  userId: r.user_id === null ? null : Number(r.user_id),
  origin: r.origin,
  clientOrderId: r.client_order_id,
  requestHash: r.request_hash,
  ticker: r.ticker,
  exchange: r.exchange,
  side: r.side,
  type: r.type,
  qty: r.qty,
  price: r.price,
  stopPrice: r.stop_price,
  triggeredAt: r.triggered_at?.toISOString() ?? null,
  state: r.state,
  filledQty: r.filled_qty,
  avgFillPrice: r.avg_fill_price,
  localOrderId: r.local_order_id === null ? null : BigInt(r.local_order_id),
  rejectReason: r.reject_reason,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

const TERMINAL = ['filled', 'canceled', 'rejected', 'expired'];

/** Orders, their events and fills, accounts and risk configs. */
export class OrderStore {
  constructor(private readonly sql: Sql) {}

  /**
   * Creates the account; an account of that id that already exists is left as it is.
   * Returns the account as stored and whether this call created it.
   */
  async createAccount(
    id: string,
    brokerId: number,
    name: string,
    /** Who creates it: a new account is audited (account.create) as theirs; null for none. */
    actorId: number | null,
  ): Promise<{ created: boolean; brokerId: number; name: string }> {
    const created = await this.sql.begin(async (tx) => {
      const [inserted] = await tx<{ id: string }[]>`
        insert into accounts (id, broker_id, name) values (${id}, ${brokerId}, ${name})
        on conflict (id) do nothing returning id`;
      if (inserted)
        await writeAudit(tx, {
          actorId,
          action: 'account.create',
          target: `account:${id}`,
          after: { brokerId, name },
        });
      return inserted !== undefined;
    });
    if (created) return { created: true, brokerId, name };
    const [row] = await this.sql<
      { broker_id: number; name: string }[]
    >`select broker_id, name from accounts where id = ${id}`;
    return { created: false, brokerId: row?.broker_id as number, name: row?.name as string };
  }

  /** The account's broker id, or undefined when no such account exists. */
  async brokerOf(accountId: string): Promise<number | undefined> {
    const [row] = await this.sql<
      { broker_id: number }[]
    >`select broker_id from accounts where id = ${accountId}`;
    return row?.broker_id;
  }

  async accountIds(): Promise<string[]> {
    const rows = await this.sql<{ id: string }[]>`select id from accounts order by id`;
    return rows.map((r) => r.id);
  }

  async recordPositionDifference(
    accountId: string,
    ticker: string,
    tape: { qty: number; averagePrice: number | null },
    broker: { qty: number; averagePrice: number | null },
  ): Promise<void> {
    const agreed = tape.qty === broker.qty;
    await writeAudit(this.sql, {
      actorId: null,
      action: agreed ? 'position.agreed' : 'position.difference',
      target: `account:${accountId}:${ticker}`,
      before: tape,
      after: broker,
    });
  }

  async accountOf(userId: number): Promise<string | undefined> {
    const [row] = await this.sql<
      { account_id: string | null }[]
    >`select account_id from users where id = ${userId}`;
    return row?.account_id ?? undefined;
  }

  /**
   * Writes a new order in pending_new, or returns the existing one with the same
   * (account, clientOrderId): `created` tells which. Never two rows for one client id.
   */
  async insertPending(o: NewOrder): Promise<{ order: OrderRow; created: boolean }> {
    // One statement: the row and its first event commit together, in one round trip.
    const [row] = await this.sql<RawOrder[]>`
      with o as (
        insert into orders (account_id, user_id, client_order_id, request_hash, ticker, exchange, side, type, qty, price,
                            stop_price, state, origin)
        values (${o.accountId}, ${o.userId}, ${o.clientOrderId}, ${o.requestHash}, ${o.ticker}, ${o.exchange},
                ${o.side}, ${o.type}, ${o.qty}, ${o.price}, ${o.stopPrice ?? null}, 'pending_new', ${o.origin ?? 'tape'})
        on conflict (account_id, client_order_id) do nothing
        returning *
      ), e as (
        insert into order_events (order_id, event, from_state, to_state, detail)
        select id, 'submitted', null, 'pending_new', ${this.sql.json(
          o.stopPrice == null
            ? { qty: o.qty, price: o.price }
            : { qty: o.qty, price: o.price, stopPrice: o.stopPrice },
        )} from o
      )
      select * from o`;
    if (row) return { order: toOrder(row), created: true };
    const existing = await this.byClientId(o.accountId, o.clientOrderId);
    if (!existing) throw new Error(`order ${o.clientOrderId} vanished after a conflict`);
    return { order: existing, created: false };
  }

  async setLocalId(orderId: number, localOrderId: bigint): Promise<OrderRow> {
    const [row] = await this.sql<RawOrder[]>`
      update orders set local_order_id = ${localOrderId.toString()}, updated_at = now() where id = ${orderId}
      returning *`;
    if (!row) throw new Error(`order ${orderId} does not exist`);
    return toOrder(row);
  }

  /**
   * Applies a state change if the order is still in `from` (and at `fromFilledQty`, when given),
   * so concurrent changes cannot both apply, and records the event and the fill, in one statement; undefined when the state had moved.
   */
  async transition(orderId: number, c: StateChange): Promise<OrderRow | undefined> {
    const fill = c.fill ?? null;
    const [row] = await this.sql<RawOrder[]>`
      with o as (
        update orders set state = ${c.to},
          filled_qty = coalesce(${c.filledQty ?? null}::int, filled_qty),
          avg_fill_price = coalesce(${c.avgFillPrice ?? null}::float8, avg_fill_price),
          reject_reason = coalesce(${c.rejectReason ?? null}::text, reject_reason),
          qty = coalesce(${c.qty ?? null}::int, qty),
          price = coalesce(${c.price ?? null}::float8, price),
          stop_price = coalesce(${c.stopPrice ?? null}::float8, stop_price),
          triggered_at = case when ${c.triggered === true} then now() else triggered_at end,
          updated_at = now()
        where id = ${orderId} and state = ${c.from}
          and (${c.fromFilledQty ?? null}::int is null or filled_qty = ${c.fromFilledQty ?? null}::int)
        returning *
      ), e as (
        insert into order_events (order_id, event, from_state, to_state, detail)
        select id, ${c.event}, ${c.from}, ${c.to}, ${this.sql.json((c.detail ?? {}) as Record<string, never>)} from o
      ), f as (
        insert into fills (order_id, account_id, ticker, exchange, side, qty, price)
        select id, account_id, ticker, exchange, side, ${fill?.qty ?? 0}::int, ${fill?.price ?? 0}::float8
        from o where ${fill !== null}
      )
      select * from o`;
    return row && toOrder(row);
  }

  async byId(id: number): Promise<OrderRow | undefined> {
    const [row] = await this.sql<RawOrder[]>`select * from orders where id = ${id}`;
    return row && toOrder(row);
  }

  async byClientId(accountId: string, clientOrderId: string): Promise<OrderRow | undefined> {
    const [row] = await this.sql<RawOrder[]>`
      select * from orders where account_id = ${accountId} and client_order_id = ${clientOrderId}`;
    return row && toOrder(row);
  }

  async byLocalId(localOrderId: bigint): Promise<OrderRow | undefined> {
    const [row] = await this.sql<
      RawOrder[]
    >`select * from orders where local_order_id = ${localOrderId.toString()}`;
    return row && toOrder(row);
  }

  /** Which of these DLL local ids some order already carries. */
  async knownLocalIds(ids: readonly bigint[]): Promise<bigint[]> {
    if (ids.length === 0) return [];
    const rows = await this.sql<{ local_order_id: string }[]>`
      select local_order_id::text from orders where local_order_id = any(${ids.map(String)}::bigint[])`;
    return rows.map((r) => BigInt(r.local_order_id));
  }

  async list(
    accountId: string,
    opts: { working?: boolean; limit: number; beforeId?: number },
  ): Promise<OrderRow[]> {
    const rows = await this.sql<RawOrder[]>`select * from orders
      where account_id = ${accountId}
        and (${!opts.working} or state <> all(${TERMINAL}))
        and (${opts.beforeId ?? null}::bigint is null or id < ${opts.beforeId ?? null})
      order by id desc limit ${opts.limit}`;
    return rows.map(toOrder);
  }

  /** Orders of every account that are not terminal: what start-up reconciles. */
  async allWorking(): Promise<OrderRow[]> {
    const rows = await this.sql<RawOrder[]>`select * from orders where state <> all(${TERMINAL}) order by id`;
    return rows.map(toOrder);
  }

  /** What the order's rejection said (its `rejected` event's message), when it says. */
  async rejectionMessage(orderId: number): Promise<string | undefined> {
    const [row] = await this.sql<{ message: string | null }[]>`
      select detail->>'message' as message from order_events
      where order_id = ${orderId} and event = 'rejected' order by id desc limit 1`;
    return row?.message ?? undefined;
  }

  async events(orderId: number): Promise<OrderEventRow[]> {
    const rows = await this.sql<
      {
        id: string;
        order_id: string;
        event: string;
        from_state: string | null;
        to_state: string;
        detail: unknown;
        at: Date;
      }[]
    >`select * from order_events where order_id = ${orderId} order by id`;
    return rows.map((r) => ({
      id: Number(r.id),
      orderId: Number(r.order_id),
      event: r.event,
      fromState: r.from_state,
      toState: r.to_state,
      detail: r.detail,
      at: r.at.toISOString(),
    }));
  }

  /** Fills in the order they happened; with `latest`, only the last that many. */
  async fills(accountId?: string, latest?: number): Promise<FillRow[]> {
    const rows = await this.sql<
      {
        id: string;
        order_id: string;
        account_id: string;
        ticker: string;
        exchange: string;
        side: 'buy' | 'sell';
        qty: number;
        price: number;
        at: Date;
        origin: 'tape' | 'external';
      }[]
    >`select f.*, o.origin from (select * from fills
        where (${accountId ?? null}::text is null or account_id = ${accountId ?? null})
        order by id desc limit ${latest ?? null}) f join orders o on o.id = f.order_id order by f.id`;
    return rows.map((r) => ({
      id: Number(r.id),
      orderId: Number(r.order_id),
      accountId: r.account_id,
      ticker: r.ticker,
      exchange: r.exchange,
      side: r.side,
      qty: r.qty,
      price: r.price,
      at: r.at.toISOString(),
      external: r.origin === 'external',
    }));
  }

  async riskConfig(accountId: string): Promise<unknown | undefined> {
    const [row] = await this.sql<
      { config: unknown }[]
    >`select config from risk_configs where account_id = ${accountId}`;
    return row?.config;
  }

  /**
   * Writes the account's risk config as `change` makes it from the stored one (undefined when
   * there is none), with the audit entry of the change, together, under the row's lock:
   * concurrent changes (limits, kill switch) apply in turn and neither undoes the other.
   */
  async setRiskConfig(
    accountId: string,
    change: (before: Record<string, unknown> | undefined) => Record<string, unknown>,
    actorId: number,
    action = 'risk_config.update',
  ): Promise<void> {
    await this.sql.begin(async (tx) => {
      const [before] = await tx<
        { config: Record<string, unknown> }[]
      >`select config from risk_configs where account_id = ${accountId} for update`;
      const config = change(before?.config);
      await tx`insert into risk_configs (account_id, config, updated_by) values (${accountId}, ${tx.json(config as Record<string, never>)}, ${actorId})
        on conflict (account_id) do update set config = excluded.config, updated_by = excluded.updated_by, updated_at = now()`;
      await writeAudit(tx, {
        actorId,
        action,
        target: `account:${accountId}`,
        before: before?.config,
        after: config,
      });
    });
  }

  /** Every account's cost schedules, oldest first, with when each took effect. */
  async costSchedules(
    accountId?: string,
  ): Promise<{ accountId: string; from: number; schedule: CostSchedule }[]> {
    const rows = await this.sql<{ account_id: string; schedule: CostSchedule; effective_from: Date }[]>`
      select account_id, schedule, effective_from from cost_schedules
      where ${accountId ?? null}::text is null or account_id = ${accountId ?? null}
      order by effective_from, id`;
    return rows.map((r) => ({
      accountId: r.account_id,
      from: r.effective_from.getTime(),
      schedule: r.schedule,
    }));
  }

  /**
   * Stores the account's new cost schedule, in effect from `from` (ms since the epoch, the
   * server's clock, which stamps live fills too), with its audit entry, together.
   */
  async setCostSchedule(
    accountId: string,
    schedule: CostSchedule,
    from: number,
    actorId: number,
  ): Promise<void> {
    await this.sql.begin(async (tx) => {
      const [before] = await tx<{ schedule: CostSchedule }[]>`
        select schedule from cost_schedules where account_id = ${accountId}
        order by effective_from desc, id desc limit 1`;
      await tx`
        insert into cost_schedules (account_id, schedule, effective_from, updated_by)
        values (${accountId}, ${tx.json(schedule as unknown as Record<string, never>)}, ${new Date(from)}, ${actorId})`;
      await writeAudit(tx, {
        actorId,
        action: 'cost_schedule.update',
        target: `account:${accountId}`,
        before: before?.schedule,
        after: schedule,
      });
    });
  }
}
