import { expect, type Locator, type Page, test } from '@playwright/test';
import { ensureUser, login, signIn } from './desk.ts';

// The chart (issue 17) in a real Chromium against the real server and the simulator DLL: drawn
// after sign-in and after a reload without a click, one candles request per timeframe, the
// volume histogram and the studies' toggles, the trader's fills as markers, the legend in pt-BR.
// The canvas is opaque: the chart box says what it drew (data-bars, data-markers, …).

const chartBox = (page: Page) => page.getByTestId('chart');
const chartPanel = (page: Page) => page.locator('section.panel.chart');
const legend = (page: Page) => page.getByTestId('chart-legend');
const bars = async (box: Locator) => Number((await box.getAttribute('data-bars')) ?? 0);
const isCandles = (url: string) => new URL(url).pathname === '/api/v1/market/candles';

/** The candles requests the page makes, by timeframe. */
function candleRequests(page: Page): Map<string, number> {
  const byTf = new Map<string, number>();
  page.on('request', (r) => {
    if (!isCandles(r.url())) return;
    const tf = new URL(r.url()).searchParams.get('tf') ?? '?';
    byTf.set(tf, (byTf.get(tf) ?? 0) + 1);
  });
  return byTf;
}

/** The chart shows bars on its canvas: drawn, not only mounted. */
async function expectDrawn(page: Page) {
  await expect(chartBox(page).locator('canvas').first()).toBeVisible({ timeout: 15_000 });
  await expect.poll(() => bars(chartBox(page)), { timeout: 15_000 }).toBeGreaterThan(0);
}

test('after sign-in and after a reload the chart draws candles without a click', async ({ page }) => {
  await ensureUser(page.request, 'chart-a', 'trader');
  await signIn(page, 'chart-a');
  await expectDrawn(page);
  await expect(chartPanel(page).getByRole('heading')).toContainText(/^[A-Z0-9]{4,12}/);
  await page.reload();
  await expect(page.getByTestId('connection')).toHaveText('Live', { timeout: 15_000 });
  await expectDrawn(page);
});

test('each timeframe loads with exactly one candles request, and shows its bars', async ({ page }) => {
  const requests = candleRequests(page);
  await ensureUser(page.request, 'chart-b', 'trader');
  await signIn(page, 'chart-b');
  await expectDrawn(page);
  const tools = chartPanel(page).getByRole('group', { name: 'Timeframe' });
  for (const tf of ['5m', '15m', '60m', '1D', '1m']) {
    await tools.getByRole('button', { name: tf, exact: true }).click();
    await expect(chartBox(page)).toHaveAttribute('data-tf', tf, { timeout: 10_000 });
    await expect.poll(() => bars(chartBox(page))).toBeGreaterThan(0);
    const first = Number(await chartBox(page).getAttribute('data-first-bar'));
    const last = Number(await chartBox(page).getAttribute('data-last-bar'));
    const width = { '1m': 60, '5m': 300, '15m': 900, '60m': 3600, '1D': 86_400 }[tf] as number;
    // Bars start on their width in Brasília time (a day at Brasília midnight, 03:00 UTC).
    for (const t of [first, last]) expect((t - 3 * 3_600_000) % (width * 1000), `${tf} bar at ${t}`).toBe(0);
    if (tf === '1D') expect(await bars(chartBox(page))).toBe((last - first) / 86_400_000 + 1);
  }
  // Every request answered, none repeated (1m: once at sign-in, once when chosen again).
  await page.waitForLoadState('networkidle');
  expect(Object.fromEntries(requests)).toEqual({ '1m': 2, '5m': 1, '15m': 1, '60m': 1, '1D': 1 });
});

test('the volume histogram and the studies toggle, and the periods are kept on the device', async ({
  page,
}) => {
  await ensureUser(page.request, 'chart-c', 'trader');
  await signIn(page, 'chart-c');
  await expectDrawn(page);
  const box = chartBox(page);
  const studies = chartPanel(page).getByRole('group', { name: 'Studies' });
  // Volume on by default: one histogram bar per candle.
  await expect
    .poll(async () => (await box.getAttribute('data-volume-bars')) === (await box.getAttribute('data-bars')))
    .toBe(true);
  await expect(legend(page)).toContainText('Vol');
  await expect(legend(page)).toContainText('VWAP');
  await studies.getByRole('button', { name: 'Vol' }).click();
  await expect(studies.getByRole('button', { name: 'Vol' })).toHaveAttribute('aria-pressed', 'false');
  await expect(box).toHaveAttribute('data-volume-bars', '0');
  await studies.getByRole('button', { name: 'VWAP' }).click();
  await expect(legend(page)).not.toContainText('VWAP');
  await studies.getByRole('button', { name: 'MA 21' }).click();
  await expect(legend(page)).not.toContainText('MA 21');
  await expect(legend(page)).toContainText('MA 9');
  // A period typed: the toggle and the legend follow; one out of range is refused where typed.
  await chartPanel(page).getByText('Periods').click();
  const ma1 = chartPanel(page).getByLabel('MA 1');
  await ma1.fill('500');
  await expect(chartPanel(page)).toContainText('A period is 1 to 200 bars');
  await expect(studies.getByRole('button', { name: 'MA 9' })).toBeVisible();
  await ma1.fill('5');
  await expect(studies.getByRole('button', { name: 'MA 5' })).toBeVisible();
  await expect(legend(page)).toContainText('MA 5');
  await page.reload();
  await expectDrawn(page);
  await expect(studies.getByRole('button', { name: 'Vol' })).toHaveAttribute('aria-pressed', 'false');
  await expect(studies.getByRole('button', { name: 'MA 5' })).toHaveAttribute('aria-pressed', 'true');
  await expect(box).toHaveAttribute('data-volume-bars', '0');
});

test('a fill placed with the ticket shows on the chart as a marker, buy and sell', async ({ page }) => {
  await ensureUser(page.request, 'chart-d', 'trader', 'E2E-CHART');
  await signIn(page, 'chart-d');
  await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
  await expect(chartPanel(page).getByRole('heading')).toContainText('PETR4');
  await expectDrawn(page);
  await expect(chartBox(page)).toHaveAttribute('data-markers', '0');
  const ticket = page.getByRole('region', { name: 'Order ticket' });
  const fills = page.getByRole('table', { name: 'Fills' }).locator('tbody tr');
  for (const [key, count] of [
    ['F2', 1],
    ['F3', 2],
  ] as const) {
    await page.keyboard.press(key);
    await expect(ticket.getByLabel(/Quantity/)).toBeFocused();
    await page.keyboard.press('Alt+M');
    await page.keyboard.press('Enter');
    await expect(fills).toHaveCount(count, { timeout: 10_000 });
  }
  // The buy and the sell of the same minute: ▲ under its bar and ▼ over it.
  await expect(chartBox(page)).toHaveAttribute('data-markers', '2', { timeout: 10_000 });
  // On 15m the two are still two markers of one bar.
  await chartPanel(page).getByRole('button', { name: '15m', exact: true }).click();
  await expect(chartBox(page)).toHaveAttribute('data-tf', '15m');
  await expect(chartBox(page)).toHaveAttribute('data-markers', '2');
});

const PT_BR_PRICE = /^\d{1,3}(\.\d{3})*,\d{2}$/;
const PT_BR_WHOLE = /^\d{1,3}(\.\d{3})*$/;

test('hovering a bar shows its OHLCV and studies in the legend, pt-BR; WIN without decimals', async ({
  page,
}) => {
  await ensureUser(page.request, 'chart-e', 'trader');
  await signIn(page, 'chart-e');
  await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
  await expectDrawn(page);
  const value = (key: string) => legend(page).locator(`[data-item="${key}"] b`).textContent();
  // Without a hover: the last bar.
  await expect(legend(page)).toHaveAttribute('data-hovered', 'false');
  for (const k of ['open', 'high', 'low', 'close', 'vwap']) expect(await value(k), k).toMatch(PT_BR_PRICE);
  // Before its ninth bar the average has no value yet.
  expect(await value('ma1')).toMatch(new RegExp(`${PT_BR_PRICE.source}|^—$`));
  expect(await value('volume')).toMatch(PT_BR_WHOLE);
  const box = await chartBox(page).boundingBox();
  if (!box) throw new Error('no chart box');
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
  await expect(legend(page)).toHaveAttribute('data-hovered', 'true');
  await expect(legend(page).locator('time')).toHaveText(/^\d{2}\/\d{2} \d{2}:\d{2}$/);
  const o = Number((await value('open'))?.replace(/\./g, '').replace(',', '.'));
  const h = Number((await value('high'))?.replace(/\./g, '').replace(',', '.'));
  const l = Number((await value('low'))?.replace(/\./g, '').replace(',', '.'));
  expect(h).toBeGreaterThanOrEqual(Math.max(o, l));
  expect(l).toBeLessThanOrEqual(o);
  await page.mouse.move(box.x + box.width + 50, box.y - 50);
  await expect(legend(page)).toHaveAttribute('data-hovered', 'false');
  // WIN quotes in whole points: 128.050, never 128050.00.
  await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="WINZ25"]').click();
  await expect(chartPanel(page).getByRole('heading')).toContainText('WINZ25');
  await expectDrawn(page);
  for (const k of ['open', 'high', 'low', 'close']) expect(await value(k), k).toMatch(/^\d{3}\.\d{3}$/);
});

const MINUTE = 60_000;
const B3_OFFSET = -3 * 3_600_000;

test('after a fresh start the 1m chart has the session from its open: a candle for every minute that traded', async ({
  page,
}, testInfo) => {
  await ensureUser(page.request, 'chart-f', 'trader');
  const auth = { headers: { Authorization: `Bearer ${await login(page.request, 'chart-f')}` } };
  await signIn(page, 'chart-f');
  await expect(chartPanel(page).getByRole('heading')).toContainText('PETR4'); // the first ticker, unclicked
  await expectDrawn(page);
  // The simulator's clock: the time of PETR4's last trade (it trades 20 times a second).
  const simNow = async () =>
    (
      (await (await page.request.get('/api/v1/market/quotes', auth)).json()).quotes as {
        ticker: string;
        time: number;
      }[]
    ).find((q) => q.ticker === 'PETR4')?.time as number;
  let seen = { bars: 0, firstBar: 0, lastBar: 0, now: 0 };
  await expect
    .poll(
      async () => {
        const box = chartBox(page);
        const now = await simNow();
        seen = {
          bars: await bars(box),
          firstBar: Number(await box.getAttribute('data-first-bar')),
          lastBar: Number(await box.getAttribute('data-last-bar')),
          now,
        };
        return seen.lastBar === Math.floor(now / MINUTE) * MINUTE;
      },
      { timeout: 10_000, message: 'the forming bar is the simulator clock minute' },
    )
    .toBe(true);
  // Every PETR4 trade the server stored (the session's history, then live), a page at a time
  // from the newest: the chart has one bar per minute among them, up to its forming bar.
  const minutes = new Set<number>();
  let first = { seq: 0, time: 0 };
  for (let before = Number.MAX_SAFE_INTEGER; ; ) {
    const res = await page.request.get(
      `/api/v1/market/trades?ticker=PETR4&before=${before}&limit=2000`,
      auth,
    );
    expect(res.status()).toBe(200);
    const trades = (await res.json()).trades as { seq: number; time: number }[];
    if (trades.length === 0) break;
    for (const t of trades)
      if (t.time < seen.lastBar + MINUTE) minutes.add(Math.floor(t.time / MINUTE) * MINUTE);
    first = trades[0] as { seq: number; time: number }; // a page is in seq order: its oldest first
    before = first.seq;
  }
  expect(first.seq).toBe(1);
  expect(seen.firstBar).toBe(Math.floor(first.time / MINUTE) * MINUTE);
  expect(seen.bars).toBe(minutes.size);
  // The backfill asked today from B3's 10:00 open: on a weekday from 10:00 Brasília on, the first
  // trade is the session's opening print; before the open or on a weekend there is no session yet
  // and the chart starts at the first live trade.
  const b3 = new Date(seen.now + B3_OFFSET);
  const open = Date.UTC(b3.getUTCFullYear(), b3.getUTCMonth(), b3.getUTCDate(), 10) - B3_OFFSET;
  const weekday = b3.getUTCDay() !== 0 && b3.getUTCDay() !== 6;
  if (weekday && seen.now >= open) expect(first.time).toBe(open);
  else expect(first.time).toBeGreaterThanOrEqual(open - 10 * 3_600_000); // today, Brasília
  testInfo.annotations.push({
    type: 'first bar',
    description: `simulator clock ${b3.toISOString().slice(11, 16)} Brasília; first bar ${new Date(seen.firstBar + B3_OFFSET).toISOString().slice(11, 16)}; ${seen.bars} 1m bars`,
  });
});
