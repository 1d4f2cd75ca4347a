import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BrokerAccountJson } from '../../sync-server/shared/admin.ts';
import { brokerView } from './brokerAccounts.ts';

const reported = (accountId: string, brokerId = 1982, imported = false): BrokerAccountJson => ({
  brokerId,
  brokerName: 'Corretora',
  accountId,
  subAccountId: '',
  holder: 'Titular',
  enabled: true,
  imported,
});

describe('Tape accounts beside the broker’s', () => {
  it('offers what the broker reports and Tape lacks, flags what it no longer reports, knows nothing before it reports', () => {
    const tape = [
      { id: 'A1', brokerId: 1982 },
      { id: 'GONE', brokerId: 1982 },
      { id: 'B1', brokerId: 308 },
    ];
    const view = brokerView(tape, [reported('A1', 1982, true), reported('B1', 1982), reported('NEW', 308)]);
    expect(view.known).toBe(true);
    expect(view.offered.map((a) => a.accountId)).toEqual(['B1', 'NEW']);
    // B1 is Tape's at broker 308; the broker reports a B1 at 1982 only: not the same account.
    expect([...view.vanished].sort()).toEqual(['B1', 'GONE']);
    expect(brokerView(tape, null)).toEqual({ known: false, offered: [], vanished: new Set() });
  });

  it('property: a Tape account is flagged exactly when the broker does not report it, and nothing offered is Tape’s', () => {
    const broker = fc.constantFrom(1, 2);
    const ids = fc.uniqueArray(fc.constantFrom('A', 'B', 'C', 'D', 'E'));
    fc.assert(
      fc.property(
        // Tape's account ids are unique (the accounts table's key).
        ids.chain((tapeIds) =>
          fc.tuple(
            fc.tuple(...tapeIds.map((id) => broker.map((brokerId) => ({ id, brokerId })))),
            fc.uniqueArray(fc.record({ id: fc.constantFrom('A', 'B', 'C', 'D', 'E'), brokerId: broker }), {
              selector: (a) => `${a.brokerId}/${a.id}`,
            }),
          ),
        ),
        ([tape, dll]) => {
          const list = dll.map((d) =>
            reported(
              d.id,
              d.brokerId,
              tape.some((t) => t.id === d.id),
            ),
          );
          const view = brokerView(tape, list);
          for (const a of tape)
            expect(view.vanished.has(a.id)).toBe(
              !dll.some((d) => d.id === a.id && d.brokerId === a.brokerId),
            );
          for (const a of view.offered) expect(tape.some((t) => t.id === a.accountId)).toBe(false);
          expect(view.offered.length).toBe(dll.filter((d) => !tape.some((t) => t.id === d.id)).length);
        },
      ),
    );
  });
});
