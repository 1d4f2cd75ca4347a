import type { AccountJson } from '../shared/admin.ts';
import { writeAudit } from './audit.ts';
import type { Sql } from './db.ts';

/** An account as the accounts screen lists it, before its risk config is filled in. */
export type AccountDetailRow = Omit<AccountJson, 'risk' | 'riskSet' | 'killSwitch'> & {
  /** The stored risk config (undefined: the defaults apply). */
  readonly config: Record<string, unknown> | undefined;
};

/** A trading account the DLL reported, as the first run imports it. */
export interface ImportedAccount {
  readonly id: string;
  readonly brokerId: number;
  readonly brokerName: string;
  readonly holder: string;
}

/** Trading accounts with who trades them, and the first run's state. */
export class AccountStore {
  constructor(private readonly sql: Sql) {}

  async list(): Promise<AccountDetailRow[]> {
    const rows = await this.sql<
      {
        id: string;
        broker_id: number;
        broker_name: string;
        holder: string;
        created_at: Date;
        users: { id: number; username: string }[] | null;
        config: Record<string, unknown> | null;
      }[]
    >`
      select a.id, a.broker_id, a.broker_name, a.holder, a.created_at, r.config,
        (select json_agg(json_build_object('id', u.id, 'username', u.username) order by u.username)
           from users u where u.account_id = a.id) as users
      from accounts a left join risk_configs r on r.account_id = a.id
      order by a.id`;
    return rows.map((r) => ({
      id: r.id,
      brokerId: r.broker_id,
      brokerName: r.broker_name,
      holder: r.holder,
      createdAt: r.created_at.toISOString(),
      users: (r.users ?? []).map((u) => ({ id: Number(u.id), username: u.username })),
      config: r.config ?? undefined,
    }));
  }

  /**
   * Creates the accounts not yet in Tape, each with its audit entry, in one transaction; an
   * account of that id that exists is left as it is. Returns the ids this call created.
   */
  async import(accounts: readonly ImportedAccount[], actorId: number): Promise<string[]> {
    return this.sql.begin(async (tx) => {
      const created: string[] = [];
      for (const a of accounts) {
        const [row] = await tx<{ id: string }[]>`
          insert into accounts (id, broker_id, name, broker_name, holder)
          values (${a.id}, ${a.brokerId}, ${a.holder || a.id}, ${a.brokerName}, ${a.holder})
          on conflict (id) do nothing returning id`;
        if (!row) continue;
        created.push(row.id);
        await writeAudit(tx, { actorId, action: 'account.import', target: `account:${a.id}`, after: a });
      }
      return created;
    });
  }

  /** When the first run was finished, or undefined while it has not been. */
  async setupCompletedAt(): Promise<Date | undefined> {
    const [row] = await this.sql<{ completed_at: Date }[]>`select completed_at from setup_state`;
    return row?.completed_at;
  }

  /**
   * Finishes the first run: assigns the admin's own account (when given) and records it, with
   * the audit entry, at once. False when it was already finished (nothing is written then).
   */
  async completeSetup(actorId: number, ownAccount: string | null): Promise<boolean> {
    return this.sql.begin(async (tx) => {
      const [row] = await tx<{ singleton: boolean }[]>`
        insert into setup_state (completed_by) values (${actorId})
        on conflict (singleton) do nothing returning singleton`;
      if (!row) return false;
      if (ownAccount !== null) await tx`update users set account_id = ${ownAccount} where id = ${actorId}`;
      await writeAudit(tx, { actorId, action: 'setup.complete', target: 'setup', after: { ownAccount } });
      return true;
    });
  }
}
