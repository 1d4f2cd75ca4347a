import { afterEach, describe, expect, it } from 'vitest';
import { NL } from './errors.ts';
import { defaultLibraryPaths, ProfitConnector } from './profitdll.ts';
import { dllCode as codeOf, collect, connectSimulator } from './testkit.ts';

// The login's trading accounts through the real binding: GetAccountCount, GetAccounts and
// GetAccountDetails of the simulator, which knows two accounts at two brokers once routing has
// reached the broker, and TAccountCallback reporting the same two.

let connector: ProfitConnector | undefined;
afterEach(() => {
  connector?.finalize();
  connector = undefined;
});

describe('accounts', () => {
  it('are the two the DLL reports once routing reached the broker, with broker and holder', async () => {
    const { connector: c, events } = await connectSimulator({ routing: true });
    connector = c;
    const accounts = c.accounts();
    expect(accounts).toEqual([
      {
        brokerId: 1982,
        brokerName: 'Corretora Simulada',
        accountId: 'SIM-0001',
        subAccountId: '',
        holder: 'Tape Simulator',
        enabled: true,
      },
      {
        brokerId: 308,
        brokerName: 'Clear Simulada',
        accountId: 'SIM-0002',
        subAccountId: '',
        holder: 'Tape Simulator',
        enabled: true,
      },
    ]);
    // TAccountCallback names the same accounts, on the ConnectorThread.
    const more = await collect(
      c,
      (ev) => [...events, ...ev].filter((e) => e.kind === 'account').length >= 2,
      'two account callbacks',
    );
    const fromCallback = [...events, ...more]
      .flatMap((e) => (e.kind === 'account' ? [`${e.brokerId}/${e.accountId}/${e.holder}`] : []))
      .sort();
    expect(fromCallback).toEqual(['1982/SIM-0001/Tape Simulator', '308/SIM-0002/Tape Simulator']);
  });

  it('are refused without routing and before a login, each with its named code', async () => {
    const c = ProfitConnector.open(defaultLibraryPaths());
    connector = c;
    expect(codeOf(() => c.accounts())).toBe('NL_NOT_INITIALIZED');
    c.finalize();
    const { connector: marketOnly } = await connectSimulator({ routing: false });
    connector = marketOnly;
    expect(codeOf(() => marketOnly.accounts())).toBe('NL_MARKET_ONLY');
    expect(NL.MARKET_ONLY).toBeLessThan(0);
  });
});
