import { create } from 'zustand';
import type { AgentJson, Trade } from '../../sync-server/shared/market.ts';
import { t } from '../i18n/i18n.ts';
import { agentLabel } from '../state/agents.ts';

// What Times & Trades shows of the tape: trades of at least a quantity, and of one broker (on
// either side) when one is chosen. The filter stays when the ticker changes, as a desk expects.

export interface TapeFilter {
  /** 0: every trade. */
  readonly minQty: number;
  /** A B3 broker code; undefined: every broker. */
  readonly broker: number | undefined;
}

export const passes = (t: Trade, f: TapeFilter) =>
  t.qty >= f.minQty && (f.broker === undefined || t.buyAgent === f.broker || t.sellAgent === f.broker);

/** What a tape is read through: its size and its i-th newest trade (state/tradeRing.ts). */
export interface TapeView {
  readonly size: number;
  at(i: number): Trade | undefined;
}

/** The trades on the tape that pass, newest first. */
export function filterTape(tape: TapeView | undefined, f: TapeFilter): Trade[] {
  const out: Trade[] = [];
  if (!tape) return out;
  for (let i = 0; i < tape.size; i++) {
    const t = tape.at(i) as Trade;
    if (passes(t, f)) out.push(t);
  }
  return out;
}

/** The minimum quantity field: empty is none; B3's thousands dots ("1.000") are read as such. */
export function parseMinQty(text: string): number | undefined {
  const plain = text.trim().replace(/\./g, '');
  if (plain === '') return 0;
  if (!/^\d{1,9}$/.test(plain)) return undefined;
  return Number(plain);
}

export interface BrokerChoice {
  readonly id: number;
  readonly label: string;
  readonly name: string;
}

/** The brokers to filter by: every one named, and any code on the tape never named; by label. */
export function brokerChoices(
  byId: ReadonlyMap<number, AgentJson>,
  tape: TapeView | undefined,
): BrokerChoice[] {
  const ids = new Set(byId.keys());
  for (let i = 0; tape && i < tape.size; i++) {
    const t = tape.at(i) as Trade;
    ids.add(t.buyAgent);
    ids.add(t.sellAgent);
  }
  return [...ids]
    .map((id) => ({ id, label: agentLabel(byId, id), name: byId.get(id)?.name ?? t('tape.brokerN', { id }) }))
    .sort((a, b) => a.label.localeCompare(b.label, 'pt-BR') || a.id - b.id);
}

interface TapeFilterState extends TapeFilter {
  set(f: Partial<TapeFilter>): void;
}

export const useTapeFilter = create<TapeFilterState>((set) => ({
  minQty: 0,
  broker: undefined,
  set: (f) => set(f),
}));
