import { describe, expect, it } from 'vitest';
import { HealthMonitor, type HealthSources } from './health.ts';
import type { ConnectorStatus } from './shared/market.ts';

// A monitor over sources the test moves by hand, on a clock it sets.
function rig() {
  let now = 1_700_000_000_000;
  const counts: Record<string, number> = { PETR4: 0, VALE3: 10 };
  let status: ConnectorStatus = {
    login: null,
    routing: null,
    marketData: null,
    activation: null,
    connected: false,
  };
  const changed: Record<string, number> = {};
  let open = 0;
  let dbUp = true;
  const sources: HealthSources = {
    connector: () => status,
    linkChangedAt: (l) => changed[l],
    tradeCounts: () => counts,
    ring: () => ({ capacity: 65_536, used: counts.PETR4 ?? 0, dropped: 0 }),
    writer: () => ({ bufferedRows: 7, databaseUp: dbUp }),
    database: async () => {
      if (!dbUp) throw new Error('connection refused');
      return true;
    },
    redis: () => null,
    clients: () => ({ market: 2, yjs: 1 }),
    deadLettersOpen: async () => open,
  };
  const monitor = new HealthMonitor(sources, { intervalMs: 10_000, keep: 3, now: () => now });
  return {
    monitor,
    counts,
    advance: (ms: number) => {
      now += ms;
    },
    setStatus: (s: ConnectorStatus, at: Record<string, number>) => {
      status = s;
      Object.assign(changed, at);
    },
    setOpen: (n: number) => {
      open = n;
    },
    setDb: (up: boolean) => {
      dbUp = up;
    },
  };
}

describe('HealthMonitor', () => {
  it('turns the day counts into trades per second between samples', async () => {
    const r = rig();
    await r.monitor.sample();
    r.counts.PETR4 = 50;
    r.counts.VALE3 = 30;
    r.advance(10_000);
    await r.monitor.sample();
    const h = await r.monitor.snapshot();
    expect(h.tradesPerSecond).toEqual({ PETR4: 5, VALE3: 2 });
    expect(h.series.tradesPerSecond.map(([, v]) => v)).toEqual([0, 7]);
  });

  it('reports a new session day (counts going down) as 0, never negative', async () => {
    const r = rig();
    r.counts.PETR4 = 500;
    await r.monitor.sample();
    r.counts.PETR4 = 3;
    r.advance(10_000);
    await r.monitor.sample();
    expect((await r.monitor.snapshot()).tradesPerSecond.PETR4).toBe(0);
  });

  it('keeps only the last `keep` samples, oldest first, in seconds', async () => {
    const r = rig();
    for (let i = 0; i < 5; i++) {
      r.setOpen(i);
      await r.monitor.sample();
      r.advance(10_000);
    }
    const h = await r.monitor.snapshot();
    expect(h.series.deadLetters.map(([, v]) => v)).toEqual([2, 3, 4]);
    const [t0, t1] = h.series.deadLetters.map(([t]) => t);
    expect((t1 ?? 0) - (t0 ?? 0)).toBe(10);
  });

  it('names each DLL state and says since when', async () => {
    const r = rig();
    const at = 1_700_000_100_000;
    r.setStatus(
      { login: 0, routing: 5, marketData: 4, activation: 1, connected: false },
      { login: at, routing: at, marketData: at },
    );
    const h = await r.monitor.snapshot();
    expect(h.links.login).toEqual({ code: 0, label: 'connected', since: new Date(at).toISOString() });
    expect(h.links.routing.label).toBe('broker connected');
    expect(h.links.marketData.label).toBe('connected');
    expect(h.links.activation).toEqual({ code: 1, label: 'invalid', since: null });
  });

  it('says the database is down when its probe fails, and still answers', async () => {
    const r = rig();
    r.setDb(false);
    const h = await r.monitor.snapshot();
    expect(h.database).toBe(false);
    expect(h.writer).toEqual({ bufferedRows: 7, databaseUp: false });
    expect(h.clients).toEqual({ market: 2, yjs: 1 });
  });

  it('never runs two samples at once', async () => {
    const r = rig();
    const [a, b] = [r.monitor.sample(), r.monitor.sample()];
    expect(await a).toBe(await b);
  });
});
