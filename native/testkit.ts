import { fileURLToPath } from 'node:url';
import { ProfitDllError } from './errors.ts';
import { defaultLibraryPaths, ProfitConnector } from './profitdll.ts';
import type { RawEvent } from './records.ts';

// Helpers for tests and benchmarks that drive the real simulator library through the binding.

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The simulator's default listings (native/sim/profitdll_sim.c): exchange, tick, lot, start price. */
export const INSTRUMENTS = {
  PETR4: { exchange: 'B', tick: 0.01, lot: 100, price: 38.5 },
  VALE3: { exchange: 'B', tick: 0.01, lot: 100, price: 62 },
  ITUB4: { exchange: 'B', tick: 0.01, lot: 100, price: 33 },
  BBDC4: { exchange: 'B', tick: 0.01, lot: 100, price: 14 },
  WINZ25: { exchange: 'F', tick: 5, lot: 1, price: 128000 },
  WDOZ25: { exchange: 'F', tick: 0.5, lot: 1, price: 5400 },
} as const;
export type Ticker = keyof typeof INSTRUMENTS;

export type StateEvent = Extract<RawEvent, { kind: 'state' }>;
export type TradeEvent = Extract<RawEvent, { kind: 'trade' }>;

/** Drains until `done(everything so far)` holds; fails after timeoutMs saying what it waited for. */
export async function collect(
  connector: ProfitConnector,
  done: (events: RawEvent[]) => boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<RawEvent[]> {
  const events: RawEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    events.push(...connector.drain());
    if (done(events)) return events;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** The named code a DLL call fails with ('NL_INVALID_TICKER'), another error's text, or 'no error'. */
export function dllCode(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return err instanceof ProfitDllError ? err.codeName : String(err);
  }
  return 'no error';
}

/** True once the states say what Tape calls connected (API.md). */
export function isConnected(states: readonly StateEvent[], routing: boolean): boolean {
  const last = new Map(states.map((s) => [s.connType, s.result]));
  return last.get(0) === 0 && last.get(2) === 4 && last.get(3) === 0 && (!routing || last.get(1) === 5);
}

export const statesOf = (events: RawEvent[]) => events.filter((e): e is StateEvent => e.kind === 'state');
export const tradesOf = (events: RawEvent[]) => events.filter((e): e is TradeEvent => e.kind === 'trade');

/**
 * The two simulator libraries `npm run build:native` builds: the full one, whose exports include
 * the current market-data calls (so the connector uses them, 'v2'), and the V1-only one, a DLL
 * older than those (the connector falls back to the obsolete calls, 'v1'). Tests of what differs
 * between the two run over both: describe.each(SIM_LIBRARIES).
 */
export const SIM_LIBRARIES = [
  { api: 'v2', libraryPath: defaultLibraryPaths().libraryPath },
  { api: 'v1', libraryPath: fileURLToPath(new URL('./build/libprofitdll_sim_v1.so', import.meta.url)) },
] as const;
export type SimApi = (typeof SIM_LIBRARIES)[number]['api'];

/**
 * Opens the simulator (the full library, or with `api: 'v1'` the V1-only one), logs in and waits
 * until connected; returns what arrived meanwhile.
 */
export async function connectSimulator(
  opts: { routing?: boolean; ringCapacity?: number; rate?: number; api?: SimApi } = {},
): Promise<{ connector: ProfitConnector; events: RawEvent[] }> {
  const library = SIM_LIBRARIES.find((l) => l.api === (opts.api ?? 'v2'));
  const connector = ProfitConnector.open({
    ...defaultLibraryPaths(),
    ...(library && { libraryPath: library.libraryPath }),
    ringCapacity: opts.ringCapacity,
  });
  if (!connector.sim)
    throw new Error('the simulator library is required here (native/build/libprofitdll_sim.so)');
  connector.sim.setRate(opts.rate ?? 0);
  connector.login('tape-test-key', 'tape', 'secret', { routing: opts.routing });
  const routing = opts.routing === true;
  const events = await collect(connector, (ev) => isConnected(statesOf(ev), routing), 'the connected states');
  return { connector, events };
}

/**
 * The simulator sessions of an order test file, put back after each test: `connect()` logs in
 * (with routing unless `routing: false`) to a broker with no orders (`keepOrders`: with those
 * the broker still has, a re-login's); `release()`, for afterEach,
 * puts the order mode back to 'match', forgets the orders (they outlive DLLFinalize) and
 * finalizes, so the next test starts clean.
 */
export function brokerSessions() {
  let current: ProfitConnector | undefined;
  return {
    async connect(opts: { routing?: boolean; keepOrders?: boolean } = {}): Promise<ProfitConnector> {
      const routing = opts.routing ?? true;
      const c = (await connectSimulator({ routing })).connector;
      current = c;
      if (routing && !opts.keepOrders) c.sim?.resetOrders();
      return c;
    },
    release(): void {
      current?.sim?.setOrderMode('match');
      current?.sim?.resetOrders();
      current?.finalize();
      current = undefined;
    },
  };
}

/** The simulator's controls of a connector a test opened on the simulator library. */
export function simOf(c: ProfitConnector): NonNullable<ProfitConnector['sim']> {
  if (!c.sim) throw new Error('the simulator library is required here (native/build/libprofitdll_sim.so)');
  return c.sim;
}
