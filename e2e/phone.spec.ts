import { expect, type Page, test } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../playwright.config.ts';
import { ensureUser, login, PHONE, phoneContext, signIn } from './desk.ts';
import { type Lang, WORDS } from './lang.ts';

// A phone at 390×844: every screen is reached from the bottom tab bar, and every control a
// screen shows lies inside the viewport, so nothing needs sideways scrolling to be reached. In
// English and in Portuguese, whose longer words are the ones that could push a control out.

const WIDTH = PHONE.width;

/** The visible controls of the page whose box leaves the viewport's width, described. */
async function outside(page: Page): Promise<string[]> {
  return page.evaluate((width) => {
    const controls = document.querySelectorAll<HTMLElement>(
      'button, input, select, textarea, a[href], summary, [role="button"], [tabindex]:not([tabindex="-1"])',
    );
    const out: string[] = [];
    for (const el of controls) {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
      if (r.left < -0.5 || r.right > width + 0.5) {
        const name = el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30) ?? '';
        out.push(`${el.tagName.toLowerCase()} "${name}" at ${Math.round(r.left)}–${Math.round(r.right)}`);
      }
    }
    return out;
  }, WIDTH);
}

for (const lang of ['en', 'pt'] as const satisfies readonly Lang[]) {
  const w = WORDS[lang];
  test.describe(`in ${lang}`, () => {
    test('on a phone every screen is reachable and every control fits the width', async ({
      browser,
      baseURL,
    }, testInfo) => {
      test.setTimeout(60_000);
      const phone = await phoneContext(browser, baseURL, lang);
      try {
        const page = await phone.newPage();
        await signIn(page, 'admin', E2E_ADMIN_PASSWORD, lang);
        const nav = page.getByRole('navigation', { name: w['nav.screens'] });
        const tabs = nav.getByRole('button');
        const names = (await tabs.allTextContents()).length;
        expect(names, 'an admin has eight screens').toBe(8);
        const navBox = await nav.boundingBox();
        expect(navBox && navBox.x >= 0 && navBox.x + navBox.width <= WIDTH).toBe(true);
        for (let i = 0; i < names; i++) {
          const tab = tabs.nth(i);
          // Each tab is inside the screen as it is: no scrolling the bar to find one.
          const box = await tab.boundingBox();
          expect(box && box.x >= 0 && box.x + box.width <= WIDTH, `tab ${i} at ${box?.x}`).toBe(true);
          expect(box?.height).toBeGreaterThanOrEqual(44);
          await tab.tap();
          await expect(tab).toHaveAttribute('aria-current', 'page');
          const label = (await tab.getAttribute('aria-label')) ?? `tab-${i}`;
          await page.waitForTimeout(500); // lazy screens load and lay out
          expect(await outside(page), `${label}: controls outside the ${WIDTH} px width`).toEqual([]);
          expect(await page.evaluate(() => document.documentElement.scrollWidth), label).toBeLessThanOrEqual(
            WIDTH,
          );
          await page.screenshot({ path: testInfo.outputPath(`phone-${lang}-${label}.png`), fullPage: true });
        }
      } finally {
        await phone.close();
      }
    });

    test('on a phone the blotter with a working order fits the width, its actions included', async ({
      browser,
      baseURL,
      request,
    }, testInfo) => {
      await ensureUser(request, 'trader-phone', 'trader', 'E2E-PHONE');
      const phone = await phoneContext(browser, baseURL, lang);
      try {
        const page = await phone.newPage();
        await signIn(page, 'trader-phone', undefined, lang);
        const last = page.getByTestId('last-PETR4');
        await expect(last).toBeVisible({ timeout: 10_000 });
        const price = Number((await last.textContent())?.replace(/\./g, '').replace(',', '.'));
        // A buy 3 % under the market: it works (inside the risk band) and stays in the blotter.
        const res = await request.post('/api/v1/orders', {
          headers: { Authorization: `Bearer ${await login(request, 'trader-phone')}` },
          data: {
            clientOrderId: `phone-${lang}-${Date.now()}`,
            ticker: 'PETR4',
            side: 'buy',
            type: 'limit',
            qty: 100,
            price: Math.round(price * 97) / 100,
          },
        });
        expect(res.status(), await res.text()).toBeLessThan(300);
        // A watchlist open with a ticker in it: its row buttons inside the width too.
        const nav = page.getByRole('navigation', { name: w['nav.screens'] });
        await nav.getByRole('button', { name: w['nav.watchlists'] }).tap();
        await page.getByLabel(w['wl.newName']).fill(`Phone ${lang} ${Date.now()}`);
        await page.getByRole('button', { name: w['wl.create'], exact: true }).tap();
        await page.getByLabel(w['wl.addTicker']).fill('PETR4');
        await page.getByRole('button', { name: w['wl.add'], exact: true }).tap();
        await expect(page.locator('article tbody tr[data-ticker="PETR4"]')).toBeVisible();
        expect(await outside(page), 'watchlist').toEqual([]);
        await page.screenshot({ path: testInfo.outputPath(`phone-${lang}-watchlist.png`), fullPage: true });
        await nav.getByRole('button', { name: w['nav.trade'] }).tap();
        const blotter = page.getByRole('region', { name: new RegExp(`^${w['blotter.title']}`) });
        await expect(blotter.getByRole('button', { name: w['blotter.cancel'] }).first()).toBeVisible({
          timeout: 10_000,
        });
        expect(await outside(page)).toEqual([]);
        // A card's filled quantity is labelled in the interface's language (the table's header is
        // hidden on a phone).
        const filled = blotter.locator('tr[data-order] .b-filled').first();
        expect(await filled.evaluate((el) => getComputedStyle(el, '::before').content)).toBe(
          `"${w['blotter.filled']} "`,
        );
        const box = await blotter.boundingBox();
        const table = await blotter.locator('table').first().boundingBox();
        expect(table && box && table.x + table.width <= box.x + box.width + 0.5).toBe(true);
        await blotter.screenshot({ path: testInfo.outputPath(`phone-${lang}-blotter.png`) });
      } finally {
        await phone.close();
      }
    });
  });
}
