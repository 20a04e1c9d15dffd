import { expect, test, type Locator, type Page } from '@playwright/test';
import { apiWrite, csrf, customerWithOwner, pick, SHOTS, signIn } from './support/folio.ts';

/**
 * The admin portal on a phone (390 x 844, an iPhone's width): its lists (customers, invoices, audit events, staff,
 * products, payments, unassigned payments, credit notes, the invoice editor's lines, an invoice's history and the
 * operator's audit events) show each row as a card, with its main text, status, the fields that matter and its buttons,
 * and the page never scrolls sideways; a row's buttons do on the phone what they do on a desktop. A credit note's lines
 * and the editor's price picker fit the screen too. At a desktop's width the same pages still show their tables (a
 * column header in sight, no cards).
 */
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1366, height: 860 };

test.use({ viewport: PHONE });

async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  expect(scrollWidth, 'the page is no wider than the screen').toBeLessThanOrEqual(innerWidth);
}

/** The list of cards named `name`, its card holding `text`, on screen; the page fits the phone. */
async function phoneCard(page: Page, name: string, text: string | RegExp): Promise<Locator> {
  const list = page.getByRole('list', { name, exact: true });
  const card = list.getByRole('listitem').filter({ hasText: text }).first();
  await card.scrollIntoViewIfNeeded();
  await expect(card).toBeInViewport();
  await expect(page.getByRole('table', { name, exact: true })).toHaveCount(0);
  await expectNoSidewaysScroll(page);
  return card;
}

/** At a desktop's width the page shows the table as before (its `header` column in sight), and no cards; then back to the phone. */
async function expectTableOnDesktop(page: Page, name: string, header: string): Promise<void> {
  await page.setViewportSize(DESKTOP);
  const table = page.getByRole('table', { name, exact: true });
  await expect(table.getByRole('columnheader', { name: header, exact: true })).toBeVisible();
  await expect(page.getByRole('list', { name, exact: true })).toHaveCount(0);
  await page.setViewportSize(PHONE);
  await expect(page.getByRole('list', { name, exact: true })).toBeVisible();
  await expect(table).toHaveCount(0);
}

/** A card's label/value field: the label (a `dt`) and the value after it, both on screen. */
async function expectField(card: Locator, label: string, value: string | RegExp): Promise<void> {
  const field = card.locator('dl > div').filter({ has: card.page().locator('dt').getByText(label, { exact: true }) });
  await expect(field.locator('dt')).toHaveText(label);
  await expect(field.locator('dd')).toHaveText(value);
  await expect(field).toBeInViewport();
}

test('on a phone, staff read customers, invoices, audit events, staff and products as cards, and use their buttons', async ({ page }) => {
  await signIn(page, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  // An invoice of a customer of this test's own, found by the list's search (other journeys add invoices of their own).
  const headers = await csrf(page);
  const suffix = Date.now().toString(36).toUpperCase();
  const customerName = `Handheld Trading ${suffix}`;
  const created = await page.request.post('/api/v1/customers', {
    headers, data: { name: customerName, currency: 'SGD', ownerEmail: `owner-${suffix.toLowerCase()}@handheld.test`, ownerName: 'Hana Handheld' },
  });
  expect(created.status(), await created.text()).toBe(201);
  const invoiceRes = await page.request.post('/api/v1/invoices', {
    headers, data: { customerId: ((await created.json()) as { id: string }).id, type: 'purchase', issue: true, lines: [{ description: 'Headset', quantity: '1', unitPrice: '40.00', taxCategory: 'zero_rated' }] },
  });
  expect(invoiceRes.status(), await invoiceRes.text()).toBe(201);
  const number = ((await invoiceRes.json()) as { number: string }).number;

  // Customers: the name (a link to the customer), its status, currency, points and usable.
  await page.goto('/admin/customer?q=Acme');
  const acme = await phoneCard(page, 'Customers', 'Acme Pte Ltd');
  await expect(acme.getByText('Active', { exact: true })).toBeInViewport();
  await expectField(acme, 'Currency', 'SGD');
  await expectField(acme, 'Usable', /^[\d,]+\.\d+/);
  await page.screenshot({ path: `${SHOTS}/phone-admin-customers.png` });
  await expectTableOnDesktop(page, 'Customers', 'Usable');
  await acme.getByRole('link', { name: 'Acme Pte Ltd' }).click();
  await expect(page.getByRole('heading', { name: 'Acme Pte Ltd' })).toBeVisible();

  // Invoices: the number, its status badges, the customer, due date, total and amount due; the number opens the invoice.
  await page.goto(`/admin/invoice?q=${encodeURIComponent(customerName)}`);
  const invoice = await phoneCard(page, 'Invoices', number);
  await expect(invoice.getByTestId('invoice-status')).toHaveText('Awaiting payment');
  await expect(invoice.getByTestId('invoice-status')).toBeInViewport();
  await expectField(invoice, 'Customer', customerName);
  await expectField(invoice, 'Amount due', 'SGD 40.00');
  await expectField(invoice, 'Due', /\d{4}$/);
  await page.screenshot({ path: `${SHOTS}/phone-admin-invoices.png` });
  await expectTableOnDesktop(page, 'Invoices', 'Amount due');
  await invoice.getByRole('link', { name: number }).click();
  await expect(page).toHaveURL(/\/admin\/invoice\/inv_/);
  await expect(page.getByRole('heading', { name: number })).toBeVisible();

  // The invoice's History (the shared audit table): each event a card, its action the title, when and who did it among
  // its fields; Details opens the event's changes and request inside the card.
  const issued = await phoneCard(page, 'Invoice history', 'invoice.issued');
  await expectField(issued, 'When', /\d{4}/);
  await expectField(issued, 'Actor', /admin@demo\.test/);
  await expectField(issued, 'Target', /invoice/);
  const details = issued.getByRole('button', { name: /^Details of invoice\.issued at / });
  await expect(details).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/phone2-invoice-history.png` });
  await details.click();
  await expect(details).toHaveAttribute('aria-expanded', 'true');
  await expect(issued.getByText(/^Event \S+ · target invoice inv_/)).toBeVisible();
  // Its changes one field under another, before and after across the card: a word is never cut in two ("purchas e").
  const changes = issued.getByRole('list', { name: 'Changes' });
  const type = changes.getByRole('listitem').filter({ has: page.getByText('Type', { exact: true }) });
  await expect(type.locator('[data-diff="after"]')).toHaveText('now purchase');
  const status = changes.getByRole('listitem').filter({ has: page.getByText('Status', { exact: true }) });
  await expect(status.locator('[data-diff="before"]')).toHaveText('was draft');
  await expect(status.locator('[data-diff="after"]')).toHaveText('now awaiting_payment');
  for (const value of [type.locator('[data-diff="after"]'), status.locator('[data-diff="after"]')]) {
    const box = await value.boundingBox();
    expect(box!.height).toBeLessThan(26); // one line of 14-px text
  }
  await expectNoSidewaysScroll(page);
  await issued.screenshot({ path: `${SHOTS}/phone2-invoice-history-details.png` });
  await expectTableOnDesktop(page, 'Invoice history', 'Actor');

  // The invoice editor: each line a card, its inputs under their labels, named as in the table; a line is filled in,
  // its amount shown, and removed from its card.
  await page.goto('/admin/invoice/new');
  const picker = page.getByRole('combobox', { name: 'Customer' });
  await picker.click();
  await picker.fill(customerName);
  await page.getByRole('option', { name: customerName }).click();
  await page.getByRole('textbox', { name: 'Line 1 description' }).fill('Headset');
  await page.getByRole('textbox', { name: 'Line 1 quantity' }).fill('2');
  await page.getByRole('textbox', { name: 'Line 1 unit price' }).fill('15.00');
  await expect(page.getByTestId('line-1-amount')).toHaveText('30.00');
  await page.getByRole('button', { name: 'Add product line' }).click();
  await pick(page, page.getByRole('combobox', { name: 'Line 2 product' }), 'Virtual Line (VL)');
  await pick(page, page.getByRole('combobox', { name: 'Line 2 plan' }), 'Pro');
  const line2 = await phoneCard(page, 'Lines', 'Line 2');
  await expect(line2.getByRole('textbox', { name: 'Line 2 unit price' })).toHaveValue('20.00');
  // The plan's price picker is under the plan picker, the card's width, its whole text in sight (beside it, at half
  // the width, it read "Monthly 20.0…").
  const pricePicker = line2.getByRole('combobox', { name: 'Line 2 price' });
  await expect(pricePicker).toHaveValue(/^Monthly 20\.00$/);
  await expect(pricePicker).toBeInViewport();
  const priceText = await pricePicker.evaluate((input: HTMLInputElement) => ({ scrollWidth: input.scrollWidth, clientWidth: input.clientWidth }));
  expect(priceText.scrollWidth, 'the price text is not cut off').toBeLessThanOrEqual(priceText.clientWidth);
  await expect(line2.getByTestId('line-2-amount')).toBeInViewport();
  await expect(line2.getByRole('button', { name: 'Remove line 2' })).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/phone-admin-invoice-lines.png` });
  await line2.screenshot({ path: `${SHOTS}/phone2-invoice-editor-price.png` });
  await expectTableOnDesktop(page, 'Lines', 'Unit price');
  await line2.getByRole('button', { name: 'Remove line 2' }).click();
  await expect(page.getByRole('list', { name: 'Lines', exact: true }).getByRole('listitem')).toHaveCount(1);
  await expectNoSidewaysScroll(page);

  // Audit: what was done, when, by whom and on what; its Open button opens the event's detail.
  await page.goto('/admin/audit');
  const event = await phoneCard(page, 'Audit events', 'Auth signed in');
  await expectField(event, 'Who', /admin@demo\.test/);
  await expectField(event, 'When', /\d{4}/);
  const open = event.getByRole('button', { name: /^Open Auth signed in at / });
  await expect(open).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/phone-admin-audit.png` });
  await expectTableOnDesktop(page, 'Audit events', 'What');
  await open.click();
  await expect(page.getByRole('dialog').getByTestId('audit-event-detail')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toBeHidden();

  // Access Control: each person's status, apps and last sign-in, with the Apps and Disable buttons.
  await page.goto('/admin/access');
  const fiona = await phoneCard(page, 'Staff', 'Fiona Finance');
  await expect(fiona.getByText('Active', { exact: true })).toBeInViewport();
  await expectField(fiona, 'Apps', /Finance/i);
  await expect(fiona.getByRole('button', { name: 'Disable Fiona Finance' })).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/phone-admin-staff.png` });
  await expectTableOnDesktop(page, 'Staff', 'Last sign-in');
  await fiona.getByRole('button', { name: 'Manage apps for Fiona Finance' }).click();
  const apps = page.getByRole('dialog', { name: 'Apps for Fiona Finance' });
  await expect(apps.getByRole('switch', { name: 'Finance' })).toBeChecked();
  await apps.getByRole('button', { name: 'Done' }).click();
  await expect(apps).toBeHidden();
  await fiona.getByRole('button', { name: 'Disable Fiona Finance' }).click();
  await expect(page.getByRole('dialog', { name: 'Disable Fiona Finance?' })).toBeVisible();
  await page.getByRole('dialog', { name: 'Disable Fiona Finance?' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(fiona.getByText('Active', { exact: true })).toBeVisible();

  // Products: the name (a link), on sale or archived, its SKU, type, variants and prices.
  await page.goto('/admin/product');
  await page.getByRole('textbox', { name: 'Search products' }).fill('Phone Number');
  const product = await phoneCard(page, 'Products', 'Phone Number');
  await expect(product.getByText('On sale', { exact: true })).toBeInViewport();
  await expectField(product, 'Variants', /^\d+$/);
  await page.screenshot({ path: `${SHOTS}/phone-admin-products.png` });
  await expectTableOnDesktop(page, 'Products', 'SKU');
  await product.getByRole('link', { name: 'Phone Number' }).click();
  await expect(page).toHaveURL(/\/admin\/product\/prd_/);
});

test('on a phone, the finance person reads payments and credit notes as cards, and assigns a payment from its card', async ({ page }) => {
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  const headers = await csrf(page);
  const suffix = Date.now().toString(36).toUpperCase();
  // A transfer whose payer is not known yet, and a credit note on an invoice of a customer of this test's own.
  const reference = `PHONE ${suffix}`;
  const payment = await page.request.post('/api/v1/payments', { headers, data: { method: 'bank_transfer', amount: '1250.00', currency: 'SGD', receivedOn: '2026-11-30', reference } });
  expect(payment.status(), await payment.text()).toBe(201);
  const customerName = `Pocket Traders ${suffix}`;
  const created = await page.request.post('/api/v1/customers', {
    headers, data: { name: customerName, currency: 'SGD', ownerEmail: `owner-${suffix.toLowerCase()}@pocket-traders.test`, ownerName: 'Pat Pocket' },
  });
  expect(created.status(), await created.text()).toBe(201);
  const customer = (await created.json()) as { id: string };
  const invoiceRes = await page.request.post('/api/v1/invoices', {
    headers, data: { customerId: customer.id, type: 'purchase', issue: true, lines: [{ description: 'Desk phone', quantity: '1', unitPrice: '40.00', taxCategory: 'zero_rated' }] },
  });
  expect(invoiceRes.status(), await invoiceRes.text()).toBe(201);
  const invoice = (await invoiceRes.json()) as { id: string; number: string };
  const note = await page.request.post('/api/v1/credit-notes', {
    headers, data: { invoiceId: invoice.id, mode: 'whole', reason: 'billing_error', outcome: 'reduce_due', issue: true },
  });
  expect(note.status(), await note.text()).toBe(201);
  const creditNote = (await note.json()) as { number: string };

  // Payments: the day it was received (a link), its status, payer, reference, amount and what is left to allocate.
  await page.goto('/admin/finance/payments');
  const card = await phoneCard(page, 'Payments', reference);
  await expect(card.getByTestId('payment-status')).toHaveText('Unassigned');
  await expect(card.getByTestId('payment-status')).toBeInViewport();
  await expectField(card, 'Customer', 'Payer unknown');
  await expectField(card, 'Reference', reference);
  await expectField(card, 'Amount', 'SGD 1,250.00');
  await expect(card.getByRole('link', { name: '30 Nov 2026' })).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/phone-admin-payments.png` });
  await expectTableOnDesktop(page, 'Payments', 'Unallocated');

  // Unassigned: the card's Assign button gives the payment to its payer, as the row's does on a desktop.
  await page.goto('/admin/finance/unassigned');
  const waiting = await phoneCard(page, 'Unassigned payments', reference);
  const assign = waiting.getByRole('button', { name: `Assign ${reference}` });
  await expect(assign).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/phone-admin-unassigned.png` });
  await expectTableOnDesktop(page, 'Unassigned payments', 'Reference');
  await assign.click();
  const dialog = page.getByRole('dialog', { name: 'Assign to a customer' });
  const picker = dialog.getByRole('combobox', { name: 'Customer' });
  await picker.fill(customerName);
  await page.getByRole('option', { name: customerName }).click();
  await dialog.getByRole('button', { name: 'Assign', exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('list', { name: 'Unassigned payments' }).getByRole('listitem').filter({ hasText: reference })).toHaveCount(0);
  await expectNoSidewaysScroll(page);

  // The payment pays a second invoice of the customer: that invoice's "Payments applied" is a card, its receipt a link.
  const paymentId = ((await payment.json()) as { id: string }).id;
  const secondRes = await page.request.post('/api/v1/invoices', {
    headers, data: { customerId: customer.id, type: 'purchase', issue: true, lines: [{ description: 'Headset', quantity: '2', unitPrice: '50.00', taxCategory: 'zero_rated' }] },
  });
  expect(secondRes.status(), await secondRes.text()).toBe(201);
  const second = (await secondRes.json()) as { id: string; number: string };
  const allocated = await page.request.post(`/api/v1/payments/${paymentId}/allocations`, { headers, data: { allocations: [{ invoiceId: second.id, amount: '100.00' }] } });
  expect(allocated.status(), await allocated.text()).toBe(200);
  await page.goto(`/admin/invoice/${second.id}`);
  await expect(page.getByRole('heading', { name: second.number })).toBeVisible();
  const applied = await phoneCard(page, 'Payments applied', 'Payment allocated');
  await expectField(applied, 'Amount', 'SGD 100.00');
  await expectField(applied, 'Paid', /\d{4}/);
  await expect(applied.getByRole('link', { name: /^Payment RCT-/ })).toBeInViewport();
  await expectNoSidewaysScroll(page);
  await applied.screenshot({ path: `${SHOTS}/phone2-invoice-payments-applied.png` });
  await expectTableOnDesktop(page, 'Payments applied', 'Reference');

  // Credit notes: the number (a link), its status, customer, invoice, outcome and total.
  await page.goto('/admin/finance/credit-notes');
  const credit = await phoneCard(page, 'Credit notes', creditNote.number);
  await expect(credit.getByText('Issued', { exact: true })).toBeInViewport();
  await expectField(credit, 'Customer', customerName);
  await expectField(credit, 'Invoice', invoice.number);
  await expectField(credit, 'Total', 'SGD 40.00');
  await page.screenshot({ path: `${SHOTS}/phone-admin-credit-notes.png` });
  await expectTableOnDesktop(page, 'Credit notes', 'Outcome');
  await credit.getByRole('link', { name: creditNote.number }).click();
  await expect(page).toHaveURL(/\/admin\/finance\/credit-notes\/cn_/);
  await expect(page.getByRole('heading', { name: creditNote.number })).toBeVisible();

  // The credit note's own page: its lines fit the phone, the total in a column and the rest of a line's figures under it.
  const lines = page.getByRole('table', { name: 'Credited lines' });
  const line = lines.getByRole('row').filter({ hasText: 'Desk phone' });
  await line.scrollIntoViewIfNeeded();
  await expect(line.getByRole('cell', { name: '40.00', exact: true })).toBeInViewport();
  await expect(line.getByTestId('credited-line-figures')).toHaveText('Qty 1 · net 40.00 · tax 0.00 · no cost known');
  await expect(line.getByTestId('credited-line-figures')).toBeInViewport();
  await expect(lines.getByRole('columnheader', { name: 'Margin' })).toBeHidden();
  await expectNoSidewaysScroll(page);
  await page.screenshot({ path: `${SHOTS}/phone2-credit-note.png`, fullPage: true });
  // At a desktop's width the seven columns are back, the figures in them rather than under the line.
  await page.setViewportSize(DESKTOP);
  await expect(lines.getByRole('columnheader', { name: 'Margin' })).toBeVisible();
  await expect(line.getByTestId('credited-line-figures')).toHaveCount(0);
  await page.setViewportSize(PHONE);
});

test('on a phone, the operator reads the audit trail of every partner as cards', async ({ page }) => {
  await signIn(page, 'operator@folio.test', /\/operator$/, { twoFactor: true });
  // The shared audit table on the operator's page: the operator's own sign-in, the platform's, newest first.
  await page.goto('/operator/audit');
  const signedIn = await phoneCard(page, 'Audit events', 'auth.signed_in');
  await expectField(signedIn, 'Actor', /operator@folio\.test/);
  await expectField(signedIn, 'Partner', 'Platform');
  await expectField(signedIn, 'When', /\d{4}/);
  await expect(signedIn.getByRole('button', { name: /^Details of auth\.signed_in at / })).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/phone2-operator-audit.png` });
  await expectTableOnDesktop(page, 'Audit events', 'Partner');
});

test('on a phone, a credit note refunded to the card shows its card refunds as cards', async ({ page, browser, request }) => {
  // The finance person: the Customer and Invoice apps to make the customer and its invoice, Finance for the credit note.
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  const headers = await csrf(page);
  // A customer of this test's own, whose owner pays an invoice by card in the portal.
  const suffix = Date.now().toString(36).toUpperCase();
  const ownerEmail = `owner-${suffix.toLowerCase()}@cardback.test`;
  const customerId = await customerWithOwner(page, request, { name: `Cardback ${suffix} Pte Ltd`, ownerEmail, ownerName: 'Cara Cardback' });
  const invoiceRes = await page.request.post('/api/v1/invoices', {
    headers, data: { customerId, type: 'purchase', issue: true, lines: [{ description: 'Conference phone', quantity: '1', unitPrice: '40.00', taxCategory: 'zero_rated' }] },
  });
  expect(invoiceRes.status(), await invoiceRes.text()).toBe(201);
  const invoice = (await invoiceRes.json()) as { id: string; number: string };
  const ownerContext = await browser.newContext();
  const owner = await ownerContext.newPage();
  await signIn(owner, ownerEmail, /\/portal$/, { twoFactor: false });
  const paid = await apiWrite(owner, 'POST', `/api/v1/portal/invoices/${invoice.id}/pay`, { amount: '40.00', usePoints: false, cardToken: 'tok_sandbox_success' });
  expect(paid.status(), await paid.text()).toBe(200);
  await ownerContext.close();

  // Finance gives 25.00 back to the card it was paid with.
  const note = await apiWrite(page, 'POST', '/api/v1/credit-notes', {
    invoiceId: invoice.id, mode: 'amount', amount: '25.00', reason: 'service_issue', outcome: 'refund', refundMethod: 'card', issue: true,
  });
  expect(note.status(), await note.text()).toBe(201);
  const creditNote = (await note.json()) as { id: string; number: string };
  await page.goto(`/admin/finance/credit-notes/${creditNote.id}`);
  await expect(page.getByRole('heading', { name: creditNote.number })).toBeVisible();

  // The refund is a card: its amount as the title, the charge, its status and the refund's reference as fields.
  const refund = await phoneCard(page, 'Card refunds', 'SGD 25.00');
  await expectField(refund, 'Charge', /^\S+$/);
  await expectField(refund, 'Status', /^(pending|succeeded)/);
  await expectField(refund, 'Refund', /^\S+$/);
  await refund.screenshot({ path: `${SHOTS}/phone2-credit-note-card-refunds.png` });
  await expectTableOnDesktop(page, 'Card refunds', 'Charge');
});
