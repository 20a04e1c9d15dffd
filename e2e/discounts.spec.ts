import { expect, test, type Page } from '@playwright/test';
import { csrf, pick, signIn } from './support/folio.ts';

/**
 * The Discount app (issue 8 §1, §5): the sales manager (Demo Telecom staff holding the Discount grant) creates a discount for
 * Acme on one billing cycle, sees the margin preview (with its below-cost warning first), saves it, reads its history, and
 * sees the subscription's next renewal priced with it in the Customer app. There is no browser hook to run the renewal job:
 * the renewal price shown is what the renewal charges (same pricing function), and the API test
 * src/discounts/discounts.test.ts runs the renewal and checks the invoice line carries the discount.
 */
let page: Page;

async function choose(combobox: string, option: string | RegExp) {
  await pick(page, page.getByRole('combobox', { name: combobox, exact: true }), option);
}

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await signIn(page, 'admin@demo.test', /\/admin$/, { twoFactor: true });
});
test.afterAll(async () => page.close());

test('the sales manager creates a discount, sees the margin preview, and the next renewal is priced with it', async () => {
  // Acme subscribes to a Singapore number (5.00 a month, cost 1.50), sold by staff: the subscription the discount will touch.
  const acme = ((await (await page.request.get('/api/v1/customers?q=Acme')).json()) as { data: { id: string; name: string }[] }).data.find((c) => c.name === 'Acme Pte Ltd')!;
  const catalog = (await (await page.request.get('/api/v1/discounts/catalog')).json()) as { products: { sku: string; variants: { name: string; prices: { id: string; cycle: string }[] }[] }[] };
  const numberMonthly = catalog.products.find((p) => p.sku === 'DID-SG')!.variants[0]!.prices.find((p) => p.cycle === 'monthly')!;
  const sold = await page.request.post(`/api/v1/customers/${acme.id}/subscriptions`, { data: { priceId: numberMonthly.id }, headers: await csrf(page) });
  expect(sold.status(), await sold.text()).toBe(201);

  await page.goto('/admin/discount');
  await expect(page.getByRole('heading', { name: 'Discounts' })).toBeVisible();
  await expect(page.getByLabel('Which discount applies')).toContainText('A discount for one customer beats any discount for every customer');
  await expect(page.getByRole('table', { name: 'Discounts' })).toContainText('Initech: 10% off Teams licences');
  await page.getByRole('link', { name: 'New discount' }).click();

  const form = page.getByRole('form', { name: 'Discount' });
  await form.getByRole('textbox', { name: 'Name' }).fill('Acme numbers deal');
  await page.getByRole('combobox', { name: 'Customer', exact: true }).fill('Acme');
  await page.getByRole('option', { name: /Acme Pte Ltd/ }).click();
  await choose('Scope', 'One billing cycle');
  await choose('Product type', 'Phone numbers');
  await choose('Product', /Phone Number \(DID-SG\)/);
  await choose('Variant', 'Singapore local');
  await choose('Billing cycle', /Monthly · SGD 5\.00/);
  await expect(form.getByRole('button', { name: 'Save discount' })).toBeDisabled();

  await test.step('80% off sells below cost: the preview warns', async () => {
    await form.getByRole('textbox', { name: 'Percent off' }).fill('80');
    await form.getByRole('button', { name: 'Preview margins' }).click();
    const preview = page.getByRole('region', { name: 'Margin preview' });
    await expect(preview.getByRole('alert')).toContainText('below cost');
    const row = preview.getByRole('row').filter({ hasText: 'Acme Pte Ltd' }).first();
    await expect(row.getByTestId('preview-price')).toHaveText('SGD 1.00');
    await expect(row.getByTestId('preview-margin')).toContainText('SGD -0.50');
    await expect(row).toContainText('Below cost');
  });

  await test.step('20% off keeps a margin; saved', async () => {
    await form.getByRole('textbox', { name: 'Percent off' }).fill('20');
    await expect(form.getByRole('button', { name: 'Save discount' })).toBeDisabled(); // the preview is of other figures
    await form.getByRole('button', { name: 'Preview margins' }).click();
    const preview = page.getByRole('region', { name: 'Margin preview' });
    const row = preview.getByRole('row').filter({ hasText: 'Acme Pte Ltd' }).first();
    await expect(row.getByTestId('preview-price')).toHaveText('SGD 4.00');
    await expect(row.getByTestId('preview-margin')).toHaveText('SGD 2.50 (62.5%)');
    await expect(preview.getByRole('alert')).toHaveCount(0);
    await form.getByRole('button', { name: 'Save discount' }).click();
  });

  await expect(page.getByRole('heading', { name: 'Acme numbers deal' })).toBeVisible();
  await expect(page.getByTestId('discount-rate')).toContainText('20% off');
  await expect(page.getByRole('region', { name: 'History' })).toContainText('Created');
  await expect(page.getByRole('region', { name: 'Discount details' })).toContainText('Phone Number — Singapore local, monthly (SGD)');
  // Its days and its history in words, as the rest of the app writes them (not `2026-12-07`, `percentOff: 20`).
  await expect(page.getByRole('region', { name: 'Discount details' })).toContainText(/Period\s*From \d{1,2} [A-Z][a-z]{2} \d{4}, unlimited/);
  await expect(page.getByRole('region', { name: 'History' })).toContainText('Percent off: 20');
  await expect(page.getByRole('region', { name: 'History' })).not.toContainText(/\d{4}-\d{2}-\d{2}/);

  await test.step('the Customer app shows it and the next renewal is priced with it', async () => {
    await page.getByRole('region', { name: 'Discount details' }).getByRole('link', { name: 'Acme Pte Ltd' }).click();
    await page.getByRole('tab', { name: 'Subscriptions' }).click();
    const discounts = page.getByRole('region', { name: 'Discounts in force' });
    await expect(discounts).toContainText('Acme numbers deal');
    await expect(discounts).toContainText('20% off');
    await expect(discounts.getByRole('link', { name: 'Manage in the Discount app' })).toBeVisible();
    const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' }).first();
    await expect(row.getByTestId('renewal-price')).toHaveText('SGD 4.00');
  });
});
