// ProfitDLL's return codes and the error a non-OK one becomes: plain values, no koffi, so the
// code that only needs to name or catch a DLL failure (the order manager, tests) does
// not load the binding.

/** ProfitDLL return codes (API.md), as the signed int32 koffi returns. */
export const NL = {
  OK: 0,
  INTERNAL_ERROR: 0x80000001 | 0,
  NOT_INITIALIZED: 0x80000002 | 0,
  INVALID_ARGS: 0x80000003 | 0,
  WAITING_SERVER: 0x80000004 | 0,
  NO_LOGIN: 0x80000005 | 0,
  NO_LICENSE: 0x80000006 | 0,
  OUT_OF_RANGE: 0x80000009 | 0,
  MARKET_ONLY: 0x8000000a | 0,
  NO_POSITION: 0x8000000b | 0,
  NOT_FOUND: 0x8000000c | 0,
  VERSION_NOT_SUPPORTED: 0x8000000d | 0,
  EXCHANGE_UNKNOWN: 0x8000000f | 0,
  DUPLICATE_RESOURCE: 0x8000001a | 0,
  NO_PASSWORD: 0x8000001c | 0,
  NO_USER: 0x8000001d | 0,
  INVALID_TICKER: 0x8000001f | 0,
  NOT_MASTER_ACCOUNT: 0x80000020 | 0,
} as const;
export type NlName = keyof typeof NL;

const NL_NAMES = new Map<number, NlName>((Object.keys(NL) as NlName[]).map((k) => [NL[k], k]));

/** `NL_NOT_INITIALIZED` for 0x80000002; unknown codes as hex. */
export function nlCodeName(code: number): string {
  const name = NL_NAMES.get(code | 0);
  return name ? `NL_${name}` : `0x${(code >>> 0).toString(16).padStart(8, '0')}`;
}

const ADVICE: Partial<Record<NlName, string>> = {
  INTERNAL_ERROR: 'the DLL failed internally; check its log, then finalize and log in again',
  NOT_INITIALIZED: 'log in first (ProfitConnector.login)',
  INVALID_ARGS:
    'an argument is empty or malformed (for a login: the activation key, PROFITDLL_KEY; for history: dates as DD/MM/YYYY HH:MM:SS, the end not before the start)',
  WAITING_SERVER: 'the DLL is still connecting: retry once the market data state is connected',
  NO_LOGIN: 'the login was refused (see the LOGIN state): fix the credentials, finalize and log in again',
  NO_LICENSE: 'the activation key has no valid license for this: check PROFITDLL_KEY with Nelogica',
  OUT_OF_RANGE:
    'a value or a queue is beyond its limit (for history: ask for a shorter range, in chunks of a day for futures)',
  MARKET_ONLY: 'this session has market data only: log in with routing for orders',
  NOT_FOUND: 'nothing matched the request (for a simulator burst: subscribe a ticker first)',
  EXCHANGE_UNKNOWN: 'use an exchange letter the DLL knows: B (Bovespa) or F (BMF)',
  DUPLICATE_RESOURCE: 'already logged in: call finalize() before logging in again',
  NO_PASSWORD: 'set PROFITDLL_PASSWORD',
  NO_USER: 'set PROFITDLL_USER',
  INVALID_TICKER: 'check the ticker and its exchange letter (B for stocks, F for futures)',
};

/** A non-OK ProfitDLL return code, named, with what to do about it. */
export class ProfitDllError extends Error {
  override name = 'ProfitDllError';
  readonly codeName: string;
  constructor(
    readonly fn: string,
    readonly code: number,
  ) {
    const advice = ADVICE[NL_NAMES.get(code | 0) as NlName];
    super(`${fn} failed with ${nlCodeName(code)}${advice ? `: ${advice}` : ''}`);
    this.codeName = nlCodeName(code);
  }
}

/** Throws the ProfitDllError of `fn`'s return code unless it is NL_OK. */
export function check(fn: string, code: number): void {
  if (code !== NL.OK) throw new ProfitDllError(fn, code);
}

/**
 * Codes a history request (GetHistoryTrades) fails with that asking again cannot mend: a ticker,
 * exchange or argument the DLL does not take, a license or session without market data.
 */
const HISTORY_FINAL = new Set<number>([
  NL.INVALID_ARGS,
  NL.INVALID_TICKER,
  NL.EXCHANGE_UNKNOWN,
  NL.NO_LICENSE,
  NL.VERSION_NOT_SUPPORTED,
]);

/**
 * Whether a refused history request is worth asking again: the DLL still connecting
 * (NL_WAITING_SERVER, NL_NOT_INITIALIZED, NL_NO_LOGIN while it logs in), failing inside, or with
 * its request queue full (NL_OUT_OF_RANGE: the ranges Tape asks are within the DLL's limits).
 */
export const historyRetryable = (code: number) => code !== NL.OK && !HISTORY_FINAL.has(code | 0);
