// Orders: (1) the pre-trade risk check in-process, beside the same rules written as a zod schema
// with refinements (the usual way a Node service validates); (2) the order round trip through
// the whole real server — REST → risk → write-ahead → koffi → simulator → order callback →
// capture ring → GetOrderDetails → database → WS push — beside a bare REST round trip on the
// same server; (3) a stop-limit's round trip: submitted, acknowledged, triggered by a trade
// injected through its stop (SimInjectTrade), filled; (4) an OCO bracket on a position: both legs
// sent, the take-profit filled, the stop cancelled by the server.
// Run: npx tsx bench/orders.bench.ts (DATABASE_URL set: PostgreSQL, else PGlite).
import WebSocket from 'ws';
import { z } from 'zod';
import { DEFAULT_RISK, type OrderRequest, type RiskSnapshot, riskCheck } from '../sync-server/orders/risk.ts';
import { instrumentFor } from '../sync-server/shared/instruments.ts';
import { b3Now } from '../sync-server/testing/market.ts';
import { login, startTestServer } from '../sync-server/testing/server.ts';
import { until } from '../sync-server/testing/until.ts';

const RISK_CALLS = Number(process.env.BENCH_RISK_CALLS ?? 200_000);
const ORDERS = Number(process.env.BENCH_ORDERS ?? 400);
const STOPS = Number(process.env.BENCH_STOPS ?? 200);
const BRACKETS = Number(process.env.BENCH_BRACKETS ?? 200);

const quantiles = (xs: number[]) => {
  xs.sort((a, b) => a - b);
  const q = (p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number;
  return { p50: q(0.5), p99: q(0.99), max: xs.at(-1) as number };
};

/** A table of latencies in ms, one row a path. */
function printLatencies(title: string, rows: readonly (readonly [string, ReturnType<typeof quantiles>])[]) {
  console.log(`\n${title}`);
  console.log('| path | p50 ms | p99 ms | max ms |\n|---|---|---|---|');
  for (const [name, q] of rows)
    console.log(`| ${name} | ${q.p50.toFixed(2)} | ${q.p99.toFixed(2)} | ${q.max.toFixed(2)} |`);
}

// ---- (1) risk check ----
const inst = instrumentFor('PETR4', 'B');
if (!inst) throw new Error('PETR4 is not a known instrument');
const cfg = { ...DEFAULT_RISK, ordersPerSecond: 1e9, orderBurst: 1e9 };
const snapshot = (now: number): RiskSnapshot => ({
  instrument: inst,
  tradable: true,
  lastPrice: 38.5,
  priceLimits: { min: 34.65, max: 42.35 },
  positionQty: 300,
  openBuyQty: 200,
  openSellQty: 100,
  openOrders: 3,
  dayNetCents: -12_345,
  duplicateClientOrderId: false,
  bucket: { tokens: 1e9, at: now },
  now,
});
const requests: OrderRequest[] = Array.from({ length: 1024 }, (_, i) => ({
  clientOrderId: `c${i}`,
  ticker: 'PETR4',
  side: i % 2 ? 'buy' : 'sell',
  type: i % 5 ? 'limit' : 'market',
  qty: 100 * (1 + (i % 7)),
  price: i % 5 ? 38.5 + ((i % 11) - 5) * 0.01 : undefined,
}));

// The peer: the same rules as one zod schema over { request, snapshot }.
const peer = z
  .object({
    req: z.object({
      ticker: z.string().regex(/^[A-Z0-9]{4,12}$/),
      side: z.enum(['buy', 'sell']),
      type: z.enum(['limit', 'market']),
      qty: z.number().int().positive(),
      price: z.number().positive().optional(),
    }),
    snap: z.object({
      lastPrice: z.number().positive(),
      priceLimits: z.object({ min: z.number().positive(), max: z.number().positive() }).optional(),
      positionQty: z.number().int(),
      openOrders: z.number().int(),
    }),
  })
  .refine((x) => x.req.qty % inst.lotSize === 0, 'lot')
  .refine(
    (x) =>
      x.req.type === 'market' ||
      Math.abs(Math.round((x.req.price ?? 0) / inst.tickSize) * inst.tickSize - (x.req.price ?? 0)) < 1e-9,
    'tick',
  )
  .refine(
    (x) =>
      x.req.type === 'market' ||
      (Math.abs((x.req.price ?? 0) - x.snap.lastPrice) / x.snap.lastPrice) * 100 <= cfg.priceBandPct,
    'band',
  )
  .refine(
    (x) =>
      x.req.type === 'market' ||
      !x.snap.priceLimits ||
      ((x.req.price ?? 0) >= x.snap.priceLimits.min && (x.req.price ?? 0) <= x.snap.priceLimits.max),
    'exchange limits',
  )
  .refine((x) => x.req.qty <= cfg.maxOrderQty, 'max qty')
  .refine((x) => (x.req.price ?? x.snap.lastPrice) * x.req.qty * 100 <= cfg.maxOrderNotionalCents, 'notional')
  .refine(
    (x) =>
      Math.abs(x.snap.positionQty + (x.req.side === 'buy' ? x.req.qty : -x.req.qty)) <= cfg.maxPositionQty,
    'position',
  )
  .refine((x) => x.snap.openOrders < cfg.maxOpenOrders, 'open orders');

function timeEach(name: string, fn: (i: number) => boolean) {
  for (let i = 0; i < 20_000; i++) fn(i); // warm-up
  const us: number[] = new Array(RISK_CALLS);
  let passed = 0;
  for (let i = 0; i < RISK_CALLS; i++) {
    const t0 = process.hrtime.bigint();
    if (fn(i)) passed++;
    us[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return { name, passed, ...quantiles(us) };
}
const now = Date.now();
const snap = snapshot(now);
const risk = [
  timeEach(
    'Tape riskCheck (pure, frozen config)',
    (i) => riskCheck(cfg, requests[i & 1023] as OrderRequest, snap).ok,
  ),
  timeEach(
    'peer: zod schema with refinements',
    (i) => peer.safeParse({ req: requests[i & 1023], snap }).success,
  ),
];
console.log(
  `\nRisk check, ${RISK_CALLS.toLocaleString('en')} calls each (µs per call, hrtime around each call):`,
);
console.log('| implementation | p50 µs | p99 µs | max µs | passed |\n|---|---|---|---|---|');
for (const r of risk)
  console.log(
    `| ${r.name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.passed} |`,
  );
console.log(`p99 ratio peer / Tape: ${((risk[1]?.p99 ?? 0) / (risk[0]?.p99 ?? 1)).toFixed(1)}×`);

// ---- (2) order round trip ----
const backend = process.env.DATABASE_URL ? 'postgres' : 'pglite';
const t = await startTestServer(backend);
const sim = t.server.connector.sim;
if (!sim) throw new Error('the simulator library is required');
sim.setRate(0);
sim.resetOrders();
sim.setOrderMode('match');
const admin = await login(t.url);
// Every call must succeed: a refused setup (say, a risk config the server rejects) would
// otherwise leave the defaults in place and the loop waiting for a fill that never comes.
const call = async (token: string, method: string, path: string, body?: unknown) => {
  const r = await fetch(`${t.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await r.json()) as Record<string, unknown>;
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
};
await until(() => t.server.orders?.isReady, 'orders reconciled');
await call(admin, 'POST', '/api/v1/accounts', { id: 'BENCH-1', brokerId: 1982, name: 'bench' });
const user = (
  await call(admin, 'POST', '/api/v1/users', {
    username: 'bench',
    password: 'bench-password',
    role: 'trader',
  })
).user as { userId: number };
await call(admin, 'PUT', `/api/v1/users/${user.userId}/account`, { accountId: 'BENCH-1' });
// The kill switch has its own route; the config body holds the limits only.
const { killSwitch: _, ...limits } = cfg;
await call(admin, 'PUT', '/api/v1/risk/config/BENCH-1', {
  ...limits,
  ordersPerSecond: 1_000,
  orderBurst: 10_000,
  maxOpenOrders: 10_000,
});
const token = await login(t.url, 'bench', 'bench-password');
sim.injectTrade({ ticker: 'PETR4', exchange: 'B', date: b3Now(), price: 38.5, qty: 100, tradeNumber: 1 });
await until(() => t.server.market.quote('PETR4')?.last === 38.5, 'a last trade');

const ws = new WebSocket(`${t.wsUrl}?token=${token}`);
/** Pushes of an order reaching a state, by `id:state`: awaited, or seen before anyone waited. */
const waiting = new Map<string, () => void>();
const early = new Set<string>();
ws.on('message', (data, binary) => {
  if (binary) return;
  const m = JSON.parse(String(data)) as { type: string; order?: { id: number; state: string } };
  if (m.type !== 'order' || !m.order) return;
  const key = `${m.order.id}:${m.order.state}`;
  const done = waiting.get(key);
  if (done) done();
  else early.add(key);
});
/** Resolves once the order's push in `state` arrived (at once if it already has). */
const pushedIn = (id: number, state: string) =>
  new Promise<void>((resolve) => {
    const key = `${id}:${state}`;
    if (early.delete(key)) return resolve();
    waiting.set(key, () => {
      waiting.delete(key);
      resolve();
    });
  });
await new Promise((r) => ws.once('open', r));
await new Promise((r) => setTimeout(r, 200));

const rest: number[] = [];
const pushed: number[] = [];
const bare: number[] = [];
for (let i = 0; i < ORDERS + 50; i++) {
  const t0 = performance.now();
  await fetch(`${t.url}/api/v1/me`, { headers: { Authorization: `Bearer ${token}` } }).then((r) =>
    r.arrayBuffer(),
  );
  const t1 = performance.now();
  const r = await call(token, 'POST', '/api/v1/orders', {
    clientOrderId: `bench-${i}`,
    ticker: 'PETR4',
    side: i % 2 ? 'sell' : 'buy',
    type: 'market',
    qty: 100,
  });
  const t2 = performance.now();
  const id = (r.order as { id: number }).id;
  await pushedIn(id, 'filled');
  const t3 = performance.now();
  if (i < 50) continue; // warm-up
  bare.push(t1 - t0);
  rest.push(t2 - t1);
  pushed.push(t3 - t1);
}
const rows = [
  ['peer: bare authenticated GET /api/v1/me', quantiles(bare)],
  ['POST /api/v1/orders → 201 (risk, write-ahead, SendOrder)', quantiles(rest)],
  ['POST → filled order pushed over WS (full round trip)', quantiles(pushed)],
] as const;
printLatencies(`Order round trip on ${backend}, ${ORDERS} sequential market orders (ms):`, rows);
console.log(`p50 ratio round trip / bare GET: ${(rows[2][1].p50 / rows[0][1].p50).toFixed(1)}×`);

// ---- (3) stop-limit round trip ----
// The simulated book stands still (rate 0; neither orders nor injected trades move it): a buy stop
// at 38.60 and a sell stop at 38.40, each limit one tick past the touch so that it fills once
// triggered, alternately, so the position stays flat. Each waits for its acknowledgement, then a
// trade is printed through its stop.
const top = await until(() => t.server.market.quote('PETR4')?.top, 'the PETR4 book');
const cents = (p: number) => Math.round(p * 100) / 100;
const stopLeg = (side: 'buy' | 'sell') =>
  side === 'buy'
    ? { stopPrice: 38.6, price: cents(Math.max(38.6, top.ask ?? 38.6) + 0.01), through: 38.6 }
    : { stopPrice: 38.4, price: cents(Math.min(38.4, top.bid ?? 38.4) - 0.01), through: 38.4 };
const stopSubmit: number[] = [];
const stopTrigger: number[] = [];
const stopTotal: number[] = [];
let printed = 1;
for (let i = 0; i < STOPS + 20; i++) {
  const side = i % 2 ? 'sell' : 'buy';
  const leg = stopLeg(side);
  const t0 = performance.now();
  const r = await call(token, 'POST', '/api/v1/orders', {
    clientOrderId: `bench-stop-${i}`,
    ticker: 'PETR4',
    side,
    type: 'stop_limit',
    qty: 100,
    price: leg.price,
    stopPrice: leg.stopPrice,
  });
  const t1 = performance.now();
  const id = (r.order as { id: number }).id;
  await pushedIn(id, 'new');
  const t2 = performance.now();
  sim.injectTrade({
    ticker: 'PETR4',
    exchange: 'B',
    date: b3Now(),
    price: leg.through,
    qty: 100,
    tradeNumber: ++printed,
  });
  await pushedIn(id, 'filled');
  const t3 = performance.now();
  if (i < 20) continue; // warm-up
  stopSubmit.push(t1 - t0);
  stopTrigger.push(t3 - t2);
  stopTotal.push(t3 - t0);
}
const stopRows = [
  ['POST stop_limit → 201 (risk, write-ahead, SendOrder)', quantiles(stopSubmit)],
  ['trade printed through the stop → filled order pushed (trigger, fill)', quantiles(stopTrigger)],
  ['POST → acknowledged → trade through → filled pushed (full)', quantiles(stopTotal)],
] as const;
printLatencies(`Stop-limit round trip on ${backend}, ${STOPS} sequential stop-limit orders (ms):`, stopRows);

// ---- (4) bracket round trip ----
// A long 100 bought at market (not timed), then a bracket on it over REST: the POST answers once
// both legs are sent; the take-profit is filled by the broker (SimFillOrder: the still book never
// reaches 39), and the server cancels the stop. The OCO reaction is the fill → stop cancelled push.
const bracketSubmit: number[] = [];
const bracketWorking: number[] = [];
const bracketReaction: number[] = [];
const bracketTotal: number[] = [];
for (let i = 0; i < BRACKETS + 10; i++) {
  const entry = await call(token, 'POST', '/api/v1/orders', {
    clientOrderId: `bench-long-${i}`,
    ticker: 'PETR4',
    side: 'buy',
    type: 'market',
    qty: 100,
  });
  await pushedIn((entry.order as { id: number }).id, 'filled');
  const t0 = performance.now();
  const r = await call(token, 'POST', '/api/v1/brackets', {
    clientId: `bench-oco-${i}`,
    ticker: 'PETR4',
    qty: 100,
    takeProfit: 39,
    stopPrice: 38,
    stopLimit: 37.9,
  });
  const t1 = performance.now();
  const b = r.bracket as { takeProfitOrderId: number; stopLossOrderId: number };
  await Promise.all([pushedIn(b.takeProfitOrderId, 'new'), pushedIn(b.stopLossOrderId, 'new')]);
  const t2 = performance.now();
  const tp = (await call(token, 'GET', `/api/v1/orders/${b.takeProfitOrderId}`)).order as {
    localOrderId: string;
  };
  const t3 = performance.now();
  sim.fillOrder(BigInt(tp.localOrderId), 100, 39);
  await pushedIn(b.stopLossOrderId, 'canceled');
  const t4 = performance.now();
  if (i < 10) continue; // warm-up
  bracketSubmit.push(t1 - t0);
  bracketWorking.push(t2 - t0);
  bracketReaction.push(t4 - t3);
  bracketTotal.push(t2 - t0 + (t4 - t3));
}
const bracketRows = [
  ['POST /api/v1/brackets → 201 (both legs risk-checked and sent)', quantiles(bracketSubmit)],
  ['POST → both legs acknowledged (pushed new)', quantiles(bracketWorking)],
  ['take-profit filled → stop cancelled pushed (the OCO reaction)', quantiles(bracketReaction)],
  ['bracket placed and working + its OCO reaction (full)', quantiles(bracketTotal)],
] as const;
printLatencies(`Bracket round trip on ${backend}, ${BRACKETS} sequential brackets (ms):`, bracketRows);
ws.close();
await t.close();
