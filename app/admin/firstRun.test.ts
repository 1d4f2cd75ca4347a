import { beforeEach, describe, expect, it } from 'vitest';
import type { BrokerAccountJson, SetupJson } from '../../sync-server/shared/admin.ts';
import { setLang } from '../i18n/i18n.ts';
import { accountKey, importBody, importLabel, notImportable, stepOne, ticked } from './firstRun.ts';

const account = (accountId: string, over: Partial<BrokerAccountJson> = {}): BrokerAccountJson => ({
  brokerId: 1982,
  brokerName: 'Corretora Simulada',
  accountId,
  subAccountId: '',
  holder: 'Ana Souza',
  enabled: true,
  imported: false,
  ...over,
});
const setup = (over: Partial<SetupJson>): SetupJson => ({
  done: false,
  routing: true,
  brokerAccounts: null,
  accounts: 0,
  ownAccount: null,
  ...over,
});

describe('first run, step 1', () => {
  beforeEach(() => setLang('en'));

  it('waits for the broker while the DLL has reported nothing, and says when routing is off', () => {
    expect(stepOne(setup({}))).toEqual({ kind: 'waiting' });
    expect(stepOne(setup({ routing: false }))).toEqual({ kind: 'routing_off' });
    const list = [account('SIM-0001')];
    expect(stepOne(setup({ brokerAccounts: list }))).toEqual({ kind: 'accounts', list });
    expect(stepOne(setup({ brokerAccounts: [] }))).toEqual({ kind: 'accounts', list: [] });
  });

  it('ticks every account that can be imported, until the admin unticks it', () => {
    const a = account('SIM-0001');
    const b = account('SIM-0002', { brokerId: 308 });
    expect(ticked([a, b], new Map())).toEqual([a, b]);
    expect(ticked([a, b], new Map([[accountKey(a), false]]))).toEqual([b]);
    expect(ticked([a, b], new Map([[accountKey(a), true]]))).toEqual([a, b]);
  });

  it('never sends an account already imported, a sub-account or a disabled one, even ticked', () => {
    const done = account('SIM-0001', { imported: true });
    const sub = account('SIM-0001', { subAccountId: 'A1' });
    const off = account('SIM-0003', { enabled: false });
    const fresh = account('SIM-0002');
    const picked = new Map([
      [accountKey(done), true],
      [accountKey(sub), true],
      [accountKey(off), true],
    ]);
    expect(ticked([done, sub, off, fresh], picked)).toEqual([fresh]);
    expect(notImportable(off)).toMatch(/disabled/);
    expect(notImportable(done)).toBe('already imported');
    expect(notImportable(sub)).toMatch(/sub-account/);
    expect(notImportable(fresh)).toBeUndefined();
  });

  it('tells accounts of the same id at two brokers apart', () => {
    const a = account('123');
    const b = account('123', { brokerId: 308 });
    expect(ticked([a, b], new Map([[accountKey(a), false]]))).toEqual([b]);
  });

  it('sends broker and account only, and counts them in the button', () => {
    expect(importBody([account('SIM-0001'), account('SIM-0002', { brokerId: 308 })])).toEqual({
      accounts: [
        { brokerId: 1982, accountId: 'SIM-0001' },
        { brokerId: 308, accountId: 'SIM-0002' },
      ],
    });
    expect([importLabel(0), importLabel(1), importLabel(2)]).toEqual([
      'Import 0 accounts',
      'Import 1 account',
      'Import 2 accounts',
    ]);
    setLang('pt');
    expect([importLabel(0), importLabel(1), importLabel(1234)]).toEqual([
      'Importar 0 contas',
      'Importar 1 conta',
      'Importar 1.234 contas',
    ]);
  });
});
