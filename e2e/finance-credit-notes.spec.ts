import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { pdfText } from '../src/invoices/pdf/pdf-text.ts';
import { csrf, pick, SHOTS, signIn } from './support/folio.ts';

/**
 * Credit notes in the Finance app (issue 6 §3): the finance person opens the credit note form from an invoice (the link the
 * Invoice app gives, /admin/finance/credit-notes?invoiceId=...), credits part of a paid invoice to the customer's points
 * with a live preview, issues it, sees it with its number and outcome, downloads its PDF, and finds it in the list. Staff
 * without Finance cannot reach the credit note API. Bills a customer it creates, so seeded customers stay as other specs expect.
 */
test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ acceptDownloads: true });
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
});

test.afterAll(async () => {
  await page.close();
});

test('the finance person issues a credit note to points for a paid invoice and sees it', async () => {
  const headers = await csrf(page);
  // A customer of its own, so the points this credit note gives do not change what other journeys expect of seeded ones.
  const suffix = Date.now().toString(36).toUpperCase();
  const created = await page.request.post('/api/v1/customers', {
    headers, data: { name: `Wayne Logistics ${suffix}`, currency: 'SGD', ownerEmail: `owner-${suffix.toLowerCase()}@wayne.test`, ownerName: 'Bruce Wayne' },
  });
  expect(created.status(), await created.text()).toBe(201);
  const customer = (await created.json()) as { id: string; name: string };
  // An issued invoice of 40.00, paid by a recorded bank transfer (so points can be given back).
  const invoiceRes = await page.request.post('/api/v1/invoices', {
    headers, data: { customerId: customer.id, type: 'purchase', issue: true, lines: [{ description: 'Onsite support visit', quantity: '1', unitPrice: '40.00', taxCategory: 'zero_rated' }] },
  });
  expect(invoiceRes.status(), await invoiceRes.text()).toBe(201);
  const invoice = (await invoiceRes.json()) as { id: string; number: string };
  const payment = await page.request.post('/api/v1/payments', { headers, data: { method: 'bank_transfer', amount: '40.00', currency: 'SGD', receivedOn: '2026-11-30', reference: `E2E ${invoice.number}`, customerId: customer.id } });
  expect(payment.status()).toBe(201);
  const paymentId = ((await payment.json()) as { id: string }).id;
  const allocated = await page.request.post(`/api/v1/payments/${paymentId}/allocate`, { headers, data: { allocations: [{ invoiceId: invoice.id, amount: '40.00' }] } });
  expect(allocated.status()).toBe(200);

  await test.step('the form opens for the invoice, with a live preview', async () => {
    await page.goto(`/admin/finance/credit-notes?invoiceId=${invoice.id}`);
    await expect(page.getByRole('heading', { name: 'New credit note' })).toBeVisible();
    await expect(page.getByTestId('credit-invoice-facts')).toContainText(invoice.number);
    await expect(page.getByTestId('credit-invoice-facts')).toContainText('paid SGD 40.00');
    // Paid in full, nothing is due to reduce: the form starts on an outcome this invoice allows.
    await expect(page.getByRole('radio', { name: 'Credit points' })).toBeChecked();
    await expect(page.getByRole('radio', { name: 'Reduce the amount due' })).not.toBeChecked();
    await expect(page.getByText('This outcome allows at most SGD 40.00.')).toBeVisible();
    await page.getByText('Custom amount', { exact: true }).click();
    await page.getByRole('textbox', { name: 'Amount, tax included (SGD)' }).fill('15.00');
    await expect(page.getByTestId('credit-preview-total')).toHaveText('Total credited SGD 15.00');
    await expect(page.getByTestId('credit-margin')).toHaveText('No cost known');
    await pick(page, page.getByRole('combobox', { name: 'Reason' }), 'Service issue');
    await page.getByRole('textbox', { name: 'Memo (on the credit note)' }).fill('The technician arrived a day late.');
    await page.getByRole('radio', { name: 'Credit points' }).check();
    await page.screenshot({ path: `${SHOTS}/finance-credit-note-form.png`, fullPage: true });
  });

  await test.step('issued: number, outcome, PDF', async () => {
    // Issuing asks first, saying the amount and the outcome; cancelling issues nothing.
    await page.getByRole('button', { name: 'Issue credit note' }).click();
    const confirm = page.getByRole('dialog', { name: 'Issue this credit note?' });
    await expect(confirm.getByTestId('credit-issue-confirm')).toContainText(`SGD 15.00 credited on ${invoice.number} to ${customer.name}: it is added to the customer’s points`);
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirm).toBeHidden();
    await expect(page).toHaveURL(/\/admin\/finance\/credit-notes\?invoiceId=/);
    await page.getByRole('button', { name: 'Issue credit note' }).click();
    await confirm.getByRole('button', { name: 'Issue credit note' }).click();
    await expect(page).toHaveURL(/\/admin\/finance\/credit-notes\/cn_/);
    await expect(page.getByTestId('credit-note-status')).toHaveText('Issued');
    await expect(page.getByTestId('credit-note-number')).toHaveText(/^CN-\d{4}-\d{6}$/);
    await expect(page.getByTestId('credit-note-total')).toHaveText('SGD 15.00');
    await expect(page.getByTestId('credit-note-outcome')).toHaveText('Credited to points');
    const number = (await page.getByTestId('credit-note-number').textContent())!;
    await page.screenshot({ path: `${SHOTS}/finance-credit-note-detail.png`, fullPage: true });
    const downloadPromise = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download PDF' }).click();
    const download = await downloadPromise;
    expect(download.suggestedFilename()).toBe(`${number}.pdf`);
    const text = (await pdfText(fs.readFileSync((await download.path())))).text;
    expect(text).toContain(number);
    expect(text).toContain(invoice.number);
    expect(text).toContain('Credited to your points');

    await page.getByRole('link', { name: '← Credit notes' }).click();
    const row = page.getByRole('table', { name: 'Credit notes' }).getByRole('row').filter({ hasText: number });
    await expect(row).toContainText(customer.name);
    await expect(row).toContainText('Credited to points');
    await expect(row).toContainText('SGD 15.00');
  });

  await test.step('the invoice says part of what was paid went back, and how', async () => {
    await page.goto(`/admin/invoice/${invoice.id}`);
    await expect(page.getByTestId('invoice-status')).toHaveText('Paid');
    const refund = page.getByTestId('invoice-refund');
    await expect(refund).toHaveText('Partly refunded');
    await expect(refund).toHaveAttribute('title', '15.00 SGD to points');
    await expect(page.getByTestId('total-credited-to-points')).toHaveText('SGD 15.00');
  });
});

test('a partly paid invoice: the form opens on a choice it allows, says each limit before asking, and fits a phone', async ({ browser }) => {
  const headers = await csrf(page);
  const suffix = Date.now().toString(36).toUpperCase();
  const created = await page.request.post('/api/v1/customers', {
    headers, data: { name: `Partial Porting ${suffix}`, currency: 'SGD', ownerEmail: `owner-${suffix.toLowerCase()}@partial.test`, ownerName: 'Pat Partial' },
  });
  expect(created.status(), await created.text()).toBe(201);
  const customer = (await created.json()) as { id: string; name: string };
  // 35.00 + 9% tax = 38.15, of which 20.00 paid: 18.15 due (as seeded INV-2026-000003).
  const invoiceRes = await page.request.post('/api/v1/invoices', {
    headers, data: { customerId: customer.id, type: 'purchase', issue: true, lines: [{ description: 'Porting of 5 numbers', quantity: '1', unitPrice: '35.00', taxCategory: 'standard' }] },
  });
  expect(invoiceRes.status(), await invoiceRes.text()).toBe(201);
  const invoice = (await invoiceRes.json()) as { id: string; number: string; total: string };
  expect(invoice.total).toBe('38.15');
  const payment = await page.request.post('/api/v1/payments', { headers, data: { method: 'bank_transfer', amount: '20.00', currency: 'SGD', receivedOn: '2026-11-30', reference: `E2E ${invoice.number}`, customerId: customer.id } });
  expect(payment.status()).toBe(201);
  const paymentId = ((await payment.json()) as { id: string }).id;
  expect((await page.request.post(`/api/v1/payments/${paymentId}/allocate`, { headers, data: { allocations: [{ invoiceId: invoice.id, amount: '20.00' }] } })).status()).toBe(200);

  await page.goto(`/admin/finance/credit-notes?invoiceId=${invoice.id}`);
  await expect(page.getByTestId('credit-invoice-facts')).toContainText('due SGD 18.15');
  const amount = page.getByRole('textbox', { name: 'Amount, tax included (SGD)' });
  const issue = page.getByRole('button', { name: 'Issue credit note' });
  await test.step('it opens on a custom amount of the most reducing the amount due allows, and no reason', async () => {
    await expect(page.getByRole('radio', { name: 'Reduce the amount due' })).toBeChecked();
    await expect(amount).toHaveValue('18.15');
    await expect(page.getByTestId('credit-preview-total')).toHaveText('Total credited SGD 18.15');
    await expect(page.getByRole('combobox', { name: 'Reason' })).toHaveValue('');
    await expect(page.getByTestId('credit-missing')).toHaveText('To issue or save: choose a reason.');
    await expect(issue).toBeDisabled();
  });
  await test.step('more than the outcome allows is said on the field, and nothing can be issued', async () => {
    await pick(page, page.getByRole('combobox', { name: 'Reason' }), 'Billing error');
    await expect(page.getByTestId('credit-missing')).toHaveCount(0);
    await expect(issue).toBeEnabled();
    await page.getByText('Whole invoice', { exact: true }).click();
    await expect(page.getByTestId('credit-preview-total')).toHaveText('Total credited SGD 38.15');
    await expect(page.getByText('At most SGD 18.15 for this outcome')).toBeVisible();
    await expect(issue).toBeDisabled();
    await page.getByText('Custom amount', { exact: true }).click();
    await amount.fill('18.16');
    await expect(page.getByText('At most SGD 18.15 for this outcome')).toBeVisible();
    await expect(issue).toBeDisabled();
    await amount.fill('1.234');
    await expect(page.getByText('At most 2 decimals for SGD', { exact: true })).toBeVisible();
    await expect(page.getByText(/amount:/)).toHaveCount(0);
    await expect(issue).toBeDisabled();
    // Points allow what was paid: 20.00.
    await amount.fill('20.00');
    await page.getByRole('radio', { name: 'Credit points' }).check();
    await expect(page.getByTestId('credit-preview-total')).toHaveText('Total credited SGD 20.00');
    await expect(issue).toBeEnabled();
    await page.getByRole('radio', { name: 'Reduce the amount due' }).check();
    await expect(page.getByText('At most SGD 18.15 for this outcome')).toBeVisible();
    await expect(issue).toBeDisabled();
  });
  await test.step('on a phone the choices and the preview fit the screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, storageState: await page.context().storageState() });
    await phone.goto(`/admin/finance/credit-notes?invoiceId=${invoice.id}`);
    await expect(phone.getByTestId('credit-preview-total')).toHaveText('Total credited SGD 18.15');
    await expect(phone.getByRole('radio', { name: 'Custom amount' })).toBeChecked();
    await phone.getByRole('radio', { name: 'Whole invoice' }).check();
    await expect(phone.getByTestId('credit-preview-total')).toHaveText('Total credited SGD 38.15');
    const { scrollWidth, innerWidth } = await phone.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    expect(scrollWidth, 'the page is no wider than the screen').toBeLessThanOrEqual(innerWidth);
    await phone.screenshot({ path: `${SHOTS}/phone-finance-credit-note-form.png`, fullPage: true });
    await phone.close();
  });
  await test.step('issued within the limit', async () => {
    await amount.fill('18.15');
    await expect(page.getByTestId('credit-preview-total')).toHaveText('Total credited SGD 18.15');
    await issue.click();
    const confirm = page.getByRole('dialog', { name: 'Issue this credit note?' });
    await expect(confirm.getByTestId('credit-issue-confirm')).toContainText(`SGD 18.15 credited on ${invoice.number} to ${customer.name}: it reduces the amount due`);
    await confirm.getByRole('button', { name: 'Issue credit note' }).click();
    await expect(page).toHaveURL(/\/admin\/finance\/credit-notes\/cn_/);
    await expect(page.getByTestId('credit-note-outcome')).toHaveText('Reduces the amount due');
  });
});

test('staff without the Finance app cannot reach credit notes', async ({ browser }) => {
  const other = await browser.newPage();
  await signIn(other, 'admin@northwind.test', /\/admin$/, { twoFactor: true });
  expect((await other.request.get('/api/v1/credit-notes')).status()).toBe(403);
  await other.close();
});
