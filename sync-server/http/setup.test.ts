import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountJson, BrokerAccountJson, SetupJson } from '../shared/admin.ts';
import { backends, login, startTestServer, type TestServer } from '../testing/server.ts';
import { until } from '../testing/until.ts';

// The first run against the simulator, which reports two accounts at two brokers once routing
// has reached the broker: they become Tape accounts only when the admin imports them, and the
// finished run stays finished across a restart.
describe.each(backends())('first run (%s)', (backend) => {
  let t: TestServer;
  let admin: string;
  const call = async (method: string, path: string, body?: unknown, token = admin) => {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const setup = async () => (await call('GET', '/api/v1/setup')).json as unknown as SetupJson;

  beforeAll(async () => {
    t = await startTestServer(backend);
    admin = await login(t.url);
  });
  afterAll(() => t?.close());

  it('lists what the DLL reports, imports only what the admin picks, and finishes once', async () => {
    const first = await until(
      async () => {
        const s = await setup();
        return s.brokerAccounts !== null ? s : undefined;
      },
      'the DLL to report its accounts',
      15_000,
    );
    expect(first.done).toBe(false);
    expect(first.routing).toBe(true);
    expect(first.accounts).toBe(0);
    expect(first.ownAccount).toBeNull();
    const reported = first.brokerAccounts ?? [];
    expect(new Set(reported.map((a) => a.brokerId)).size).toBeGreaterThanOrEqual(2);
    expect(reported.every((a) => !a.imported && a.brokerName !== '' && a.holder !== '')).toBe(true);
    // Nothing was created by looking.
    expect(((await call('GET', '/api/v1/accounts')).json.accounts as unknown[]).length).toBe(0);

    const [a, b] = reported as [BrokerAccountJson, BrokerAccountJson];
    const unknown = await call('POST', '/api/v1/setup/accounts', {
      accounts: [{ brokerId: a.brokerId, accountId: 'NOT-REPORTED' }],
    });
    expect(unknown).toMatchObject({ status: 422, json: { error: 'unknown_broker_account' } });
    const bad = await call('POST', '/api/v1/setup/accounts', { accounts: [] });
    expect(bad.status).toBe(400);

    const imported = await call('POST', '/api/v1/setup/accounts', {
      accounts: [{ brokerId: a.brokerId, accountId: a.accountId }],
    });
    expect(imported.status).toBe(201);
    expect(imported.json.created).toEqual([a.accountId]);
    const again = await call('POST', '/api/v1/setup/accounts', {
      accounts: [{ brokerId: a.brokerId, accountId: a.accountId }],
    });
    expect(again).toMatchObject({ status: 200, json: { created: [] } });

    const listed = (await call('GET', '/api/v1/accounts')).json.accounts as AccountJson[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      id: a.accountId,
      brokerId: a.brokerId,
      brokerName: a.brokerName,
      holder: a.holder,
      riskSet: false,
      killSwitch: false,
      users: [],
    });
    const after = await setup();
    expect(after.brokerAccounts?.find((x) => x.accountId === a.accountId)?.imported).toBe(true);
    expect(after.brokerAccounts?.find((x) => x.accountId === b.accountId)?.imported).toBe(false);

    // Only an account Tape has can be the admin's own.
    const notImported = await call('POST', '/api/v1/setup/done', { ownAccount: b.accountId });
    expect(notImported).toMatchObject({ status: 422, json: { error: 'unknown_account' } });
    expect((await setup()).done).toBe(false);
    const done = await call('POST', '/api/v1/setup/done', { ownAccount: a.accountId });
    expect(done.status).toBe(200);
    const twice = await call('POST', '/api/v1/setup/done', { ownAccount: null });
    expect(twice).toMatchObject({ status: 409, json: { error: 'setup_done' } });
    expect(await setup()).toMatchObject({ done: true, ownAccount: a.accountId, accounts: 1 });
    const usersOf = (await call('GET', '/api/v1/accounts')).json.accounts as AccountJson[];
    expect(usersOf[0]?.users.map((u) => u.username)).toEqual(['admin']);

    const audit = (await call('GET', '/api/v1/audit')).json;
    const actions = JSON.stringify(audit);
    expect(actions).toContain('account.import');
    expect(actions).toContain('setup.complete');

    // A restart never repeats it.
    t = await t.restart();
    admin = await login(t.url);
    expect((await setup()).done).toBe(true);
  });

  it('is for admins only', async () => {
    const res = await fetch(`${t.url}/api/v1/setup`);
    expect(res.status).toBe(401);
  });
});
