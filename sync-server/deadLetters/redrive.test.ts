import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Instrument, instrumentFor } from '../shared/instruments.ts';
import type { Trade } from '../shared/market.ts';
import type { Database } from '../store/db.ts';
import { DeadLetterStore } from '../store/deadLetters.ts';
import { testBackends } from '../store/testing.ts';
import { type RedriveTargets, redrive } from './redrive.ts';

const PETR4 = instrumentFor('PETR4', 'B') as Instrument;
/** Redrive hands trades on as they are: a ticker and a number tell them apart. */
const trade = (seq: number) => ({ ticker: 'PETR4', seq }) as Trade;

/** Targets that record what reached them; a capture passes a payload with `ok: true`. */
const targets = (insertFails?: Error) => {
  const published: Trade[] = [];
  const inserted: Trade[] = [];
  const to: RedriveTargets = {
    capture: (payload) =>
      (payload as { ok?: boolean }).ok
        ? { ok: true, instrument: PETR4, trade: trade(7) }
        : { ok: false, reason: 'bad_date', detail: 'date 31/02/2026 does not exist' },
    trades: (_instrument, trades) => published.push(...trades),
    insert: async (trades) => {
      if (insertFails) throw insertFails;
      inserted.push(...trades);
    },
  };
  return { to, published, inserted };
};

describe.each(testBackends())('redrive on $name', (backend) => {
  let db: Database;
  let letters: DeadLetterStore;
  beforeAll(async () => {
    db = await backend.open();
    letters = new DeadLetterStore(db.sql);
  });
  afterAll(() => db?.close());

  const letterOf = async (source: string, payload: unknown) => {
    await letters.add([{ source, reason: 'r', detail: 'first', payload }]);
    const [row] = await letters.list({ source, limit: 1 });
    return row?.id as number;
  };

  it('a trade that passes validation goes into the market and the letter is resolved', async () => {
    const id = await letterOf('profitdll.trade', { ok: true, n: 1 });
    const { to, published } = targets();
    expect(await redrive(id, letters, to)).toEqual({ outcome: 'redriven' });
    expect(published).toEqual([trade(7)]);
    expect(await letters.get(id)).toMatchObject({ resolution: 'redriven', attempts: 1 });
    // Once resolved, never again.
    expect(await redrive(id, letters, to)).toEqual({ outcome: 'already_resolved', resolution: 'redriven' });
    expect(published).toHaveLength(1);
  });

  it('a trade refused again counts the attempt with the new detail and stays open', async () => {
    const id = await letterOf('profitdll.trade', { ok: false, n: 2 });
    const { to, published } = targets();
    expect(await redrive(id, letters, to)).toEqual({
      outcome: 'refused',
      reason: 'bad_date',
      detail: 'date 31/02/2026 does not exist',
    });
    expect(published).toEqual([]);
    expect(await letters.get(id)).toMatchObject({
      attempts: 2,
      detail: 'date 31/02/2026 does not exist',
      resolvedAt: null,
    });
  });

  it("a stored batch's trades are written again; a failed write counts the attempt", async () => {
    const trades = [trade(1), trade(2)];
    const id = await letterOf('store.ticks', { trades });
    const failing = targets(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    expect(await redrive(id, letters, failing.to)).toEqual({
      outcome: 'refused',
      reason: 'write_failed',
      detail: 'connect ECONNREFUSED 127.0.0.1:5432',
    });
    expect(await letters.get(id)).toMatchObject({ attempts: 2, resolvedAt: null });
    const { to, inserted } = targets();
    expect(await redrive(id, letters, to)).toEqual({ outcome: 'redriven' });
    expect(inserted).toEqual(trades);
    expect(await letters.get(id)).toMatchObject({ resolution: 'redriven' });
  });

  it('a letter of another source is not redriven, and an unknown id is not found', async () => {
    const id = await letterOf('orders.transition', { n: 3 });
    const { to, published, inserted } = targets();
    expect(await redrive(id, letters, to)).toEqual({
      outcome: 'not_redrivable',
      source: 'orders.transition',
    });
    expect(await letters.get(id)).toMatchObject({ attempts: 1, resolvedAt: null });
    expect(await redrive(id + 1000, letters, to)).toEqual({ outcome: 'not_found' });
    expect(await redrive(Number.NaN, letters, to)).toEqual({ outcome: 'not_found' });
    expect([...published, ...inserted]).toEqual([]);
  });
});
