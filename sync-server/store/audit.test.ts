import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditStore, writeAudit } from './audit.ts';
import type { Database } from './db.ts';
import { createTestUser, testBackends } from './testing.ts';

describe.each(testBackends())('AuditStore on $name', (backend) => {
  let db: Database;
  let audit: AuditStore;
  let ana: number;
  let bea: number;

  beforeAll(async () => {
    db = await backend.open();
    audit = new AuditStore(db.sql);
    // Creating users is audited too (user.create, by nobody here).
    ana = await createTestUser(db, 'ana', 'admin');
    bea = await createTestUser(db, 'bea');
    await audit.record({ actorId: ana, action: 'kill_switch.on', target: 'account:A', after: { on: true } });
    await audit.record({ actorId: bea, action: 'order.submit', target: 'order:1', after: { qty: 100 } });
    await audit.record({ actorId: bea, action: 'order.cancel', target: 'order:1' });
    await audit.record({ actorId: ana, action: 'killXswitch.on', target: 'account:A' });
    await audit.record({ actorId: null, action: 'auth.login_refused', target: `user:${bea}` });
  });
  afterAll(() => db?.close());

  const actions = async (q: Parameters<AuditStore['list']>[0]) => (await audit.list(q)).map((e) => e.action);

  it('lists newest first with the actor by username, and null JSON where nothing was given', async () => {
    const [refused, odd, cancel] = await audit.list({ limit: 3 });
    expect(refused).toMatchObject({ actor: null, action: 'auth.login_refused', before: null, after: null });
    expect(odd?.actor).toEqual({ id: ana, username: 'ana' });
    expect(cancel).toMatchObject({ actor: { id: bea, username: 'bea' }, target: 'order:1' });
    expect(Date.parse(cancel?.at as string)).toBeGreaterThan(Date.now() - 60_000);
    expect((refused?.id as number) > (cancel?.id as number)).toBe(true);
  });

  it('filters by actor, exact action or a prefix (taken literally), target and time', async () => {
    expect(await actions({ actor: 'bea', limit: 10 })).toEqual(['order.cancel', 'order.submit']);
    expect(await actions({ actor: 'nobody', limit: 10 })).toEqual([]);
    expect(await actions({ action: 'order.', limit: 10 })).toEqual(['order.cancel', 'order.submit']);
    expect(await actions({ action: 'order.submit', limit: 10 })).toEqual(['order.submit']);
    expect(await actions({ action: 'order', limit: 10 })).toEqual([]);
    // `_` is a letter here, not like's one-character pattern.
    expect(await actions({ action: 'kill_switch.', limit: 10 })).toEqual(['kill_switch.on']);
    expect(await actions({ target: 'account:A', actor: 'ana', limit: 10 })).toEqual([
      'killXswitch.on',
      'kill_switch.on',
    ]);
    const soon = new Date(Date.now() + 60_000).toISOString();
    const before = new Date(Date.now() - 60_000).toISOString();
    expect(await actions({ from: soon, limit: 10 })).toEqual([]);
    expect(await actions({ to: before, limit: 10 })).toEqual([]);
    expect((await actions({ from: before, to: soon, limit: 100 })).length).toBe(7);
  });

  it('pages by id: each entry once', async () => {
    const all = await audit.list({ limit: 100 });
    const seen: number[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = await audit.list({ limit: 2, beforeId });
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.id));
      beforeId = page.at(-1)?.id;
    }
    expect(seen).toEqual(all.map((e) => e.id));
  });

  it('writes inside a transaction: rolled back with it', async () => {
    await db.sql
      .begin(async (tx) => {
        await writeAudit(tx, { actorId: ana, action: 'test.rolled_back', target: 'x' });
        throw new Error('undo');
      })
      .catch(() => {});
    expect(await actions({ action: 'test.', limit: 10 })).toEqual([]);
  });
});
