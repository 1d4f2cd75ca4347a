import { type BrokerFlowRow, netOf } from '../../sync-server/shared/flow.ts';

// The broker flow table's order: by any column, the default the biggest net either way first
// (who is moving the ticker, buying or selling), as a desk reads "fluxo de players".

export type FlowColumn = 'broker' | 'bought' | 'sold' | 'net' | 'trades';

export interface FlowSort {
  readonly column: FlowColumn;
  readonly dir: 'asc' | 'desc';
  /** Net by its size, whatever the sign (only with column 'net'). */
  readonly bySize?: boolean;
}

export const DEFAULT_FLOW_SORT: FlowSort = { column: 'net', dir: 'desc', bySize: true };

/**
 * The order after a click on a column's header: another column starts at its usual direction
 * (names A-Z, numbers biggest first); the same column turns round. Net goes |net| biggest first,
 * then the biggest buyers first, then the biggest sellers first, and round again.
 */
export function nextFlowSort(sort: FlowSort, column: FlowColumn): FlowSort {
  if (column === 'net') {
    if (sort.column !== 'net') return DEFAULT_FLOW_SORT;
    if (sort.bySize) return { column, dir: 'desc' };
    return sort.dir === 'desc' ? { column, dir: 'asc' } : DEFAULT_FLOW_SORT;
  }
  if (sort.column === column) return { column, dir: sort.dir === 'asc' ? 'desc' : 'asc' };
  return { column, dir: column === 'broker' ? 'asc' : 'desc' };
}

const value = (r: BrokerFlowRow, sort: FlowSort): number => {
  switch (sort.column) {
    case 'bought':
      return r.bought;
    case 'sold':
      return r.sold;
    case 'trades':
      return r.trades;
    default:
      return sort.bySize ? Math.abs(netOf(r)) : netOf(r);
  }
};

/** The rows in the table's order; ties by broker name, then code, so rows do not swap at random. */
export function sortFlow(
  rows: readonly BrokerFlowRow[],
  sort: FlowSort,
  label: (agent: number) => string,
): BrokerFlowRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const byName = (a: BrokerFlowRow, b: BrokerFlowRow) =>
    label(a.agent).localeCompare(label(b.agent), 'pt-BR') || a.agent - b.agent;
  return [...rows].sort((a, b) =>
    sort.column === 'broker' ? sign * byName(a, b) : sign * (value(a, sort) - value(b, sort)) || byName(a, b),
  );
}

/** The header's aria-sort for a column. */
export const ariaSort = (sort: FlowSort, column: FlowColumn) =>
  sort.column !== column ? 'none' : sort.dir === 'asc' ? 'ascending' : 'descending';
