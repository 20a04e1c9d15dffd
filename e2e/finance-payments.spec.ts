import { expect, test, type Page } from '@playwright/test';
import { csrf, pick, SHOTS, sidebar, signIn } from './support/folio.ts';

/**
 * The Finance app's payments (issue 6 §2, §6): the finance person records a bank transfer for a customer, splits it over
 * two open invoices and sees what both owe drop; reverses it (a bounced transfer) and sees the invoices reopen; the reports
 * show the customer's aging and a balanced trial balance. Staff without Finance see no Finance entry, cannot open its pages,
 * and its API answers 403.
 * The finance person bills a customer of their own (created here) so that the seeded customers other specs use stay as seeded.
 */
test.describe.configure({ mode: 'serial' });

const suffix = Date.now().toString(36).toUpperCase();

/**
 * Go to an address inside the running app as a link does (history and popstate, no page load). A full page load fetches the
 * built assets again, and on a shared machine dist/web may be rebuilt under the running server meanwhile.
 */
async function openInApp(p: Page, path: string): Promise<void> {
  await p.evaluate((to) => {
    window.history.pushState({}, '', to);
    window.dispatchEvent(new PopStateEvent('popstate', { state: {} }));
  }, path);
  await expect(p).toHaveURL((url) => `${url.pathname}${url.search}` === path);
}

interface Invoice {
  id: string;
  number: string;
}

test('the finance person records a bank transfer, splits it over two invoices, then reverses it and the invoices reopen', async ({ browser }) => {
  test.setTimeout(180_000); // one long story on a shared 2-core machine
  const page = await browser.newPage({ acceptDownloads: true });
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  const headers = await csrf(page);

  // A customer with two open invoices: 100.00 due first, 60.00 due later (zero-rated, so the totals are the prices).
  const customerName = `Wayne Traders ${suffix}`;
  const created = await page.request.post('/api/v1/customers', {
    headers, data: { name: customerName, currency: 'SGD', ownerEmail: `owner-${suffix.toLowerCase()}@wayne.test`, ownerName: 'Bruce Wayne' },
  });
  expect(created.status(), await created.text()).toBe(201);
  const customerId = ((await created.json()) as { id: string }).id;
  const invoice = async (price: string, dueDays: number): Promise<Invoice> => {
    const res = await page.request.post('/api/v1/invoices', {
      headers,
      data: { customerId, type: 'purchase', issue: true, dueDays, lines: [{ description: `Support ${suffix}`, quantity: '1', unitPrice: price, taxCategory: 'zero_rated' }] },
    });
    expect(res.status(), await res.text()).toBe(201);
    return (await res.json()) as Invoice;
  };
  const first = await invoice('100.00', 10);
  const second = await invoice('60.00', 20);

  await test.step('the Finance app opens on its payments', async () => {
    await sidebar(page).getByRole('link', { name: 'Finance', exact: true }).click();
    await expect(page).toHaveURL(/\/admin\/finance\/payments$/);
    await expect(page.getByRole('heading', { name: 'Payments', level: 2 })).toBeVisible();
    const sections = page.getByRole('tablist', { name: 'Finance sections' });
    for (const name of ['Payments', 'Unassigned', 'Bank import', 'Credit notes', 'Reports']) await expect(sections.getByRole('tab', { name })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Download CSV' })).toHaveAttribute('href', /\/api\/v1\/payments\?.*format=csv/);
  });

  let paymentUrl = '';
  await test.step('record a bank transfer of 130.00 from the customer', async () => {
    await page.getByRole('link', { name: 'Record payment' }).click();
    await expect(page.getByRole('heading', { name: 'Record payment' })).toBeVisible();
    const form = page.getByRole('form', { name: 'Record payment' });
    await expect(form.getByRole('combobox', { name: 'Method' })).toHaveValue('Bank transfer');
    // Nothing typed: the amount and the currency are asked for, nothing is sent.
    await form.getByRole('button', { name: 'Record payment' }).click();
    await expect(form.getByRole('textbox', { name: 'Amount' })).toHaveAttribute('aria-invalid', 'true');
    const picker = form.getByRole('combobox', { name: 'Customer' });
    await picker.click();
    await picker.fill(`Wayne Traders ${suffix}`);
    await page.getByRole('option', { name: customerName }).click();
    await expect(form.getByRole('combobox', { name: 'Currency' })).toHaveValue('SGD');
    await form.getByRole('textbox', { name: 'Amount' }).fill('130.00');
    await form.getByRole('textbox', { name: 'Reference' }).fill(`TRF-${suffix}`);
    await form.getByRole('textbox', { name: 'Remark' }).fill('Two invoices in one transfer');
    await page.screenshot({ path: `${SHOTS}/admin-finance-record-payment.png`, fullPage: true });
    await form.getByRole('button', { name: 'Record payment' }).click();
    await expect(page).toHaveURL(/\/admin\/finance\/payments\/pay_[0-9a-z]+$/);
    paymentUrl = page.url();
    await expect(page.getByTestId('payment-title')).toHaveText('Bank transfer SGD 130.00');
    await expect(page.getByTestId('payment-status').first()).toHaveText('Unallocated');
    await expect(page.getByTestId('payment-unallocated')).toHaveText('SGD 130.00');
    await expect(page.getByTestId('payment-receipt-number')).toHaveText(/^RCT-/);
    const receipt = page.getByRole('link', { name: 'Download receipt' });
    const href = await receipt.getAttribute('href');
    expect(href).toMatch(/\/api\/v1\/payments\/pay_[0-9a-z]+\/receipt\.pdf$/);
    const pdf = await page.request.get(href!);
    if (pdf.status() !== 404) {
      expect(pdf.status()).toBe(200);
      expect(pdf.headers()['content-type']).toContain('application/pdf');
    }
  });

  await test.step('split it: 100.00 to the first invoice, 30.00 to the second, the leftover shown as it changes', async () => {
    const open = page.getByRole('table', { name: 'Open invoices' });
    await expect(open.getByRole('row')).toHaveCount(3);
    await expect(page.getByTestId(`open-due-${first.number}`)).toHaveText('SGD 100.00');
    await expect(page.getByTestId(`open-due-${second.number}`)).toHaveText('SGD 60.00');
    await expect(page.getByTestId('allocation-leftover')).toHaveText('SGD 130.00 left over after this allocation');
    // Too much for the second invoice: said on the field, and the leftover goes negative.
    await page.getByRole('textbox', { name: `Allocate to ${first.number}` }).fill('100.00');
    await expect(page.getByTestId('allocation-leftover')).toHaveText('SGD 30.00 left over after this allocation');
    await page.getByRole('textbox', { name: `Allocate to ${second.number}` }).fill('45.00');
    await expect(page.getByTestId('allocation-leftover')).toHaveText('Over by SGD 15.00');
    await expect(page.getByRole('button', { name: 'Allocate', exact: true })).toBeDisabled();
    await page.getByRole('textbox', { name: `Allocate to ${second.number}` }).fill('30.00');
    await expect(page.getByTestId('allocation-leftover')).toHaveText('SGD 0.00 left over after this allocation');
    await expect(page.getByRole('radio', { name: 'Keep it unallocated on the payment' })).toBeChecked();
    await page.screenshot({ path: `${SHOTS}/admin-finance-allocate.png`, fullPage: true });
    await page.getByRole('button', { name: 'Allocate', exact: true }).click();
    await expect(page.getByTestId('payment-status').first()).toHaveText('Allocated');
    await expect(page.getByTestId('payment-allocated')).toHaveText('SGD 130.00');
    await expect(page.getByTestId('payment-unallocated')).toHaveText('SGD 0.00');
    const allocations = page.getByRole('table', { name: 'Allocations' });
    await expect(allocations.getByRole('row').filter({ hasText: first.number })).toContainText('100.00');
    await expect(allocations.getByRole('row').filter({ hasText: second.number })).toContainText('30.00');
    // Fully allocated: nothing left to allocate.
    await expect(page.getByRole('form', { name: 'Allocate payment' })).toHaveCount(0);
  });

  await test.step("both invoices' amounts due dropped; the Invoice app links back to the payment and into Finance", async () => {
    await page.getByRole('table', { name: 'Allocations' }).getByRole('link', { name: first.number }).click();
    await expect(page.getByTestId('invoice-number')).toHaveText(first.number);
    await expect(page.getByTestId('total-due')).toHaveText('SGD 0.00');
    await expect(page.getByTestId('invoice-status').first()).toHaveText('Paid');
    await expect(page.getByRole('link', { name: 'Record payment' })).toHaveCount(0); // nothing left to pay
    // Named by the receipt the customer was sent, it leads to the payment.
    await page.getByRole('table', { name: 'Payments applied' }).getByRole('link', { name: /^Payment RCT-/ }).click();
    await expect(page).toHaveURL(paymentUrl);
    await page.getByRole('table', { name: 'Allocations' }).getByRole('link', { name: second.number }).click();
    await expect(page.getByTestId('invoice-number')).toHaveText(second.number);
    await expect(page.getByTestId('total-due')).toHaveText('SGD 30.00');
    await expect(page.getByTestId('invoice-status').first()).toHaveText('Partially paid');
    // Payments and credit notes are done in Finance: the invoice links there, pre-filled.
    await expect(page.getByRole('link', { name: 'Record payment' })).toHaveAttribute('href', `/admin/finance/payments/new?customerId=${customerId}&invoiceId=${second.id}`);
    await expect(page.getByRole('link', { name: 'Issue credit note' })).toHaveAttribute('href', `/admin/finance/credit-notes?invoiceId=${second.id}`);
    // Named by the receipt the customer was sent, it leads to the payment.
    await page.getByRole('table', { name: 'Payments applied' }).getByRole('link', { name: /^Payment RCT-/ }).click();
    await expect(page).toHaveURL(paymentUrl);
  });

  await test.step('the aging report shows what the customer still owes; the trial balance balances', async () => {
    await page.getByRole('tablist', { name: 'Finance sections' }).getByRole('tab', { name: 'Reports' }).click();
    await expect(page.getByRole('heading', { name: 'Reports', level: 2 })).toBeVisible();
    // The nightly ledger check's result is on top: not run yet on this fresh server, or its finding (never nothing).
    await expect(page.getByTestId('ledger-check')).toContainText(/Books not checked yet|Books sound|Ledger check: \d+ problem/);
    const aging = page.getByRole('table', { name: 'AR aging' });
    await expect(aging.getByRole('row').filter({ hasText: customerName })).toContainText('30.00');
    await expect(page.getByRole('figure', { name: 'Amount due by age, per customer' }).locator('.recharts-surface').first()).toBeVisible();
    await expect(page.getByRole('link', { name: 'Download CSV' })).toHaveAttribute('href', /\/api\/v1\/finance\/reports\/ar-aging\?format=csv/);
    await page.screenshot({ path: `${SHOTS}/admin-finance-aging.png`, fullPage: true });
    await page.getByRole('tab', { name: 'Trial balance' }).click();
    await expect(page.getByTestId('trial-balance-balanced')).toHaveText('Debits equal credits');
    const debit = await page.getByTestId('trial-balance-debit').textContent();
    await expect(page.getByTestId('trial-balance-credit')).toHaveText(debit!);
    await expect(page.getByRole('table', { name: 'Trial balance' }).getByRole('row').filter({ hasText: 'receivable' }).first()).toBeVisible();
  });

  await test.step('reverse it with a reason: the outcome is shown and the invoices reopen', async () => {
    await page.goBack();
    await expect(page).toHaveURL(paymentUrl);
    await page.getByRole('button', { name: 'Reverse', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /Reverse Bank transfer SGD 130.00/ });
    await expect(dialog).toContainText('the 2 invoices it paid reopen');
    // No reason: asked for, nothing sent. The dialog opens with a transition and focuses the reason box when it is in
    // place; a click while it still moves can miss the button (seen once on a busy machine), so the click is retried
    // until the field says it is required (a second click without a reason changes nothing else).
    const reason = dialog.getByRole('textbox', { name: 'Reason' });
    await expect(reason).toBeFocused();
    await expect(async () => {
      await dialog.getByRole('button', { name: 'Reverse payment' }).click();
      await expect(reason).toHaveAttribute('aria-invalid', 'true', { timeout: 1_000 });
    }).toPass({ timeout: 10_000 });
    await reason.fill('The transfer was recalled by the bank');
    await dialog.getByRole('button', { name: 'Reverse payment' }).click();
    await expect(dialog).toBeHidden();
    const outcome = page.getByTestId('reversal-outcome');
    await expect(outcome).toContainText('Invoices reopened');
    await expect(outcome).toContainText(`${first.number} — Awaiting payment, SGD 100.00 due`);
    await expect(outcome).toContainText(`${second.number} — Awaiting payment, SGD 60.00 due`);
    await expect(page.getByTestId('reversal-points')).toContainText('created no points');
    await expect(page.getByTestId('payment-status').first()).toHaveText('Reversed');
    await expect(page.getByRole('button', { name: 'Reverse', exact: true })).toHaveCount(0);
    await expect(page.getByRole('table', { name: 'Allocations' }).getByRole('row').filter({ hasText: 'Reversed' })).toHaveCount(2);
    await page.screenshot({ path: `${SHOTS}/admin-finance-reversed.png`, fullPage: true });

    for (const inv of [{ ...first, due: 'SGD 100.00' }, { ...second, due: 'SGD 60.00' }]) {
      await page.getByRole('table', { name: 'Allocations' }).getByRole('link', { name: inv.number }).click();
      await expect(page.getByTestId('invoice-number')).toHaveText(inv.number);
      await expect(page.getByTestId('total-due')).toHaveText(inv.due);
      await expect(page.getByTestId('invoice-status').first()).toHaveText('Awaiting payment');
      await expect(page.getByRole('table', { name: 'Payments applied' })).toHaveCount(0); // the reversed payment no longer pays it
      await page.goBack();
    }
  });

  await test.step('the payment stays in the list, found by its reference, as reversed', async () => {
    await page.getByRole('tablist', { name: 'Finance sections' }).getByRole('tab', { name: 'Payments' }).click();
    await page.getByRole('textbox', { name: 'Reference' }).fill(`TRF-${suffix}`);
    await expect(page).toHaveURL(/q=TRF-/);
    const table = page.getByRole('table', { name: 'Payments' });
    await expect(table.getByRole('row')).toHaveCount(2);
    await expect(table.getByRole('row').nth(1)).toContainText('Reversed');
    await expect(table.getByRole('row').nth(1)).toContainText(customerName);
  });
  await page.close();
});

test('a payment from an unknown payer waits in Unassigned, is assigned, allocated oldest first with the rest to points, and reversing takes the points back', async ({ browser }) => {
  test.setTimeout(150_000);
  const page = await browser.newPage();
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  const headers = await csrf(page);
  const customerName = `Kent Farms ${suffix}`;
  const created = await page.request.post('/api/v1/customers', {
    headers, data: { name: customerName, currency: 'SGD', ownerEmail: `owner-${suffix.toLowerCase()}@kent.test`, ownerName: 'Clark Kent' },
  });
  expect(created.status(), await created.text()).toBe(201);
  const customerId = ((await created.json()) as { id: string }).id;
  const inv = await page.request.post('/api/v1/invoices', {
    headers, data: { customerId, type: 'purchase', issue: true, lines: [{ description: `Setup ${suffix}`, quantity: '1', unitPrice: '20.00', taxCategory: 'zero_rated' }] },
  });
  expect(inv.status(), await inv.text()).toBe(201);
  const invoice = (await inv.json()) as Invoice;

  await test.step('record 50.00 in cash with no customer: it waits in Unassigned', async () => {
    await sidebar(page).getByRole('link', { name: 'Finance', exact: true }).click();
    await page.getByRole('link', { name: 'Record payment' }).click();
    const form = page.getByRole('form', { name: 'Record payment' });
    await pick(page, form.getByRole('combobox', { name: 'Method' }), 'Cash');
    await form.getByRole('textbox', { name: 'Amount' }).fill('50.00');
    await pick(page, form.getByRole('combobox', { name: 'Currency' }), 'SGD');
    await form.getByRole('textbox', { name: 'Reference' }).fill(`CASH-${suffix}`);
    await form.getByRole('button', { name: 'Record payment' }).click();
    await expect(page.getByTestId('payment-status').first()).toHaveText('Unassigned');
    await page.getByRole('tablist', { name: 'Finance sections' }).getByRole('tab', { name: 'Unassigned' }).click();
    await expect(page.getByRole('heading', { name: 'Unassigned payments' })).toBeVisible();
    const row = page.getByRole('table', { name: 'Unassigned payments' }).getByRole('row').filter({ hasText: `CASH-${suffix}` });
    await expect(row).toContainText('Payer unknown');
    await row.getByRole('button', { name: `Assign CASH-${suffix}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Assign to a customer' });
    const picker = dialog.getByRole('combobox', { name: 'Customer' });
    await picker.click();
    await picker.fill(customerName);
    await page.getByRole('option', { name: customerName }).click();
    await dialog.getByRole('button', { name: 'Assign' }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole('table', { name: 'Unassigned payments' }).getByRole('row').filter({ hasText: `CASH-${suffix}` })).toHaveCount(0);
  });

  await test.step('allocate oldest first, the 30.00 left over explicitly to points', async () => {
    await page.getByRole('tablist', { name: 'Finance sections' }).getByRole('tab', { name: 'Payments' }).click();
    await page.getByRole('table', { name: 'Payments' }).getByRole('row').filter({ hasText: `CASH-${suffix}` }).getByRole('link').click();
    await expect(page.getByTestId('payment-status').first()).toHaveText('Unallocated');
    await page.getByText('Oldest first', { exact: true }).click();
    await expect(page.getByRole('radio', { name: 'Oldest first' })).toBeChecked();
    await expect(page.getByTestId('allocation-leftover')).toHaveText('SGD 30.00 left over after this allocation');
    await page.getByRole('radio', { name: `Turn it into ${customerName}'s points` }).check();
    await page.getByRole('button', { name: 'Allocate', exact: true }).click();
    await expect(page.getByTestId('payment-status').first()).toHaveText('Allocated');
    await expect(page.getByTestId('payment-allocated')).toHaveText('SGD 20.00');
    await expect(page.getByTestId('payment-to-points')).toHaveText('SGD 30.00');
    await expect(page.getByRole('table', { name: 'Allocations' }).getByRole('row').filter({ hasText: invoice.number })).toContainText('20.00');
  });

  await test.step('reversing takes the 30.00 of points back and reopens the invoice', async () => {
    await page.getByRole('button', { name: 'Reverse', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: /Reverse Cash SGD 50.00/ });
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('Counted twice');
    await dialog.getByRole('button', { name: 'Reverse payment' }).click();
    await expect(page.getByTestId('reversal-outcome')).toContainText(`${invoice.number} — Awaiting payment, SGD 20.00 due`);
    await expect(page.getByTestId('reversal-points')).toContainText('SGD 30.00');
    await expect(page.getByTestId('payment-status').first()).toHaveText('Reversed');
  });
  await page.close();
});

test('staff without Finance see no Finance entry, cannot open its pages, and its API answers 403', async ({ browser }) => {
  const page = await browser.newPage();
  await signIn(page, 'admin@northwind.test', /\/admin$/, { twoFactor: true });
  const session = (await (await page.request.get('/api/v1/auth/session')).json()) as { apps: string[] };
  expect(session.apps).not.toContain('finance');
  await expect(sidebar(page).getByRole('link', { name: 'Invoice', exact: true })).toBeVisible();
  await expect(sidebar(page).getByRole('link', { name: 'Finance', exact: true })).toHaveCount(0);
  for (const path of ['/admin/finance/payments', '/admin/finance/reports', '/admin/finance/payments/new']) {
    await openInApp(page, path);
    await expect(page.getByRole('heading', { name: 'No access to Finance' })).toBeVisible();
    await expect(page.getByRole('tablist', { name: 'Finance sections' })).toHaveCount(0);
  }
  for (const path of ['/api/v1/payments', '/api/v1/finance/reports/ar-aging', '/api/v1/finance/reports/trial-balance']) {
    const res = await page.request.get(path);
    expect(res.status(), path).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('app_not_granted');
  }
  const write = await page.request.post('/api/v1/payments', {
    headers: await csrf(page), data: { method: 'cash', amount: '1.00', currency: 'AUD', receivedOn: '2026-01-01' },
  });
  expect(write.status()).toBe(403);
  await page.close();
});
