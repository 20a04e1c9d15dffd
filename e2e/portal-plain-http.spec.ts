import { expect, test, type Page, type Request } from '@playwright/test';
import { PASSWORD, mailbox, pick, waitForNewMail } from './support/folio.ts';

/**
 * Folio served over plain HTTP by a name on the partner's own network (`FOLIO_PUBLIC_URL=http://folio.lan:3000`: the
 * session cookie is then not Secure). Such a page is not a secure context: `crypto.randomUUID` and the clipboard are
 * missing there, and the portal's purchase and payment dialogs, which make their Idempotency-Keys as they open, failed
 * to open. Chromium is told that folio.lan is 127.0.0.1, so the test still talks to this machine only.
 *
 * Initech's owner acts here (Acme's invoices and points stay as the other journeys expect them).
 */
test('over plain HTTP, a portal owner buys after a refusal and pays after a declined card, each retry a new request; staff create an API key', async ({ playwright, launchOptions, baseURL, request }) => {
  const browser = await playwright.chromium.launch({ ...launchOptions, args: [...(launchOptions.args ?? []), '--host-resolver-rules=MAP folio.lan 127.0.0.1'] });
  try {
    const context = await browser.newContext({ baseURL: `http://folio.lan:${new URL(baseURL!).port}`, viewport: { width: 1366, height: 860 } });
    const page = await context.newPage();
    await page.goto('/login');
    expect(await page.evaluate(() => window.isSecureContext), 'the page is not a secure context').toBe(false);
    await page.getByRole('textbox', { name: 'Email', exact: true }).fill('owner@initech.test');
    await page.getByRole('textbox', { name: 'Password', exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/portal$/);

    await test.step('buy: a refused first try, then the same purchase again as a new request', async () => {
      // The first try is refused on its way, as the server refuses a purchase it cannot take (a price withdrawn meanwhile).
      // Simulated (page.route): that refusal comes only from a race a test cannot time; the retry reaches the real server.
      let refusedOnce = false;
      await page.route('**/api/v1/portal/subscriptions', async (route) => {
        if (route.request().method() !== 'POST' || refusedOnce) return route.fallback();
        refusedOnce = true;
        await route.fulfill({
          status: 409, contentType: 'application/problem+json',
          body: JSON.stringify({ type: 'about:blank', title: 'Conflict', status: 409, code: 'state_conflict', detail: 'This plan was withdrawn a moment ago' }),
        });
      });
      const keys = idempotencyKeysOf(page, 'POST', /\/api\/v1\/portal\/subscriptions$/);
      await page.goto('/portal?tab=services');
      await page.getByRole('button', { name: 'Buy a subscription' }).click();
      const dialog = page.getByRole('dialog', { name: 'Buy a subscription' });
      await pick(page, dialog.getByRole('combobox', { name: 'Product' }), 'Phone Number');
      await pick(page, dialog.getByRole('combobox', { name: 'Plan and billing' }), /Singapore local · Monthly/);
      await dialog.getByRole('button', { name: 'Buy' }).click();
      await expect(dialog.getByRole('alert')).toContainText('This plan was withdrawn a moment ago');
      await dialog.getByRole('button', { name: 'Buy' }).click();
      await expect(page.getByText('Waiting on payment')).toBeVisible();
      expect(keys).toHaveLength(2);
      for (const key of keys) expect(key).toMatch(/^buy-[0-9a-f]{32}$/);
      expect(keys[1], 'the purchase after a refusal is a new request').not.toBe(keys[0]);
    });

    await test.step('pay: a declined card, then a card that pays, each attempt with its own key', async () => {
      const keys = idempotencyKeysOf(page, 'POST', /\/api\/v1\/portal\/invoices\/[^/]+\/pay$/);
      await page.goto('/portal');
      await page.getByRole('table', { name: 'Invoices' }).getByRole('button', { name: /^Pay INV-/ }).first().click();
      const dialog = page.getByRole('dialog', { name: /^Pay INV-/ });
      const number = (await dialog.getByRole('heading').first().textContent())!.replace(/^Pay /, '');
      await dialog.getByRole('textbox', { name: 'Card number' }).fill('4000 0000 0000 0002');
      await dialog.getByRole('button', { name: /^Pay [\d,.]+ SGD$/ }).click();
      await expect(dialog.getByRole('alert').filter({ hasText: 'Your card was declined' })).toBeVisible();
      await dialog.getByRole('textbox', { name: 'Card number' }).fill('4242 4242 4242 4242');
      await dialog.getByRole('button', { name: /^Pay [\d,.]+ SGD$/ }).click();
      const done = page.getByRole('dialog', { name: `Payment of ${number}` });
      await expect(done.getByTestId('receipt-status')).toHaveText('Paid');
      expect(keys).toHaveLength(2);
      for (const key of keys) expect(key).toMatch(/^invpay-[0-9a-f]{32}$/);
      expect(keys[1], 'the payment after a decline is a new request').not.toBe(keys[0]);
    });

    await test.step('staff create an API key: no clipboard here, so the dialog asks them to select the key instead', async () => {
      const staff = await browser.newContext({ baseURL: `http://folio.lan:${new URL(baseURL!).port}`, viewport: { width: 1366, height: 860 } });
      const admin = await staff.newPage();
      const seen = new Set((await mailbox(request, 'admin@demo.test')).map((m) => m.id));
      await admin.goto('/login');
      await admin.getByRole('textbox', { name: 'Email', exact: true }).fill('admin@demo.test');
      await admin.getByRole('textbox', { name: 'Password', exact: true }).fill(PASSWORD);
      await admin.getByRole('button', { name: 'Sign in' }).click();
      // The dev mailbox is read from 127.0.0.1 (this test's own requests do not know the name folio.lan).
      const mail = await waitForNewMail(request, 'admin@demo.test', 'two_factor_code', seen);
      await admin.getByRole('textbox', { name: 'Sign-in code' }).fill(/\b(\d{6})\b/.exec(mail.subject)![1]!);
      await admin.getByRole('button', { name: 'Verify and sign in' }).click();
      await expect(admin).toHaveURL(/\/admin$/);
      await admin.goto('/admin/access');
      await admin.getByRole('tab', { name: 'API keys' }).click();
      await admin.getByRole('button', { name: 'Create API key' }).click();
      const create = admin.getByRole('dialog', { name: 'Create API key' });
      await create.getByLabel('Key name').fill('LAN billing export');
      await create.getByRole('checkbox', { name: 'Customer' }).check();
      await create.getByRole('button', { name: 'Create key' }).click();
      const shown = admin.getByRole('dialog', { name: 'Your new API key' });
      await expect(shown.getByLabel('API key token')).toContainText(/^fk_/);
      await expect(shown.getByText('Select the key above and copy it.')).toBeVisible();
      await expect(shown.getByRole('button', { name: 'Copy key' })).toHaveCount(0);
      await shown.getByRole('button', { name: 'I have copied it' }).click();
      const row = admin.getByRole('table', { name: 'API keys' }).getByRole('row').filter({ hasText: 'LAN billing export' });
      await row.getByRole('button', { name: 'Revoke API key LAN billing export' }).click();
      await admin.getByRole('dialog', { name: /Revoke/ }).getByRole('button', { name: 'Revoke' }).click();
      await expect(row).toContainText('Revoked');
    });
  } finally {
    await browser.close();
  }
});

/** The Idempotency-Key of every request matching the method and path that the page sends from now on, in order. */
function idempotencyKeysOf(page: Page, method: string, path: RegExp): string[] {
  const keys: string[] = [];
  page.on('request', (r: Request) => {
    if (r.method() === method && path.test(new URL(r.url()).pathname)) keys.push(r.headers()['idempotency-key'] ?? '');
  });
  return keys;
}
