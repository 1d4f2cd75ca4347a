import { afterEach, describe, expect, it } from 'vitest';
import { useUi } from '../state/ui.ts';
import { openLink } from './links.ts';

// Where a notification's click lands: the ticker on the Trade screen, the order's details, the
// Alerts screen; anything else leaves the screen as it was.

const start = useUi.getState();
(globalThis as { location?: unknown }).location ??= { origin: 'https://tape.example' };

describe('a notification link', () => {
  afterEach(() => useUi.setState(start, true));

  it('opens the ticker on the Trade screen', () => {
    useUi.setState({ view: 'monitor' });
    openLink('/?ticker=PETR4');
    expect(useUi.getState()).toMatchObject({ view: 'trade', ticker: 'PETR4' });
  });

  it("opens the order's details", () => {
    openLink('/?order=42');
    expect(useUi.getState()).toMatchObject({ view: 'trade', openOrder: 42 });
  });

  it('opens the Alerts screen', () => {
    openLink('/?screen=alerts');
    expect(useUi.getState().view).toBe('alerts');
  });

  it('ignores what it does not know', () => {
    useUi.setState({ view: 'monitor', ticker: 'VALE3' });
    for (const url of ['/?ticker=<script>', '/?order=abc', '/?screen=admin', '/']) openLink(url);
    expect(useUi.getState()).toMatchObject({ view: 'monitor', ticker: 'VALE3', openOrder: undefined });
  });
});
