import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewOrder } from '../orders/model.ts';
import { AuditStore } from './audit.ts';
import type { Database } from './db.ts';
import { OrderStore } from './orders.ts';
import { createTestUser, testBackends } from './testing.ts';

describe.each(testBackends())('OrderStore on $name', (backend) => {
  let db: Database;
  let store: OrderStore;
  let userId: number;
  const order = (clientOrderId: string, patch: Partial<NewOrder> = {}): NewOrder => ({
    accountId: 'ACC-1',
    userId,
    clientOrderId,
    requestHash: 'h1',
    ticker: 'PETR4',
    exchange: 'B',
    side: 'buy',
    type: 'limit',
    qty: 200,
    price: 38.5,
    ...patch,
  });
  beforeAll(async () => {
    db = await backend.open();
    store = new OrderStore(db.sql);
    userId = await createTestUser(db, 'tina');
    await store.createAccount('ACC-1', 1, 'Desk one', null);
    await db.sql`update users set account_id = 'ACC-1' where id = ${userId}`;
  });
  afterAll(() => db?.close());

  it('writes one row per (account, clientOrderId), even under concurrent submits', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => store.insertPending(order('c-1'))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
    const [row] = await db.sql<
      { n: string }[]
    >`select count(*) as n from orders where client_order_id = 'c-1'`;
    expect(Number(row?.n)).toBe(1);
    expect(await store.accountOf(userId)).toBe('ACC-1');
  });

  it('applies a state change only from the expected state, with its event and fill, atomically', async () => {
    const { order: o } = await store.insertPending(order('c-2'));
    await store.setLocalId(o.id, 9_000_000_001n);
    expect((await store.byLocalId(9_000_000_001n))?.id).toBe(o.id);
    const a = await store.transition(o.id, { event: 'accepted', from: 'pending_new', to: 'new' });
    expect(a?.state).toBe('new');
    // A second change that assumes the old state is refused, not applied twice.
    expect(
      await store.transition(o.id, { event: 'accepted', from: 'pending_new', to: 'new' }),
    ).toBeUndefined();
    const f = await store.transition(o.id, {
      event: 'partial_fill',
      from: 'new',
      to: 'partially_filled',
      filledQty: 100,
      avgFillPrice: 38.5,
      fill: { qty: 100, price: 38.5 },
    });
    expect(f).toMatchObject({ state: 'partially_filled', filledQty: 100, avgFillPrice: 38.5 });
    expect((await store.events(o.id)).map((e) => `${e.fromState}->${e.toState}`)).toEqual([
      'null->pending_new',
      'pending_new->new',
      'new->partially_filled',
    ]);
    expect((await store.fills('ACC-1')).map((x) => [x.orderId, x.qty, x.price])).toEqual([[o.id, 100, 38.5]]);
    await expect(
      store.transition(o.id, { event: 'fill', from: 'partially_filled', to: 'filled', filledQty: 999 }),
    ).rejects.toThrow();
    expect((await store.byId(o.id))?.state).toBe('partially_filled');
  });

  it('lists working orders and keeps risk configs with an audit trail', async () => {
    const working = await store.list('ACC-1', { working: true, limit: 10 });
    expect(working.every((o) => !['filled', 'canceled', 'rejected', 'expired'].includes(o.state))).toBe(true);
    expect((await store.allWorking()).length).toBe(working.length);
    await store.setRiskConfig('ACC-1', () => ({ maxOrderQty: 100 }), userId);
    await store.setRiskConfig('ACC-1', () => ({ maxOrderQty: 200 }), userId);
    expect(await store.riskConfig('ACC-1')).toEqual({ maxOrderQty: 200 });
    const audit = await new AuditStore(db.sql).list({ target: 'account:ACC-1', limit: 10 });
    expect(audit.map((a) => [a.action, a.before, a.after])).toEqual([
      ['risk_config.update', { maxOrderQty: 100 }, { maxOrderQty: 200 }],
      ['risk_config.update', null, { maxOrderQty: 100 }],
      ['account.create', null, { brokerId: 1, name: 'Desk one' }],
    ]);
  });

  it('applies concurrent risk-config changes in turn: new limits never release a kill switch', async () => {
    for (let i = 0; i < 5; i++) {
      await Promise.all([
        store.setRiskConfig('ACC-1', (before) => ({ ...before, killSwitch: true }), userId),
        store.setRiskConfig(
          'ACC-1',
          (before) => ({ maxOrderQty: 300 + i, killSwitch: Boolean(before?.killSwitch) }),
          userId,
        ),
      ]);
      expect(await store.riskConfig('ACC-1')).toEqual({ maxOrderQty: 300 + i, killSwitch: true });
      await store.setRiskConfig('ACC-1', () => ({ maxOrderQty: 200 }), userId);
    }
  });
});
