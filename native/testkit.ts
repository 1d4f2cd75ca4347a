import { defaultLibraryPaths, ProfitConnector } from './profitdll.ts';
import type { RawEvent } from './records.ts';

// Helpers for tests and benchmarks that drive the real simulator library through the binding.

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

/** True once the states say what Tape calls connected (API.md). */
export function isConnected(states: readonly StateEvent[], routing: boolean): boolean {
  const last = new Map(states.map((s) => [s.connType, s.result]));
  return last.get(0) === 0 && last.get(2) === 4 && last.get(3) === 0 && (!routing || last.get(1) === 5);
}

export const statesOf = (events: RawEvent[]) => events.filter((e): e is StateEvent => e.kind === 'state');
export const tradesOf = (events: RawEvent[]) => events.filter((e): e is TradeEvent => e.kind === 'trade');

/** Opens the simulator, logs in and waits until connected; returns what arrived meanwhile. */
export async function connectSimulator(
  opts: { routing?: boolean; ringCapacity?: number; rate?: number } = {},
): Promise<{ connector: ProfitConnector; events: RawEvent[] }> {
  const connector = ProfitConnector.open({ ...defaultLibraryPaths(), ringCapacity: opts.ringCapacity });
  if (!connector.sim)
    throw new Error('the simulator library is required here (native/build/libprofitdll_sim.so)');
  connector.sim.setRate(opts.rate ?? 0);
  connector.login('tape-test-key', 'tape', 'secret', { routing: opts.routing });
  const routing = opts.routing === true;
  const events = await collect(connector, (ev) => isConnected(statesOf(ev), routing), 'the connected states');
  return { connector, events };
}
