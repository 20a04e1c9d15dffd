import { expect, test, type Page } from '@playwright/test';
import { SHOTS, sidebar, signIn } from './support/folio.ts';

/**
 * The Product app: staff create a product with a price and see its margin; then import a rate table from a CSV with one bad
 * row, see the row's error, and import only the valid rows.
 */
test.describe.configure({ mode: 'serial' });

let page: Page;
const suffix = Date.now().toString(36).toUpperCase();

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await signIn(page, 'admin@demo.test', /\/admin$/, { twoFactor: true });
});

test.afterAll(async () => {
  await page.close();
});

test('create a product with a price and see its margin', async () => {
  await sidebar(page).getByRole('link', { name: 'Product' }).click();
  await expect(page.getByRole('heading', { name: 'Products', level: 2 })).toBeVisible();
  // The demo catalogue is there.
  await expect(page.getByRole('table', { name: 'Products' }).getByRole('row').filter({ hasText: 'Virtual Line' })).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/product-list.png`, fullPage: true });

  await page.getByRole('button', { name: 'New product' }).click();
  const dialog = page.getByRole('dialog', { name: 'New product' });
  await dialog.getByRole('textbox', { name: 'SKU' }).fill(`E2E-${suffix}`);
  await dialog.getByRole('textbox', { name: 'Name' }).fill(`Contact Centre ${suffix}`);
  await dialog.getByRole('button', { name: 'Create product' }).click();
  await expect(page.getByRole('heading', { name: `Contact Centre ${suffix}` })).toBeVisible();

  await page.getByRole('textbox', { name: 'Variant name' }).fill('Standard');
  await page.getByRole('button', { name: 'Add variant' }).click();
  await page.getByRole('button', { name: 'Set a price' }).click();
  const price = page.getByRole('dialog', { name: /Set a price of Standard/ });
  await price.getByRole('textbox', { name: 'Price (pre-tax)' }).fill('30.00');
  await price.getByRole('textbox', { name: 'Cost' }).fill('12.50');
  await price.getByRole('textbox', { name: 'Activation fee' }).fill('5.00');
  await expect(price.getByText('SGD 17.50 (58.3%)')).toBeVisible();
  await price.getByRole('button', { name: 'Save price' }).click();
  await expect(price).toBeHidden();

  const row = page.getByRole('table', { name: 'Prices of Standard' }).getByRole('row').filter({ hasText: 'Monthly' });
  await expect(row).toContainText('30.00');
  await expect(row).toContainText('12.50');
  await expect(row).toContainText('17.50');
  await expect(row).toContainText('58.3%');
  await expect(row).toContainText('5.00');
  await page.screenshot({ path: `${SHOTS}/product-detail-prices.png`, fullPage: true });

  // A negative cost is refused, naming the field.
  await page.getByRole('button', { name: 'Set a price' }).click();
  const bad = page.getByRole('dialog', { name: /Set a price of Standard/ });
  await bad.getByRole('textbox', { name: 'Price (pre-tax)' }).fill('300.00');
  await bad.getByRole('textbox', { name: 'Cost' }).fill('-1.00');
  await bad.getByRole('button', { name: 'Save price' }).click();
  await expect(bad.getByText('must not be negative')).toBeVisible();
  await bad.getByRole('button', { name: 'Cancel' }).click();
});

test('import a rate table CSV with one bad row: see the error, import the valid rows', async () => {
  await page.getByRole('link', { name: 'All products' }).click();
  await page.getByRole('tab', { name: 'Rate plans' }).click();
  await page.getByRole('button', { name: 'New rate plan' }).click();
  const dialog = page.getByRole('dialog', { name: 'New rate plan' });
  await dialog.getByRole('textbox', { name: 'Name' }).fill(`Wholesale ${suffix}`);
  await dialog.getByRole('button', { name: 'Create plan' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('heading', { name: `Wholesale ${suffix}` })).toBeVisible();

  await page.getByRole('button', { name: 'Import CSV' }).click();
  const importer = page.getByRole('dialog', { name: `Import rates into Wholesale ${suffix}` });
  const csv = ['prefix,description,pricePerMinute,costPerMinute', '65,Singapore fixed,0.03,0.01', '44,United Kingdom,-0.05,0.02', '659,"Singapore, mobile",0.06,0.025'].join('\n');
  await importer.locator('input[type="file"]').setInputFiles({ name: 'wholesale.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await importer.getByRole('button', { name: 'Upload and check' }).click();

  const errors = importer.getByRole('table', { name: 'Rows with errors' });
  await expect(errors.getByRole('row').filter({ hasText: 'must not be negative' })).toContainText('3');
  await expect(errors.getByRole('row').filter({ hasText: 'must not be negative' })).toContainText('Price per minute');
  await expect(importer.getByText('1 with errors')).toBeVisible();
  await expect(importer.getByRole('button', { name: /^Import \d+ rates$/ })).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/rate-import-errors.png` });

  await importer.getByRole('button', { name: 'Import only the 2 valid rows' }).click();
  await expect(importer.getByText('Rates imported')).toBeVisible();
  await expect(importer.getByTestId('import-progress-label')).toHaveText('Imported 2 rates');
  await importer.getByRole('button', { name: 'Done' }).click();

  const rates = page.getByRole('table', { name: 'Rates' });
  await expect(rates.getByRole('row')).toHaveCount(3); // header + 2 rates
  await expect(rates.getByRole('row').filter({ hasText: 'Singapore, mobile' })).toContainText('0.060000');
  await expect(rates).not.toContainText('United Kingdom');
  await page.screenshot({ path: `${SHOTS}/rate-plan-rates.png`, fullPage: true });
  await page.getByRole('textbox', { name: 'Find a prefix' }).fill('65');
  await expect(rates.getByRole('row')).toHaveCount(3);
  await page.getByRole('textbox', { name: 'Find a prefix' }).fill('659');
  await expect(rates.getByRole('row')).toHaveCount(2);
});
