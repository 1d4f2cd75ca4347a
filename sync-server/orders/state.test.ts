import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ORDER_STATES, type OrderState } from '../shared/orders.ts';
import { InvalidTransition, isTerminal, ORDER_EVENTS, TRANSITIONS, transition } from './state.ts';

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
          const allowed = TRANSITIONS[s][e] !== undefined;
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
});
