import { beforeEach, describe, expect, it } from 'vitest';
import { agentLabel, useAgents } from './agents.ts';

const xp = { id: 3, short: 'XP', name: 'XP Investimentos CCTVM S.A.' };
const btg = { id: 85, short: 'BTG', name: 'BTG Pactual CTVM S.A.' };

beforeEach(() => useAgents.setState({ byId: new Map() }));

describe('useAgents', () => {
  it('keeps every broker named so far, each message adding to the last', () => {
    useAgents.getState().add([xp]);
    useAgents.getState().add([btg]);
    const { byId } = useAgents.getState();
    expect(agentLabel(byId, 3)).toBe('XP');
    expect(agentLabel(byId, 85)).toBe('BTG');
  });

  it('shows a code never named as its number', () => {
    useAgents.getState().add([xp]);
    expect(agentLabel(useAgents.getState().byId, 1982)).toBe('1982');
  });

  it('changes nothing (no render) when a reconnect names the same brokers again', () => {
    useAgents.getState().add([xp, btg]);
    const before = useAgents.getState().byId;
    useAgents.getState().add([btg, xp]);
    expect(useAgents.getState().byId).toBe(before);
    useAgents.getState().add([{ ...xp, short: 'XP Inv' }]);
    expect(agentLabel(useAgents.getState().byId, 3)).toBe('XP Inv');
  });
});
