import { type OrderState, TERMINAL } from '../shared/orders.ts';

// The order lifecycle as one explicit table: (state, event) → state. An event that is not in
// the table is an invalid transition: it is reported, never applied.

export const ORDER_EVENTS = [
  'accepted',
  'partial_fill',
  'fill',
  'cancel_requested',
  'cancel_rejected',
  'canceled',
  'replace_requested',
  'replace_rejected',
  'replaced',
  'rejected',
  'expired',
] as const;
export type OrderEvent = (typeof ORDER_EVENTS)[number];

/** `working` resolves to `new` or `partially_filled` by whether anything was filled. */
type Target = OrderState | 'working';

const WORKING_EXITS: Partial<Record<OrderEvent, Target>> = {
  partial_fill: 'partially_filled',
  fill: 'filled',
  cancel_requested: 'pending_cancel',
  replace_requested: 'pending_replace',
  canceled: 'canceled',
  expired: 'expired',
};

export const TRANSITIONS: Readonly<Record<OrderState, Readonly<Partial<Record<OrderEvent, Target>>>>> = {
  pending_new: { ...WORKING_EXITS, accepted: 'new', rejected: 'rejected', replace_requested: undefined },
  new: { ...WORKING_EXITS, rejected: 'rejected' },
  partially_filled: WORKING_EXITS,
  // Fills keep arriving while a cancel or a replace is in flight.
  pending_cancel: {
    partial_fill: 'pending_cancel',
    fill: 'filled',
    canceled: 'canceled',
    cancel_rejected: 'working',
    expired: 'expired',
  },
  pending_replace: {
    partial_fill: 'pending_replace',
    fill: 'filled',
    replaced: 'working',
    replace_rejected: 'working',
    canceled: 'canceled',
    expired: 'expired',
  },
  filled: {},
  canceled: {},
  rejected: {},
  expired: {},
};

export class InvalidTransition extends Error {
  override name = 'InvalidTransition';
  constructor(
    readonly from: OrderState,
    readonly event: OrderEvent,
  ) {
    super(`order event ${event} is not allowed in state ${from}`);
  }
}

/** The next state, or InvalidTransition. `filledQty` is the quantity filled after the event. */
export function transition(from: OrderState, event: OrderEvent, filledQty: number): OrderState {
  const target = TRANSITIONS[from][event];
  if (target === undefined) throw new InvalidTransition(from, event);
  if (target === 'working') return filledQty > 0 ? 'partially_filled' : 'new';
  return target;
}

export const isTerminal = (s: OrderState) => TERMINAL.has(s);
