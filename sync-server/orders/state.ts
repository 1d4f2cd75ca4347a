import { type OrderState, TERMINAL } from '../shared/orders.ts';

// The order lifecycle as one explicit table: (state, event) → state. An event that is not in
// the table is an invalid transition: it is reported, never applied. A stop-limit also has a
// phase beside its state (waiting for its trigger, then triggered): `triggered` is the one event
// that moves it, and a waiting stop cannot fill.

export const ORDER_EVENTS = [
  'accepted',
  'triggered',
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

// A stop triggers while nothing of it can be filled: before or after its acknowledgement (both
// can come in one read), or with a cancel or a replace in flight. The state does not change.
export const TRANSITIONS: Readonly<Record<OrderState, Readonly<Partial<Record<OrderEvent, Target>>>>> = {
  pending_new: {
    ...WORKING_EXITS,
    accepted: 'new',
    triggered: 'pending_new',
    rejected: 'rejected',
    replace_requested: undefined,
  },
  new: { ...WORKING_EXITS, triggered: 'new', rejected: 'rejected' },
  partially_filled: WORKING_EXITS,
  // Fills keep arriving while a cancel or a replace is in flight.
  pending_cancel: {
    triggered: 'pending_cancel',
    partial_fill: 'pending_cancel',
    fill: 'filled',
    canceled: 'canceled',
    cancel_rejected: 'working',
    expired: 'expired',
  },
  pending_replace: {
    triggered: 'pending_replace',
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

/** A stop-limit's phase; null for an order that is not one. */
export type StopPhase = 'waiting' | 'triggered' | null;

export const stopPhase = (o: { type: string; triggeredAt: string | null }): StopPhase =>
  o.type !== 'stop_limit' ? null : o.triggeredAt === null ? 'waiting' : 'triggered';

/** Events a stop's phase forbids whatever the state: only a waiting stop triggers, and it never fills. */
const PHASE_FORBIDS: Readonly<Record<'waiting' | 'triggered' | 'none', ReadonlySet<OrderEvent>>> = {
  waiting: new Set(['partial_fill', 'fill']),
  triggered: new Set(['triggered']),
  none: new Set(['triggered']),
};

export class InvalidTransition extends Error {
  override name = 'InvalidTransition';
  constructor(
    readonly from: OrderState,
    readonly event: OrderEvent,
    readonly stop: StopPhase = null,
  ) {
    super(
      stop === null
        ? `order event ${event} is not allowed in state ${from}`
        : `order event ${event} is not allowed in state ${from} for a ${stop} stop`,
    );
  }
}

/**
 * The next state, or InvalidTransition. `filledQty` is the quantity filled after the event;
 * `stop` the order's stop phase before it (null: not a stop-limit).
 */
export function transition(
  from: OrderState,
  event: OrderEvent,
  filledQty: number,
  stop: StopPhase = null,
): OrderState {
  const target = TRANSITIONS[from][event];
  if (target === undefined || PHASE_FORBIDS[stop ?? 'none'].has(event))
    throw new InvalidTransition(from, event, stop);
  if (target === 'working') return filledQty > 0 ? 'partially_filled' : 'new';
  return target;
}

export const isTerminal = (s: OrderState) => TERMINAL.has(s);
