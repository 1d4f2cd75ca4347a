import type { BrokerAccountJson } from '../../sync-server/shared/admin.ts';

// Tape's trading accounts kept in step with the broker's (issue 19): what the DLL reports for this
// login and Tape does not have yet is offered to the admin; a Tape account the broker no longer
// reports is flagged, never deleted (its orders, fills and audit stay).

export interface BrokerView {
  /** False while the DLL has not reported (not connected to the broker, or routing off). */
  readonly known: boolean;
  /** Reported by the broker, not a Tape account yet (sub-accounts and disabled ones included, marked). */
  readonly offered: readonly BrokerAccountJson[];
  /** Tape accounts the broker does not report for this login. */
  readonly vanished: ReadonlySet<string>;
}

export function brokerView(
  tape: readonly { readonly id: string; readonly brokerId: number }[],
  reported: readonly BrokerAccountJson[] | null | undefined,
): BrokerView {
  if (!reported) return { known: false, offered: [], vanished: new Set() };
  const listed = new Set(reported.map((a) => `${a.brokerId}/${a.accountId}`));
  return {
    known: true,
    offered: reported.filter((a) => !a.imported),
    vanished: new Set(tape.filter((a) => !listed.has(`${a.brokerId}/${a.id}`)).map((a) => a.id)),
  };
}
