import { expect, test } from '@playwright/test';
import { ensureUser, signIn } from './desk.ts';
import { WORDS } from './lang.ts';

// A new device speaks Portuguese from the sign-in screen on; English is chosen on Settings, takes
// effect at once (no reload, the socket stays up) and stays after a reload.

const { pt, en } = WORDS;

test('Portuguese by default, English from Settings at once and after a reload', async ({
  browser,
  baseURL,
  request,
}) => {
  await ensureUser(request, 'trader-lang', 'trader', 'E2E-LANG');
  // No tape.lang: a device that never chose.
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  try {
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.getByRole('button', { name: 'Entrar' })).toBeVisible();
    await expect(page.getByLabel('Usuário')).toBeVisible();
    await expect(page.getByLabel('Senha')).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'pt-BR');

    await signIn(page, 'trader-lang', undefined, 'pt');
    await expect(page.getByTestId('connection')).toHaveText('Ao vivo');
    const tabs = page.getByRole('navigation', { name: 'Telas' });
    await expect(tabs.getByRole('button', { name: 'Operar' })).toHaveAttribute('aria-current', 'page');
    await expect(tabs.getByRole('button', { name: 'Configurações' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Boleta' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Cotações' })).toBeVisible();
    await expect(page.getByRole('heading', { name: /^Posições/ })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Comprar', exact: true })).toBeVisible();
    await expect(page.getByRole('columnheader', { name: 'Última' }).first()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sair' })).toBeVisible();

    // A mark on the window: still there after the switch, so nothing was reloaded.
    await page.evaluate(() => {
      (window as unknown as { beforeSwitch: boolean }).beforeSwitch = true;
    });
    await tabs.getByRole('button', { name: 'Configurações' }).click();
    await expect(page.getByRole('heading', { name: pt['settings.title'] })).toBeVisible();
    await page.getByLabel(pt['settings.language']).selectOption('en');

    await expect(page.getByRole('heading', { name: en['settings.title'] })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    const english = page.getByRole('navigation', { name: 'Screens' });
    await expect(english.getByRole('button', { name: 'Settings' })).toHaveAttribute('aria-current', 'page');
    await expect(page.getByTestId('connection')).toHaveText('Live');
    await english.getByRole('button', { name: 'Trade' }).click();
    await expect(page.getByRole('heading', { name: 'Order ticket' })).toBeVisible();
    expect(await page.evaluate(() => (window as unknown as { beforeSwitch?: boolean }).beforeSwitch)).toBe(
      true,
    );
    expect(await page.evaluate(() => localStorage.getItem('tape.lang'))).toBe('en');

    await page.reload();
    await expect(page.getByTestId('connection')).toHaveText('Live', { timeout: 15_000 });
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.getByRole('heading', { name: 'Order ticket' })).toBeVisible();
    // Device-wide: signed out, the sign-in screen is in English too.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByLabel('Username')).toBeVisible();
  } finally {
    await context.close();
  }
});
