import type { ConnectorStatus } from './market.ts';
import type { RiskConfig } from './orders.ts';

// The operator's wire: first run, users, trading accounts, dead letters, audit and feed health,
// as the admin routes answer them and the admin screens read them. Every list is a page with
// an opaque `next` cursor (keyset: stable while rows are added, fast at any depth).

export const ROLES = ['admin', 'trader', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Usernames as the users table allows them. */
export const USERNAME = /^[a-z0-9._-]{3,40}$/;
/** A password an admin may type: at least this long (the server says the same). */
export const MIN_PASSWORD = 10;

/** A user as the admin routes answer it; `userId` as in a session's user (auth/tokens.ts Principal). */
export interface UserJson {
  readonly userId: number;
  readonly username: string;
  readonly role: Role;
  readonly accountId: string | null;
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly lastLoginAt: string | null;
}

/** A user just created or whose password was reset: the password is shown this once. */
export interface UserWithPassword {
  readonly user: UserJson;
  /** Present when the server generated it (none was typed). */
  readonly password?: string;
}

/** A trading account the DLL reports for this login (GetAccounts + GetAccountDetails). */
export interface BrokerAccountJson {
  readonly brokerId: number;
  readonly brokerName: string;
  readonly accountId: string;
  readonly subAccountId: string;
  readonly holder: string;
  /** The broker lets this account trade (GetAccountDetails' flags). */
  readonly enabled: boolean;
  /** Already a Tape account (same id). */
  readonly imported: boolean;
}

export interface AccountJson {
  readonly id: string;
  readonly brokerId: number;
  readonly brokerName: string;
  readonly holder: string;
  readonly createdAt: string;
  readonly users: readonly { readonly id: number; readonly username: string }[];
  /** The account's limits: the defaults (orders/risk.ts DEFAULT_RISK) until an admin sets them. */
  readonly risk: RiskConfig;
  /** False while the defaults apply. */
  readonly riskSet: boolean;
  readonly killSwitch: boolean;
}

/** What the first run still needs; `done` once the admin finished it (never shown again). */
export interface SetupJson {
  readonly done: boolean;
  readonly routing: boolean;
  /** Null while the DLL has not reported its accounts yet (not connected to the broker). */
  readonly brokerAccounts: readonly BrokerAccountJson[] | null;
  readonly accounts: number;
  /** The calling admin's own trading account, if assigned. */
  readonly ownAccount: string | null;
}

export interface DeadLetterJson {
  readonly id: number;
  readonly source: string;
  readonly reason: string;
  readonly detail: string;
  readonly payload: unknown;
  readonly attempts: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly resolvedAt: string | null;
  readonly resolution: string | null;
}

export interface DeadLetterCount {
  readonly source: string;
  readonly reason: string;
  readonly count: number;
}

export interface DeadLetterPage {
  readonly letters: readonly DeadLetterJson[];
  readonly next: string | null;
  /** Open letters matching the filter, per source and reason. */
  readonly counts: readonly DeadLetterCount[];
  readonly open: number;
}

export type RedriveOutcome =
  | { readonly id: number; readonly outcome: 'redriven' }
  | {
      readonly id: number;
      readonly outcome: 'refused' | 'not_found' | 'already_resolved' | 'not_redrivable';
      readonly reason: string;
      readonly message: string;
    };

export interface AuditJson {
  readonly id: number;
  readonly actor: { readonly id: number; readonly username: string } | null;
  readonly action: string;
  readonly target: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly at: string;
}

export interface AuditPage {
  readonly entries: readonly AuditJson[];
  readonly next: string | null;
}

/** One of the DLL's connection states, with when it last changed (null: not reported yet). */
export interface LinkState {
  readonly code: number | null;
  readonly label: string;
  readonly since: string | null;
}

export interface HealthJson {
  readonly at: string;
  readonly connector: ConnectorStatus;
  readonly links: {
    readonly login: LinkState;
    readonly marketData: LinkState;
    readonly routing: LinkState;
    readonly activation: LinkState;
  };
  /** Trades per second per ticker over the last sample interval. */
  readonly tradesPerSecond: Readonly<Record<string, number>>;
  readonly ring: { readonly capacity: number; readonly used: number; readonly dropped: number };
  readonly writer: { readonly bufferedRows: number; readonly databaseUp: boolean };
  readonly database: boolean;
  /** Null when no Redis is configured. */
  readonly redis: boolean | null;
  readonly clients: { readonly market: number; readonly yjs: number };
  readonly deadLettersOpen: number;
  /** The last 15 minutes, one point per sample (seconds since the epoch, value). */
  readonly series: Readonly<Record<HealthSeries, readonly (readonly [number, number])[]>>;
}

export const HEALTH_SERIES = [
  'tradesPerSecond',
  'ringUsed',
  'writerBacklog',
  'clients',
  'deadLetters',
] as const;
export type HealthSeries = (typeof HEALTH_SERIES)[number];
