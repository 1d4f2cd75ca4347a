import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NewDeadLetter } from '../deadLetters/queue.ts';
import type { AgentJson, ServerMessage } from '../shared/market.ts';
import { AgentDirectory, type AgentNames } from './agents.ts';

// The broker directory: each code asked of the DLL once, only new names told to clients, a code
// the DLL does not know (or cannot name) left a number without stopping the trades.

const TABLE: Record<number, [string, string]> = {
  3: ['XP', 'XP Investimentos CCTVM S.A.'],
  85: ['BTG', 'BTG Pactual CTVM S.A.'],
  114: ['Itaú', 'Itaú Corretora de Valores S.A.'],
};

function directory(names: Partial<AgentNames> = {}) {
  const asked: number[] = [];
  const published: AgentJson[][] = [];
  const letters: NewDeadLetter[] = [];
  const source: AgentNames = {
    agentName(id, short) {
      if (short) asked.push(id);
      const row = TABLE[id];
      return row && (short ? row[0] : row[1]);
    },
    ...names,
  };
  const dir = new AgentDirectory(
    source,
    (m) => published.push((JSON.parse(m) as Extract<ServerMessage, { type: 'agents' }>).agents),
    (l) => letters.push(l),
  );
  return { dir, asked, published, letters };
}

const trade = (buyAgent: number, sellAgent: number) => ({ buyAgent, sellAgent });

describe('AgentDirectory', () => {
  it('names each broker once, and publishes only the newly named', () => {
    const { dir, asked, published } = directory();
    dir.learn([trade(3, 85), trade(85, 3)]);
    dir.learn([trade(3, 114)]);
    dir.learn([trade(114, 85)]); // nothing new: nothing published
    expect(asked).toEqual([3, 85, 114]);
    expect(published).toEqual([
      [
        { id: 3, short: 'XP', name: 'XP Investimentos CCTVM S.A.' },
        { id: 85, short: 'BTG', name: 'BTG Pactual CTVM S.A.' },
      ],
      [{ id: 114, short: 'Itaú', name: 'Itaú Corretora de Valores S.A.' }],
    ]);
    expect(dir.all().map((a) => a.id)).toEqual([3, 85, 114]);
  });

  it('leaves a code the DLL does not know a number, asked once', () => {
    const { dir, asked, published } = directory();
    dir.learn([trade(777, 3), trade(777, 777)]);
    expect(asked).toEqual([777, 3]);
    expect(published).toEqual([[{ id: 3, short: 'XP', name: 'XP Investimentos CCTVM S.A.' }]]);
    expect(dir.all().map((a) => a.id)).toEqual([3]);
  });

  it('dead-letters a DLL error for one code (invalid_agent) and goes on with the others', () => {
    const { dir, letters, published } = directory({
      agentName(id, short) {
        if (id === 13) throw new Error('GetAgentName: not well-formed UTF-16');
        const row = TABLE[id];
        return row && (short ? row[0] : row[1]);
      },
    });
    expect(() => dir.learn([trade(13, 85)])).not.toThrow();
    expect(letters).toEqual([
      {
        source: 'profitdll.agent',
        reason: 'invalid_agent',
        detail: 'agent 13: GetAgentName: not well-formed UTF-16',
        payload: { agentId: 13 },
      },
    ]);
    expect(published.flat().map((a) => a.id)).toEqual([85]);
  });

  it('property: whatever the trades, each code is asked once and every named one is published once', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.tuple(fc.constantFrom(3, 85, 114, 0, 999), fc.constantFrom(3, 85, 114, 0, 999))),
        ),
        (batches) => {
          const { dir, asked, published } = directory();
          for (const b of batches) dir.learn(b.map(([x, y]) => trade(x, y)));
          const seen = new Set(batches.flat().flat());
          expect(asked.sort((a, b) => a - b)).toEqual([...seen].sort((a, b) => a - b));
          const told = published.flat().map((a) => a.id);
          expect(new Set(told).size).toBe(told.length);
          expect(told.sort((a, b) => a - b)).toEqual(
            [...seen].filter((id) => id in TABLE).sort((a, b) => a - b),
          );
        },
      ),
    );
  });
});
