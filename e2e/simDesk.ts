import { expect } from '@playwright/test';
import { b3Now } from '../sync-server/testing/market.ts';
import { login, startTestServer, type TestServer } from '../sync-server/testing/server.ts';
import { PASSWORD } from './desk.ts';

// A desk whose server runs in the spec's own process (its simulator library with it), so the spec
// prints the trades itself through SimInjectTrade, the way the server tests do; the market model
// is still (rate 0), so only those trades print. One account, SIM-0001, with one trader.

export interface SimDesk {
  readonly t: TestServer;
  readonly url: string;
  sim(): NonNullable<TestServer['server']['connector']['sim']>;
  /** Prints a PETR4 trade and waits until the server has it as the last trade. */
  print(price: number): Promise<void>;
  /** An admin's REST call that must succeed. */
  call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function simDesk(
  port: number,
  trader: string,
  env: Record<string, string> = {},
): Promise<SimDesk> {
  const t = await startTestServer('pglite', { TAPE_PORT: String(port), TAPE_STATIC_DIR: 'dist', ...env });
  const sim = () => t.server.connector.sim as NonNullable<TestServer['server']['connector']['sim']>;
  sim().setRate(0);
  sim().resetOrders();
  const admin = await login(t.url);
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${t.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(r.ok, `${method} ${path}: ${r.status}`).toBe(true);
    return (await r.json()) as Record<string, unknown>;
  };
  await call('POST', '/api/v1/accounts', { id: 'SIM-0001', brokerId: 1982, name: 'SIM-0001' });
  const { user } = (await call('POST', '/api/v1/users', {
    username: trader,
    password: PASSWORD,
    role: 'trader',
  })) as { user: { userId: number } };
  await call('PUT', `/api/v1/users/${user.userId}/account`, { accountId: 'SIM-0001' });
  await expect.poll(() => t.server.orders?.isReady, { message: 'orders reconciled' }).toBe(true);
  let tradeNumber = 100;
  const print = async (price: number) => {
    const n = ++tradeNumber;
    sim().injectTrade({ ticker: 'PETR4', exchange: 'B', date: b3Now(), price, qty: 100, tradeNumber: n });
    await expect.poll(() => t.server.market.quote('PETR4')?.tradeNumber, { message: `trade ${n}` }).toBe(n);
  };
  await print(38.5);
  return {
    t,
    url: t.url,
    sim,
    print,
    call,
    async close() {
      t.server.connector.sim?.resetOrders();
      await t.close();
    },
  };
}
