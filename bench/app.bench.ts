// The PWA's performance budgets, measured in Debian's Chromium against the built app and the
// real server on loopback: initial JS (gzip), first quote visible after load, long tasks while
// rendering ~1,000 quote updates/s on Monitor, and on the Trade screen (chart, Times & Trades,
// price ladder, broker flow open on PETR4) frames per second and long tasks while ~1,000 trades/s
// and the book frames they move arrive. Run: npx vite build && npx tsx bench/app.bench.ts
// BENCH_DIST=<dir>: another build of the app (A/B runs); BENCH_TRACE=<file>: a Chromium trace of
// the Trade screen's window, summed by event on the page's main thread; BENCH_PROFILE=1: a CPU
// profile of it, functions by self time (a build with `--minify false` names them).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';
import { decodeBatch, FrameKind, isBatch } from '../sync-server/shared/market.ts';
import { ADMIN_PASSWORD, login, startTestServer } from '../sync-server/testing/server.ts';
import { until } from '../sync-server/testing/until.ts';

const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TICKERS = 6;
// BENCH_DIST: another build of the app to measure (A/B runs against the same server).
const dist = process.env.BENCH_DIST || join(import.meta.dirname, '..', 'dist');

// Initial JS: the entry script and every chunk the HTML preloads (lazy screens excluded).
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1] as string);
const gzip = initial.reduce((sum, f) => sum + gzipSync(readFileSync(join(dist, f)), { level: 9 }).length, 0);

const backend = process.env.DATABASE_URL ? 'postgres' : 'pglite';
const t = await startTestServer(backend, { TAPE_SIM_RATE: String(RATE / TICKERS), TAPE_STATIC_DIR: dist });
await until(() => t.server.feed.status.connected, 'connector');
// Past the first run (an admin on a fresh install is led through it before the screens).
const setupDone = await fetch(`${t.url}/api/v1/setup/done`, {
  method: 'POST',
  headers: { Authorization: `Bearer ${await login(t.url)}`, 'Content-Type': 'application/json' },
  body: JSON.stringify({ ownAccount: null }),
});
if (!setupDone.ok) throw new Error(`setup/done: ${setupDone.status} ${await setupDone.text()}`);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const page = await browser.newPage({ baseURL: t.url, viewport: { width: 1440, height: 900 } });
await page.addInitScript(() => {
  localStorage.setItem('tape.lang', 'en'); // the labels this bench clicks are the English ones
  const w = window as unknown as { longTasks: number[] };
  w.longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
});
await page.goto('/');
await page.getByLabel('Username').fill('admin');
await page.getByLabel('Password').fill(ADMIN_PASSWORD);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.getByTestId('last-PETR4').waitFor();
await page.waitForTimeout(2_500); // the quote snapshot is kept on the device every 2 s

// First live quote after a load with a session, as a trader opening the app sees it (the
// device's kept quotes show earlier, marked stale: they do not count).
const liveQuote = page.locator('table.quotes tr[data-ticker="PETR4"]:not(.stale) [data-testid="last-PETR4"]');
const firstQuote: number[] = [];
for (let i = 0; i < 5; i++) {
  await page.reload();
  await liveQuote.waitFor();
  firstQuote.push(await page.evaluate(() => performance.now()));
}

// Rendering under load, on the full board (Monitor): trades applied on screen (its Trades
// column) and long tasks meanwhile.
await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Monitor' }).click();
const tradesOnScreen = () =>
  page.evaluate(() =>
    [...document.querySelectorAll('table.quotes tbody tr td[data-col="Trades"]')].reduce(
      (s, td) => s + Number((td.textContent ?? '0').replace(/\./g, '')),
      0,
    ),
  );
const resetLongTasks = () =>
  page.evaluate(() => {
    (window as unknown as { longTasks: number[] }).longTasks = [];
  });
const readLongTasks = () => page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
await page.waitForTimeout(2_000); // warm-up
await resetLongTasks();
const before = await tradesOnScreen();
await page.waitForTimeout(SECONDS * 1000);
const rendered = ((await tradesOnScreen()) - before) / SECONDS;
const longTasks = await readLongTasks();

// The Trade screen with every panel of the desk open on PETR4: frames drawn per second (an
// animation-frame counter) and long tasks, with the market frames that arrived meanwhile counted
// by kind (byte 1 of each binary frame: 1 trades, 2 book; a batch frame's, protocol.md, counted
// by what it holds), and the socket's WebSocket messages.
const frames = { trades: 0, book: 0, records: 0, messages: 0 };
const countFrame = (frame: Uint8Array) => {
  const kind = frame[1];
  if (kind === FrameKind.trades) {
    frames.trades++;
    frames.records += new DataView(frame.buffer, frame.byteOffset).getUint16(4 + (frame[3] as number), true);
  } else if (kind === FrameKind.book) frames.book++;
};
page.on('websocket', (ws) =>
  ws.on('framereceived', ({ payload }) => {
    frames.messages++;
    if (typeof payload === 'string') return;
    if (!isBatch(payload)) return countFrame(payload);
    for (const m of decodeBatch(payload)) if (typeof m !== 'string') countFrame(m);
  }),
);
await page.reload(); // the socket is opened again, now watched
await page.getByTestId('last-PETR4').waitFor();
await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: 'Trade' }).click();
await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
// BENCH_HIDE=chart,ladder measures without those panels (which one costs what).
const hidden = (process.env.BENCH_HIDE ?? '').split(',').filter(Boolean);
const panels = ['chart', 'tape', 'flow', 'ladder'].filter((p) => !hidden.includes(p));
const NAMES: Record<string, string> = {
  chart: 'Chart',
  tape: 'Times & Trades',
  flow: 'Broker flow',
  ladder: 'Price ladder',
};
if (hidden.length) {
  await page.getByRole('button', { name: 'Arrange panels' }).click();
  for (const p of hidden) await page.getByRole('button', { name: `Hide ${NAMES[p]}` }).click();
  await page.getByRole('button', { name: 'Done arranging' }).click();
}
for (const p of panels) await page.locator(`.ws-panel[data-panel="${p}"] .panel`).first().waitFor();
await page.waitForTimeout(3_000); // warm-up: chunks loaded, history drawn
await resetLongTasks();
frames.trades = frames.book = frames.records = frames.messages = 0;
// BENCH_TRACE=<file>: a Chromium trace of the window, and its main thread's time by event kind.
const tracePath = process.env.BENCH_TRACE;
if (tracePath)
  await browser.startTracing(page, {
    path: tracePath,
    categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing'],
  });
// BENCH_PROFILE=1: a CPU profile of the page over the window, its functions by self time.
const cdp = process.env.BENCH_PROFILE ? await page.context().newCDPSession(page) : undefined;
if (cdp) {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
}
// As a string: tsx would wrap a named function for the page in a helper the page lacks.
const fps = (await page.evaluate(`new Promise((resolve) => {
  let n = 0;
  const start = performance.now();
  requestAnimationFrame(function frame() {
    n++;
    if (performance.now() - start < ${SECONDS * 1000}) requestAnimationFrame(frame);
    else resolve((n * 1000) / (performance.now() - start));
  });
})`)) as number;
const deskLongTasks = await readLongTasks();
if (cdp) {
  const { profile } = await cdp.send('Profiler.stop');
  console.log(topFunctions(profile));
}
if (tracePath) {
  await browser.stopTracing();
  console.log(mainThreadTime(JSON.parse(readFileSync(tracePath, 'utf8')), SECONDS));
}
const perSecond = (n: number) => Math.round(n / SECONDS).toLocaleString('en');

firstQuote.sort((a, b) => a - b);
console.log('| budget | goal | measured |\n|---|---|---|');
console.log(`| initial JS (gzip, ${initial.length} files) | ≤ 250 KB | ${(gzip / 1024).toFixed(1)} KB |`);
console.log(
  `| first live quote visible after load (median of 5, loopback) | < 1.5 s | ${(firstQuote[2] as number).toFixed(0)} ms (range ${(firstQuote[0] as number).toFixed(0)}–${(firstQuote[4] as number).toFixed(0)}) |`,
);
console.log(
  `| quote updates rendered | ~${RATE}/s | ${Math.round(rendered).toLocaleString('en')}/s over ${SECONDS} s |`,
);
console.log(
  `| long tasks > 50 ms while rendering | 0 | ${longTasks.filter((d) => d > 50).length} (all long tasks: ${longTasks.length}, max ${Math.max(0, ...longTasks).toFixed(0)} ms) |`,
);
console.log(
  `| Trade screen (${panels.join(', ')}): frames per second | ≥ 55 | ${fps.toFixed(1)} (trades ${perSecond(frames.records)}/s in ${perSecond(frames.trades)} frames/s, book frames ${perSecond(frames.book)}/s, all tickers; ${perSecond(frames.messages)} socket messages/s) |`,
);
console.log(
  `| Trade screen: long tasks > 50 ms | 0 | ${deskLongTasks.filter((d) => d > 50).length} (all: ${deskLongTasks.length}, max ${Math.max(0, ...deskLongTasks).toFixed(0)} ms) |`,
);
await browser.close();
await t.close();

/** The renderer main thread's time per second by top-level trace event (nested ones excluded). */
function mainThreadTime(trace: { traceEvents: TraceEvent[] }, seconds: number): string {
  const events = trace.traceEvents;
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const mine = events
    .filter((e) => e.ph === 'X' && main && e.pid === main.pid && e.tid === main.tid && e.dur)
    .sort((a, b) => a.ts - b.ts);
  const self = new Map<string, number>();
  const inner = new Map<string, number>();
  const stack: TraceEvent[] = [];
  for (const e of mine) {
    while (stack.length && (stack.at(-1) as TraceEvent).ts + ((stack.at(-1) as TraceEvent).dur ?? 0) <= e.ts)
      stack.pop();
    if (stack.length === 1) inner.set(e.name, (inner.get(e.name) ?? 0) + (e.dur ?? 0));
    if (stack.length === 0) self.set(e.name, (self.get(e.name) ?? 0) + (e.dur ?? 0));
    stack.push(e);
  }
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([k, v]) => `${k} ${(v / 1000 / seconds).toFixed(0)}`)
      .join(', ');
  return `main thread ms/s, top level: ${top(self)}\n  one level down: ${top(inner)}`;
}
interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string };
}

/** The profile's functions by share of samples (self time), the top 25. */
function topFunctions(profile: {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples?: number[];
}): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  for (const id of samples) {
    const f = byId.get(id)?.callFrame;
    if (!f) continue;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([k, n]) => `${((100 * n) / samples.length).toFixed(1).padStart(5)} % ${k}`)
    .join('\n');
}
