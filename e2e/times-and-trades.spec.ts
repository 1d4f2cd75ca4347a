import { expect, type Page, test } from '@playwright/test';
import { ensureUser, login, signIn } from './desk.ts';

// Times & Trades and the broker flow (issue 17) in a real Chromium against the real server and
// the simulator DLL: the brokers by the names the simulator's table gives them (native/sim/agents.c),
// the filters, and a flow whose rows add up.

/** The simulator's brokers, by short name (native/sim/agents.c). */
const SIM_BROKERS = [
  'XP',
  'UBS',
  'Guide',
  'Santander',
  'Ágora',
  'Credit Suisse',
  'Bradesco',
  'BTG',
  'Easynvest',
  'Itaú',
  'Genial',
  'Tullett',
  'Goldman',
  'Clear',
  'Modal',
];

const tape = (page: Page) => page.getByRole('region', { name: /^Times & Trades/ });
const flow = (page: Page) => page.getByRole('region', { name: /^Broker flow/ });

interface TapeRow {
  time: string;
  price: string;
  qty: number;
  buyer: string;
  seller: string;
}

/** The rows of the tape on screen, read in one go (it redraws 10 times a second). */
const tapeRows = (page: Page): Promise<TapeRow[]> =>
  page.evaluate(() =>
    [...document.querySelectorAll('.tape-table tbody tr[data-seq]')].map((tr) => {
      const cell = (i: number) => tr.children[i]?.textContent ?? '';
      return {
        time: cell(0),
        price: cell(1),
        qty: Number(cell(2).replace(/\./g, '')),
        buyer: cell(3),
        seller: cell(4),
      };
    }),
  );

/** The broker flow's rows, numbers read from pt-BR ("12.300", "−4.500"). */
const flowRows = (page: Page) =>
  page.evaluate(() => {
    const n = (s: string | null | undefined) => Number((s ?? '').replace(/\./g, '').replace('−', '-'));
    return [...document.querySelectorAll('.flow-table tbody tr')].map((tr) => ({
      broker: tr.children[0]?.textContent ?? '',
      bought: n(tr.children[1]?.textContent),
      sold: n(tr.children[2]?.textContent),
      net: n(tr.children[3]?.textContent),
      trades: n(tr.children[4]?.textContent),
    }));
  });

async function openPetr4(page: Page, username: string) {
  await ensureUser(page.request, username, 'trader');
  await signIn(page, username);
  await page.getByRole('region', { name: 'Quotes' }).locator('tr[data-ticker="PETR4"]').click();
  await expect(tape(page)).toContainText('PETR4');
}

test('Times & Trades shows PETR4 trades newest first, with the brokers by name', async ({
  page,
}, testInfo) => {
  await openPetr4(page, 'tt-trader-a');
  await expect.poll(async () => (await tapeRows(page)).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(5);
  const rows = await tapeRows(page);
  for (const r of rows) {
    expect(r.time).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3}$/);
    expect(r.price).toMatch(/^\d{1,3}(\.\d{3})*,\d{2}$/);
    expect(r.qty % 100, 'PETR4 trades in round lots').toBe(0);
  }
  // Newest first: the times never go up down the list.
  for (let i = 1; i < rows.length; i++)
    expect((rows[i] as TapeRow).time <= (rows[i - 1] as TapeRow).time).toBe(true);
  // Every broker is named from the simulator's table (the agents message), none as a bare code.
  const names = rows.flatMap((r) => [r.buyer, r.seller]);
  for (const name of names) expect(SIM_BROKERS, `broker ${name}`).toContain(name);
  expect(new Set(names).size).toBeGreaterThan(1);
  await page.screenshot({ path: testInfo.outputPath('times-and-trades.png'), fullPage: true });
});

test('the tape opens with the trades before it, not empty: every trade since the 2,000th newest', async ({
  page,
}) => {
  await openPetr4(page, 'tt-trader-d');
  // aria-rowcount is the tape's trades plus the header; the newest row's seq is the head.
  const held = () =>
    page.evaluate(() => {
      const table = document.querySelector('.tape-table');
      const newest = table?.querySelector('tbody tr[data-seq]') as HTMLElement | null;
      return { count: Number(table?.getAttribute('aria-rowcount')) - 1, newest: Number(newest?.dataset.seq) };
    });
  await expect
    .poll(
      async () => {
        const h = await held();
        return h.newest > 0 && h.count === Math.min(2_000, h.newest);
      },
      { timeout: 15_000 },
    )
    .toBe(true);
  // More than the few trades printed since the page opened.
  expect((await held()).count).toBeGreaterThan(50);
});

test('the minimum quantity and the broker filter hide the other trades', async ({ page }) => {
  await openPetr4(page, 'tt-trader-b');
  const minQty = tape(page).getByLabel('Min qty');
  // Wait for a tape with a trade below the filter's quantity, so the filter has something to hide.
  await expect
    .poll(async () => (await tapeRows(page)).some((r) => r.qty < 500), { timeout: 15_000 })
    .toBe(true);

  await minQty.fill('500');
  await expect.poll(async () => (await tapeRows(page)).every((r) => r.qty >= 500)).toBe(true);
  const kept = await tapeRows(page);
  expect(kept.length).toBeGreaterThan(0);
  await expect(tape(page)).toContainText(/\d+ of \d/); // "N of M": some trades hidden

  await minQty.fill('');
  await expect.poll(async () => (await tapeRows(page)).some((r) => r.qty < 500)).toBe(true);

  await tape(page).getByLabel('Broker', { exact: true }).selectOption({ label: 'XP' });
  await expect
    .poll(async () => {
      const rows = await tapeRows(page);
      return rows.length > 0 && rows.every((r) => r.buyer === 'XP' || r.seller === 'XP');
    })
    .toBe(true);
  await tape(page).getByLabel('Broker', { exact: true }).selectOption({ label: 'All brokers' });
  await expect
    .poll(async () => (await tapeRows(page)).some((r) => r.buyer !== 'XP' && r.seller !== 'XP'))
    .toBe(true);
});

test('the broker flow adds up: what was bought is what was sold, each net bought minus sold', async ({
  page,
}) => {
  await openPetr4(page, 'tt-trader-c');
  await expect.poll(async () => (await flowRows(page)).length, { timeout: 15_000 }).toBeGreaterThan(2);
  const rows = await flowRows(page);
  for (const r of rows) {
    expect(SIM_BROKERS).toContain(r.broker);
    expect(r.net).toBe(r.bought - r.sold);
    expect(r.trades).toBeGreaterThan(0);
  }
  const bought = rows.reduce((s, r) => s + r.bought, 0);
  const sold = rows.reduce((s, r) => s + r.sold, 0);
  expect(bought).toBeGreaterThan(0);
  expect(bought).toBe(sold);
  // Sorted by the size of the net by default, biggest first.
  const sizes = rows.map((r) => Math.abs(r.net));
  expect(sizes).toEqual([...sizes].sort((a, b) => b - a));

  // The flow goes on live: more is traded a moment later, and it still adds up.
  await expect
    .poll(async () => (await flowRows(page)).reduce((s, r) => s + r.bought, 0), { timeout: 10_000 })
    .toBeGreaterThan(bought);
  const later = await flowRows(page);
  expect(later.reduce((s, r) => s + r.bought, 0)).toBe(later.reduce((s, r) => s + r.sold, 0));

  // A click on Broker sorts by name.
  await flow(page)
    .getByRole('button', { name: /^Broker/ })
    .click();
  const byName = (await flowRows(page)).map((r) => r.broker);
  expect(byName).toEqual([...byName].sort((a, b) => a.localeCompare(b, 'pt-BR')));
});

test('without the server’s session flow (404), the flow counts since the app opened', async ({ page }) => {
  await page.route('**/api/v1/market/flow?*', (route) =>
    route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"not_found"}' }),
  );
  await openPetr4(page, 'tt-trader-e');
  await expect(flow(page).getByTestId('flow-since')).toHaveText(/^since you opened/);
  await expect.poll(async () => (await flowRows(page)).length, { timeout: 15_000 }).toBeGreaterThan(1);
  const rows = await flowRows(page);
  const bought = rows.reduce((s, r) => s + r.bought, 0);
  expect(bought).toBe(rows.reduce((s, r) => s + r.sold, 0));
  expect(bought).toBeGreaterThan(0);
  // Only what this app holds (the tape, filled back up to 2,000 trades): never more than the
  // session's volume, which the quotes route gives.
  const quotes = await page.request.get('/api/v1/market/quotes', {
    headers: { Authorization: `Bearer ${await login(page.request, 'tt-trader-e')}` },
  });
  const petr4 = ((await quotes.json()).quotes as { ticker: string; volume: number }[]).find(
    (q) => q.ticker === 'PETR4',
  );
  expect(bought).toBeLessThanOrEqual(petr4?.volume ?? 0);
});
