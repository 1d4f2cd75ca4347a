import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { setLang } from '../i18n/i18n.ts';
import { type Loss, type LossReason, lossText, noteLoss } from './losses.ts';

// A watchlist unshared while open is heard of twice: its socket closes with 4403 and the list
// refresh no longer has it. Either can come first; the trader is told once, with the close's reason.

const fold = (events: readonly Loss[]) => events.reduce<readonly Loss[]>(noteLoss, []);
const desk = (why: LossReason): Loss => ({ id: '7', name: 'Desk', why });

beforeAll(() => setLang('en'));

describe('noteLoss', () => {
  it('tells an unshared list once, whether the 4403 or the refresh comes first', () => {
    const closeFirst = fold([desk('unshared'), desk('gone')]);
    const refreshFirst = fold([desk('gone'), desk('unshared')]);
    expect(closeFirst).toEqual([desk('unshared')]);
    expect(refreshFirst).toEqual([desk('unshared')]);
    expect(lossText(refreshFirst)).toBe(
      '“Desk” is no longer shared with you, so it was removed from this device. Ask its owner to share it again.',
    );
  });

  it('says what the refresh alone can say when no close came', () => {
    expect(lossText(fold([desk('gone'), desk('gone')]))).toBe(
      '“Desk” is no longer shared with you, or its owner deleted it, so it was removed from this device.',
    );
  });

  it('names every list that left, each once', () => {
    const text = lossText(
      fold([
        { id: '2', name: 'Opções', why: 'gone' },
        { id: '1', name: 'Bancos', why: 'deleted' },
        { id: '2', name: 'Opções', why: 'unshared' },
      ]),
    );
    expect(text).toBe(
      '“Bancos” was deleted by its owner, so it was removed from this device. “Opções” is no longer shared with you, so it was removed from this device. Ask its owner to share it again.',
    );
  });

  it('is undefined with nothing to tell', () => {
    expect(lossText([])).toBeUndefined();
  });

  it('tells the same whatever order the closes and refreshes arrive in (property)', () => {
    const event = fc.record({
      id: fc.constantFrom('1', '2', '3'),
      why: fc.constantFrom<LossReason>('unshared', 'deleted', 'gone'),
    });
    // The same events in two arrival orders.
    const orders = fc
      .array(event, { minLength: 1, maxLength: 12 })
      .map((raw) => raw.map(({ id, why }) => ({ id, name: `List ${id}`, why })))
      .chain((events) =>
        fc.tuple(
          fc.constant(events),
          fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
        ),
      );
    fc.assert(
      fc.property(orders, ([events, other]) => {
        const told = fold(events);
        expect(lossText(fold(other))).toBe(lossText(told));
        expect(new Set(told.map((l) => l.id)).size).toBe(told.length);
        for (const l of told) {
          const heard = events.filter((e) => e.id === l.id).map((e) => e.why);
          const best = heard.includes('deleted')
            ? 'deleted'
            : heard.includes('unshared')
              ? 'unshared'
              : 'gone';
          expect(l.why).toBe(best);
        }
      }),
    );
  });
});
