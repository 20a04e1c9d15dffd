import { expect, test } from '@playwright/test';
import { csrf, SHOTS, sidebar, signIn } from './support/folio.ts';

/**
 * Bank statement import (issue 6 §2): the finance person uploads a small CSV statement, sees each money-in line with a
 * proposed customer and invoices and the reason, accepts a suggestion, rejects another, and finds the accepted line as
 * an ordinary bank-transfer payment in the payments list. A customer of its own (created here) keeps the seeded ones as seeded.
 */
const suffix = Date.now().toString(36).toUpperCase();

test('the finance person uploads a statement, accepts a suggested line and sees the payment', async ({ browser }) => {
  test.setTimeout(180_000); // a shared 2-core machine
  const page = await browser.newPage();
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  const headers = await csrf(page);

  const customerName = `Gotham Freight ${suffix}`;
  const created = await page.request.post('/api/v1/customers', {
    headers, data: { name: customerName, currency: 'SGD', ownerEmail: `owner-${suffix.toLowerCase()}@gotham.test`, ownerName: 'Selina Kyle' },
  });
  expect(created.status(), await created.text()).toBe(201);
  const customerId = ((await created.json()) as { id: string }).id;
  const res = await page.request.post('/api/v1/invoices', {
    headers, data: { customerId, type: 'purchase', issue: true, lines: [{ description: `Freight ${suffix}`, quantity: '1', unitPrice: '432.10', taxCategory: 'zero_rated' }] },
  });
  expect(res.status(), await res.text()).toBe(201);
  const invoice = (await res.json()) as { id: string; number: string };
  const reference = `Payment ${invoice.number} ${suffix}`;
  const csv = [
    'Value Date,Description,Credit,Debit,Payer',
    `29/11/2026,"${reference}",432.10,,${customerName}`,
    `29/11/2026,Bank charges ${suffix},,3.50,`,
    `29/11/2026,Unknown sender ${suffix},"1,000.01",,Someone Else`,
    `31/11/2026,Broken date ${suffix},5.00,,`,
  ].join('\n');

  await test.step('upload the CSV from the Bank import tab', async () => {
    await sidebar(page).getByRole('link', { name: 'Finance', exact: true }).click();
    await page.getByRole('tablist', { name: 'Finance sections' }).getByRole('tab', { name: 'Bank import' }).click();
    await expect(page).toHaveURL(/\/admin\/finance\/bank-import$/);
    await expect(page.getByRole('heading', { name: 'Bank statement import' })).toBeVisible();
    await page.locator('input[type=file]').setInputFiles({ name: `statement-${suffix}.csv`, mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await expect(page).toHaveURL(/\/admin\/finance\/bank-import\/bst_/);
    await expect(page.getByRole('heading', { name: `statement-${suffix}.csv` })).toBeVisible();
  });

  await test.step('the lines show their proposals, reasons and counts; the unreadable line is named', async () => {
    await expect(page.getByTestId('count-suggested')).toHaveText('Suggested: 1');
    await expect(page.getByTestId('count-unmatched')).toHaveText('Unmatched: 1');
    await expect(page.getByTestId('count-ignored')).toHaveText('Debit (ignored): 1');
    await expect(page.getByText('Line 5, date: "31/11/2026" is not a date')).toBeVisible();
    const lines = page.getByRole('table', { name: 'Statement lines' });
    const suggested = lines.getByRole('row').filter({ hasText: reference });
    await expect(suggested.getByTestId('proposed-customer')).toHaveText(customerName);
    await expect(suggested.getByTestId('match-reason')).toContainText(`reference names ${invoice.number}`);
    await expect(suggested).toContainText('high confidence');
    await page.screenshot({ path: `${SHOTS}/finance-bank-import.png`, fullPage: true });
  });

  await test.step('accept the suggestion and reject the unknown sender', async () => {
    const lines = page.getByRole('table', { name: 'Statement lines' });
    await lines.getByRole('button', { name: 'Accept line 2' }).click();
    await expect(lines.getByRole('row').filter({ hasText: reference }).getByTestId('line-status')).toHaveText('Accepted');
    await lines.getByRole('button', { name: 'Reject line 4' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reject line 4' });
    await dialog.getByLabel('Reason (optional)').fill('Not one of our customers');
    await dialog.getByRole('button', { name: 'Reject line' }).click();
    await expect(dialog).toBeHidden();
    await expect(lines.getByRole('row').filter({ hasText: `Unknown sender ${suffix}` }).getByTestId('line-status')).toHaveText('Rejected');
    await expect(page.getByTestId('count-accepted')).toHaveText('Accepted: 1');
  });

  await test.step('the accepted line is a bank-transfer payment in the payments list, and the invoice is paid', async () => {
    await page.goto(`/admin/finance/payments?q=${encodeURIComponent(suffix)}`);
    const payments = page.getByRole('table', { name: 'Payments' });
    const row = payments.getByRole('row').filter({ hasText: customerName });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText('432.10');
    await expect(row).toContainText('Bank transfer');
    const inv = (await (await page.request.get(`/api/v1/invoices/${invoice.id}`)).json()) as { status: string };
    expect(inv.status).toBe('paid');
  });
});
