import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ORDER_STATES, type OrderState } from '../shared/orders.ts';
import {
  InvalidTransition,
  isTerminal,
  ORDER_EVENTS,
  type OrderEvent,
  type StopPhase,
  TRANSITIONS,
  transition,
} from './state.ts';

describe('order state machine', () => {
  it('walks the happy paths', () => {
    let s: OrderState = 'pending_new';
    s = transition(s, 'accepted', 0);
    expect(s).toBe('new');
    s = transition(s, 'partial_fill', 100);
    expect(s).toBe('partially_filled');
    s = transition(s, 'cancel_requested', 100);
    s = transition(s, 'partial_fill', 200);
    expect(s).toBe('pending_cancel');
    expect(transition(s, 'cancel_rejected', 200)).toBe('partially_filled');
    expect(transition(s, 'canceled', 200)).toBe('canceled');
    expect(transition('pending_replace', 'replaced', 0)).toBe('new');
  });

  it('never leaves a terminal state', () => {
    for (const s of ORDER_STATES.filter(isTerminal)) {
      for (const e of ORDER_EVENTS) expect(() => transition(s, e, 0)).toThrow(InvalidTransition);
    }
  });

  it('property: any event sequence stays inside the table; invalid events change nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ORDER_EVENTS), { maxLength: 40 }), (events) => {
        let s: OrderState = 'pending_new';
        let filled = 0;
        for (const e of events) {
          // Only a stop-limit triggers.
          const allowed = TRANSITIONS[s][e] !== undefined && e !== 'triggered';
          const nextFilled = e === 'partial_fill' || e === 'fill' ? filled + 100 : filled;
          try {
            const next = transition(s, e, nextFilled);
            expect(allowed).toBe(true);
            expect(ORDER_STATES).toContain(next);
            s = next;
            filled = nextFilled;
          } catch (err) {
            expect(err).toBeInstanceOf(InvalidTransition);
            expect(allowed).toBe(false);
          }
          if (isTerminal(s)) expect(Object.keys(TRANSITIONS[s])).toHaveLength(0);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('walks a stop-limit: accepted, triggered, then filled; cancel and replace work while it waits', () => {
    expect(transition('pending_new', 'accepted', 0, 'waiting')).toBe('new');
    expect(transition('new', 'triggered', 0, 'waiting')).toBe('new');
    expect(transition('new', 'fill', 100, 'triggered')).toBe('filled');
    // The acknowledgement and the trigger in one read: the trigger may come first.
    expect(transition('pending_new', 'triggered', 0, 'waiting')).toBe('pending_new');
    expect(transition('new', 'cancel_requested', 0, 'waiting')).toBe('pending_cancel');
    expect(transition('pending_cancel', 'triggered', 0, 'waiting')).toBe('pending_cancel');
    expect(transition('pending_replace', 'replaced', 0, 'waiting')).toBe('new');
    expect(() => transition('new', 'fill', 100, 'waiting')).toThrow(InvalidTransition);
    expect(() => transition('new', 'partial_fill', 100, 'waiting')).toThrow(/waiting stop/);
    expect(() => transition('new', 'triggered', 0, 'triggered')).toThrow(InvalidTransition);
    expect(() => transition('new', 'triggered', 0, null)).toThrow(InvalidTransition);
    // Once something filled it has triggered: nothing is left to trigger.
    expect(() => transition('partially_filled', 'triggered', 100, 'waiting')).toThrow(InvalidTransition);
  });

  it('property: a stop-limit triggers at most once, never fills before it triggered, and stays inside the table', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...ORDER_EVENTS), { maxLength: 40 }),
        fc.boolean(),
        (events, isStop) => {
          let s: OrderState = 'pending_new';
          let stop: StopPhase = isStop ? 'waiting' : null;
          let filled = 0;
          const applied: OrderEvent[] = [];
          for (const e of events) {
            const nextFilled = e === 'partial_fill' || e === 'fill' ? filled + 100 : filled;
            const inTable = TRANSITIONS[s][e] !== undefined;
            const phaseAllows =
              e === 'triggered'
                ? stop === 'waiting'
                : !(stop === 'waiting' && (e === 'fill' || e === 'partial_fill'));
            try {
              s = transition(s, e, nextFilled, stop);
              expect(inTable && phaseAllows).toBe(true);
              filled = nextFilled;
              if (e === 'triggered') stop = 'triggered';
              applied.push(e);
            } catch (err) {
              expect(err).toBeInstanceOf(InvalidTransition);
              expect(inTable && phaseAllows).toBe(false);
            }
          }
          const triggers = applied.filter((e) => e === 'triggered').length;
          expect(triggers).toBeLessThanOrEqual(isStop ? 1 : 0);
          const firstFill = applied.findIndex((e) => e === 'fill' || e === 'partial_fill');
          if (isStop && firstFill >= 0) expect(applied.indexOf('triggered')).toBeLessThan(firstFill);
          if (isStop && firstFill >= 0) expect(applied.indexOf('triggered')).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
