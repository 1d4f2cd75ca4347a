import { z } from 'zod';
import type { Principal } from '../../auth/tokens.ts';
import type { Brackets } from '../../orders/brackets.ts';
import { riskConfig } from '../../orders/risk.ts';
import { bracketJson } from '../../orders/wire.ts';
import type { Instrument } from '../../shared/instruments.ts';
import type { AuditStore } from '../../store/audit.ts';
import type { BracketStore } from '../../store/brackets.ts';
import type { OrderStore } from '../../store/orders.ts';
import { HttpError, ok, type Route } from '../types.ts';
import { accountOf, everyone } from './orders.ts';

// OCO brackets (orders/brackets.ts): attach a take-profit and a stop-loss to a new entry or to
// the open position, list them, cancel one. docs/protocol.md.

const price = z.number().positive().finite().max(1e9);
const newBracket = z
  .object({
    // Room for `.tp`, `.sl` and `.e` on its orders' ids.
    clientId: z.string().regex(/^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,47}$/, '1-48 letters, digits or . _ : -'),
    ticker: z.string().regex(/^[A-Z0-9]{4,12}$/),
    /** On the open position: how much of it (default all). */
    qty: z.number().int().positive().max(100_000_000).optional(),
    /** With a new entry order instead: its fills are what the legs protect. */
    entry: z
      .object({
        side: z.enum(['buy', 'sell']),
        type: z.enum(['limit', 'market']),
        qty: z.number().int().positive().max(100_000_000),
        price: price.optional(),
      })
      .strict()
      .refine((e) => (e.type === 'limit') === (e.price !== undefined), {
        message: 'a limit entry needs a price, and a market entry has none',
        path: ['price'],
      })
      .optional(),
    takeProfit: price,
    stopPrice: price,
    stopLimit: price,
  })
  .strict()
  .refine((b) => b.entry === undefined || b.qty === undefined, {
    message: 'give qty (a bracket on the open position) or entry (a bracket with a new order), not both',
    path: ['qty'],
  });
const listQuery = z.object({
  open: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  account: z.string().max(40).optional(),
});

export interface BracketRouteDeps {
  readonly brackets: Brackets;
  readonly store: BracketStore;
  readonly orders: OrderStore;
  readonly audit: AuditStore;
  readonly instruments: ReadonlyMap<string, Instrument>;
  readonly lastPrice: (ticker: string) => number | undefined;
}

const traders = ['admin', 'trader'] as const;

export function bracketRoutes({
  brackets,
  store,
  orders,
  audit,
  instruments,
  lastPrice,
}: BracketRouteDeps): Route[] {
  return [
    {
      method: 'post',
      path: '/api/v1/brackets',
      access: traders,
      async handle(req) {
        const body = newBracket.parse(req.body);
        const p = req.principal as Principal;
        const account = await accountOf(orders, p);
        const reference = body.entry?.price ?? lastPrice(body.ticker);
        const r = await brackets.create(
          account,
          p.userId,
          body,
          instruments.get(body.ticker),
          reference,
          await riskConfig(orders, account),
        );
        if (r.created)
          await audit.record({
            actorId: p.userId,
            action: 'bracket.create',
            target: `bracket:${r.bracket.id}`,
            after: body,
          });
        return ok({ bracket: bracketJson(r.bracket), created: r.created }, r.created ? 201 : 200);
      },
    },
    {
      method: 'get',
      path: '/api/v1/brackets',
      access: everyone,
      async handle(req) {
        const q = listQuery.parse(Object.fromEntries(req.query));
        const account = await accountOf(orders, req.principal as Principal, q.account);
        const rows = await store.list(account, { open: q.open === 'true', limit: q.limit });
        return ok({ account, brackets: rows.map(bracketJson) });
      },
    },
    {
      method: 'post',
      path: '/api/v1/brackets/:id/cancel',
      access: traders,
      async handle(req) {
        const id = Number(req.params.id);
        const b = Number.isSafeInteger(id) ? await store.byId(id) : undefined;
        const p = req.principal as Principal;
        // Another account's bracket is reported as missing: its existence is not revealed.
        if (!b || (p.role !== 'admin' && b.accountId !== (await orders.accountOf(p.userId))))
          throw new HttpError(404, 'not_found', `No bracket ${req.params.id}`);
        if (b.state === 'closed' || b.state === 'canceled')
          throw new HttpError(409, 'bracket_closed', `Bracket ${b.id} is already ${b.state}`);
        const after = await brackets.cancel(b);
        await audit.record({
          actorId: p.userId,
          action: 'bracket.cancel',
          target: `bracket:${b.id}`,
          before: { state: b.state },
          after: { state: after.state },
        });
        return ok({ bracket: bracketJson(after) }, 202);
      },
    },
  ];
}
