import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfitConnector } from './profitdll.ts';
import { connectSimulator } from './testkit.ts';

// The brokers behind trades and offers through the real binding: GetAgentNameLength and
// GetAgentName of the simulator, whose table holds B3 broker codes with short and full names.

let connector: ProfitConnector;
beforeAll(async () => {
  ({ connector } = await connectSimulator({}));
});
afterAll(() => connector?.finalize());

describe('agentName', () => {
  it('reads the short and the full name of a broker, accents included', () => {
    expect(connector.agentName(3, true)).toBe('XP');
    expect(connector.agentName(3, false)).toBe('XP Investimentos CCTVM S.A.');
    expect(connector.agentName(114, true)).toBe('Itaú');
    expect(connector.agentName(39, false)).toBe('Ágora CTVM S.A.');
  });

  it('answers undefined for a code the DLL does not know, never a name or a crash', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.boolean(), (id, short) => {
        const name = connector.agentName(id, short);
        if (name !== undefined) expect(name.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
    expect(connector.agentName(0, true)).toBeUndefined();
    expect(connector.agentName(-1, false)).toBeUndefined();
    expect(connector.agentName(99_999, true)).toBeUndefined();
  });

  it('names every broker of the trades the simulator sends', async () => {
    const sim = connector.sim;
    if (!sim) throw new Error('not the simulator');
    connector.subscribeTicker('PETR4', 'B');
    sim.setRate(2_000);
    const seen = new Set<number>();
    const until = Date.now() + 3_000;
    while (seen.size < 10 && Date.now() < until) {
      for (const e of connector.drain())
        if (e.kind === 'trade') {
          seen.add(e.buyAgent);
          seen.add(e.sellAgent);
        }
      await new Promise((r) => setTimeout(r, 20));
    }
    sim.setRate(0);
    expect(seen.size).toBeGreaterThanOrEqual(10);
    for (const id of seen) expect(connector.agentName(id, true), `agent ${id}`).toMatch(/\S/);
  });
});
