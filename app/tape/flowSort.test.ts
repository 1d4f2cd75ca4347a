import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BrokerFlowRow, netOf } from '../../sync-server/shared/flow.ts';
import { DEFAULT_FLOW_SORT, type FlowColumn, type FlowSort, nextFlowSort, sortFlow } from './flowSort.ts';

const NAMES: Record<number, string> = { 3: 'XP', 39: 'Ágora', 72: 'Bradesco', 85: 'BTG', 114: 'Itaú' };
const label = (agent: number) => NAMES[agent] ?? String(agent);
const row = (agent: number, bought: number, sold: number, trades = 1): BrokerFlowRow => ({
  agent,
  bought,
  sold,
  trades,
});

const rows = [
  row(3, 1_000, 4_000, 7),
  row(39, 2_500, 0, 3),
  row(72, 300, 300, 2),
  row(85, 0, 1_200, 4),
  row(114, 5_000, 1_000, 9),
];
const order = (sort: FlowSort) => sortFlow(rows, sort, label).map((r) => label(r.agent));

describe('sortFlow', () => {
  it('puts the biggest net either way first by default', () => {
    expect(order(DEFAULT_FLOW_SORT)).toEqual(['Itaú', 'XP', 'Ágora', 'BTG', 'Bradesco']);
  });

  it('sorts by each column both ways', () => {
    expect(order({ column: 'net', dir: 'desc' })).toEqual(['Itaú', 'Ágora', 'Bradesco', 'BTG', 'XP']);
    expect(order({ column: 'net', dir: 'asc' })).toEqual(['XP', 'BTG', 'Bradesco', 'Ágora', 'Itaú']);
    expect(order({ column: 'bought', dir: 'desc' })).toEqual(['Itaú', 'Ágora', 'XP', 'Bradesco', 'BTG']);
    expect(order({ column: 'sold', dir: 'desc' })).toEqual(['XP', 'BTG', 'Itaú', 'Bradesco', 'Ágora']);
    expect(order({ column: 'trades', dir: 'asc' })).toEqual(['Bradesco', 'Ágora', 'BTG', 'XP', 'Itaú']);
    expect(order({ column: 'broker', dir: 'asc' })).toEqual(['Ágora', 'Bradesco', 'BTG', 'Itaú', 'XP']);
    expect(order({ column: 'broker', dir: 'desc' })).toEqual(['XP', 'Itaú', 'BTG', 'Bradesco', 'Ágora']);
  });

  it('is a permutation, ordered by the column, ties by name, for any rows', () => {
    const arbRow = fc.record({
      agent: fc.integer({ min: 1, max: 400 }),
      bought: fc.integer({ min: 0, max: 1e6 }),
      sold: fc.integer({ min: 0, max: 1e6 }),
      trades: fc.integer({ min: 1, max: 1e4 }),
    });
    const columns: FlowColumn[] = ['broker', 'bought', 'sold', 'net', 'trades'];
    fc.assert(
      fc.property(
        fc.uniqueArray(arbRow, { selector: (r) => r.agent, maxLength: 60 }),
        fc.constantFrom(...columns),
        fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
        fc.boolean(),
        (input, column, dir, bySize) => {
          const sort = { column, dir, bySize: column === 'net' && bySize };
          const out = sortFlow(input, sort, label);
          expect([...out].sort((a, b) => a.agent - b.agent)).toEqual(
            [...input].sort((a, b) => a.agent - b.agent),
          );
          const key = (r: BrokerFlowRow) =>
            column === 'net'
              ? sort.bySize
                ? Math.abs(netOf(r))
                : netOf(r)
              : column === 'broker'
                ? 0
                : r[column];
          for (let i = 1; i < out.length; i++) {
            const [a, b] = [out[i - 1] as BrokerFlowRow, out[i] as BrokerFlowRow];
            const d = (key(b) - key(a)) * (dir === 'asc' ? 1 : -1);
            expect(d).toBeGreaterThanOrEqual(0);
            if (d === 0 && column !== 'broker')
              expect(label(a.agent).localeCompare(label(b.agent), 'pt-BR') <= 0).toBe(true);
          }
        },
      ),
    );
  });
});

describe('nextFlowSort', () => {
  it('starts another column at its usual direction and turns the same one round', () => {
    expect(nextFlowSort(DEFAULT_FLOW_SORT, 'broker')).toEqual({ column: 'broker', dir: 'asc' });
    expect(nextFlowSort({ column: 'broker', dir: 'asc' }, 'broker')).toEqual({
      column: 'broker',
      dir: 'desc',
    });
    expect(nextFlowSort({ column: 'broker', dir: 'asc' }, 'bought')).toEqual({
      column: 'bought',
      dir: 'desc',
    });
    expect(nextFlowSort({ column: 'bought', dir: 'desc' }, 'bought')).toEqual({
      column: 'bought',
      dir: 'asc',
    });
  });

  it('goes round net: by size, biggest buyers, biggest sellers, by size again', () => {
    const a = nextFlowSort({ column: 'sold', dir: 'desc' }, 'net');
    expect(a).toEqual(DEFAULT_FLOW_SORT);
    const b = nextFlowSort(a, 'net');
    expect(b).toEqual({ column: 'net', dir: 'desc' });
    const c = nextFlowSort(b, 'net');
    expect(c).toEqual({ column: 'net', dir: 'asc' });
    expect(nextFlowSort(c, 'net')).toEqual(DEFAULT_FLOW_SORT);
  });
});
