import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BrokerFlowJson, emptyFlow, foldFlow, netOf } from '../../sync-server/shared/flow.ts';
import { b3Day } from '../../sync-server/shared/market.ts';
import { TradeRing } from '../state/tradeRing.ts';
import { T0, tradesFrom } from '../testing/trades.ts';
import { catchUp, type LiveFlow, openedFlow } from './flow.ts';

const DAY = b3Day(T0);
const run = tradesFrom;
const session = (through: number): LiveFlow => ({
  flow: foldFlow(emptyFlow('PETR4', DAY), run(1, through)),
  source: 'session',
});
const volume = (f: BrokerFlowJson) => f.brokers.reduce((s, r) => s + r.bought, 0);

describe('catchUp', () => {
  it("adds the tape's trades after the server's throughSeq, each once, however the frames fall", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 12 }),
        (through, frames) => {
          // The tape began before the server's answer was made: it holds trades the answer counted.
          const tape = new TradeRing(2_000);
          const firstOnTape = Math.max(1, through - 20);
          tape.push(run(firstOnTape, through + 5));
          let live = catchUp(session(through), tape) as LiveFlow;
          let next = through + 6;
          for (const n of frames) {
            tape.push(run(next, next + n - 1));
            next += n;
            live = catchUp(live, tape) as LiveFlow;
          }
          expect(live.flow.throughSeq).toBe(next - 1);
          expect(volume(live.flow)).toBe((next - 1) * 100);
          expect(live.flow.brokers.reduce((s, r) => s + netOf(r), 0)).toBe(0);
        },
      ),
    );
  });

  it('says to start again when the tape no longer holds every trade after the flow', () => {
    const tape = new TradeRing(10);
    tape.push(run(1, 40));
    expect(catchUp(session(20), tape)).toBeUndefined();
    const holed = new TradeRing(100);
    holed.push(run(1, 10));
    holed.push(run(15, 20)); // 11..14 never came
    expect(catchUp(session(10), holed)).toBeUndefined();
    expect(catchUp(session(14), holed)?.flow.throughSeq).toBe(20);
  });

  it('changes nothing while no trade comes, and with no tape yet', () => {
    const live = session(5);
    const tape = new TradeRing(10);
    tape.push(run(1, 5));
    expect(catchUp(live, tape)).toBe(live);
    expect(catchUp(live, undefined)).toBe(live);
  });
});

describe('openedFlow', () => {
  it('counts from the oldest trade of the tape, and says from when', () => {
    const tape = new TradeRing(10);
    tape.push(run(31, 45)); // 31..35 already evicted
    const start = openedFlow('PETR4', tape, 45, T0);
    expect(start.flow).toEqual(emptyFlow('PETR4', DAY, 35));
    const live = catchUp(start, tape) as LiveFlow;
    expect(live.flow.throughSeq).toBe(45);
    expect(volume(live.flow)).toBe(10 * 100);
    expect(live.from).toBe(T0 + 36);
    tape.push(run(46, 47));
    expect(catchUp(live, tape)?.from).toBe(T0 + 36);
  });

  it('with an empty tape counts from the trade after the quote', () => {
    const start = openedFlow('PETR4', new TradeRing(10), 120, T0);
    expect(start.flow).toEqual(emptyFlow('PETR4', DAY, 120));
    const tape = new TradeRing(10);
    tape.push(run(121, 122));
    expect(volume((catchUp(start, tape) as LiveFlow).flow)).toBe(200);
  });
});
