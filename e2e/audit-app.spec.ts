import { expect, test, type Page } from '@playwright/test';
import { csrf, expectFitsTheScreen, pick, SHOTS, sidebar, signIn } from './support/folio.ts';

/**
 * The Audit app (issue 7 §1): an Audit holder filters the trail by app and customer, opens an event and reads who did it
 * (and how they signed in), from where, and the field-by-field diff; the chain status is on top; the customer's timeline
 * in the Customer app shows the same event. Staff without the Audit app neither see it nor reach its API.
 */
test.describe.configure({ mode: 'serial' });

const suffix = Date.now().toString(36);
const oldPhone = '+65 6000 1111';
const newPhone = `+65 6${suffix.slice(-3).replace(/\D/g, '7').padStart(3, '7')} 2222`;

async function acmeId(p: Page): Promise<string> {
  const res = await p.request.get('/api/v1/customers?limit=200');
  expect(res.status()).toBe(200);
  const acme = ((await res.json()) as { data: { id: string; name: string }[] }).data.find((c) => c.name === 'Acme Pte Ltd');
  expect(acme).toBeTruthy();
  return acme!.id;
}

test('an Audit holder filters by app and customer, opens an event and reads its diff', async ({ page }) => {
  await signIn(page, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  // A change to look for: Acme's billing phone, set and then changed.
  const id = await acmeId(page);
  for (const phone of [oldPhone, newPhone]) {
    const res = await page.request.patch(`/api/v1/customers/${id}`, { headers: await csrf(page), data: { billingContact: { phone } } });
    expect(res.status(), await res.text()).toBe(200);
  }

  await sidebar(page).getByRole('link', { name: 'Audit' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.getByRole('heading', { name: 'Audit', exact: true })).toBeVisible();
  const table = page.getByRole('table', { name: 'Audit events' });
  // On a 1280-px laptop the events fit beside the sidebar, nothing to scroll sideways for.
  await page.setViewportSize({ width: 1280, height: 860 });
  await expect(table.getByRole('row').nth(1)).toBeVisible();
  await expectFitsTheScreen(table, 1280);
  await page.setViewportSize({ width: 1366, height: 860 });
  await expect(table.getByRole('row').nth(1)).toBeVisible();
  // The chain's state is always on top (verified, not checked yet, or unavailable: never nothing).
  await expect(page.getByText(/Verified up to event #|Not verified yet|Chain status unavailable|Audit chain broken/).first()).toBeVisible();

  await pick(page, page.getByRole('combobox', { name: 'App' }), 'Customer', { exact: true });
  await expect(page).toHaveURL(/app=customer/);
  const customer = page.getByRole('combobox', { name: 'Customer' });
  await customer.click();
  await customer.fill('Acme');
  await page.getByRole('option', { name: 'Acme Pte Ltd' }).click();
  await expect(page).toHaveURL(new RegExp(`customerId=${id}`));
  const rows = table.getByRole('row').filter({ hasNot: page.getByRole('columnheader') });
  await expect(rows.first()).toBeVisible();
  for (const row of await rows.all()) await expect(row).toContainText('Acme Pte Ltd');
  await page.screenshot({ path: `${SHOTS}/audit-app-filtered.png`, fullPage: true });

  // Newest first: the phone change is on top; open it.
  const change = rows.filter({ hasText: newPhone }).first();
  await expect(change).toContainText('customer.updated');
  await change.getByRole('button', { name: /^Open / }).click();
  await expect(page).toHaveURL(/event=evt_/);
  const drawer = page.getByRole('dialog');
  const detail = drawer.getByTestId('audit-event-detail');
  await expect(detail).toBeVisible();
  await expect(detail).toContainText('Adam Admin');
  await expect(detail).toContainText(/Password \+ 2FA|Password/);
  await expect(detail).toContainText(/IP \S+/);
  await expect(detail).toContainText('Acme Pte Ltd');
  const diff = detail.getByRole('table', { name: 'Field changes' });
  const phoneRow = diff.getByRole('row').filter({ hasText: 'Billing phone' });
  const before = phoneRow.locator('[data-diff="before"]');
  const after = phoneRow.locator('[data-diff="after"]');
  await expect(before).toContainText(oldPhone);
  await expect(before).toHaveCSS('text-decoration-line', 'line-through');
  await expect(after).toContainText(newPhone);
  await page.screenshot({ path: `${SHOTS}/audit-app-event.png`, fullPage: true });

  // The same event in the customer's timeline (Customer app).
  await detail.getByRole('link', { name: 'Acme Pte Ltd', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/admin/customer/${id}`));
  await page.getByRole('tab', { name: 'Timeline' }).click();
  const event = page.getByTestId('timeline-event').filter({ hasText: /updated/i }).first();
  await expect(event).toBeVisible();
  await event.getByRole('button', { name: 'Show changes' }).click();
  await expect(event.getByRole('table').getByRole('row').filter({ hasText: 'Billing phone' })).toContainText(newPhone);
  await page.screenshot({ path: `${SHOTS}/customer-timeline.png`, fullPage: true });
});

test('a credit note’s reason, outcome and refund method are shown in the words of the form, their codes kept as titles', async ({ browser }) => {
  // The finance person issues a credit note refunded by bank transfer on an invoice of a customer of this test's own.
  const finance = await browser.newPage();
  await signIn(finance, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  const headers = await csrf(finance);
  const suffix = Date.now().toString(36).toUpperCase();
  const customer = await finance.request.post('/api/v1/customers', {
    headers, data: { name: `Audit Words ${suffix}`, currency: 'SGD', ownerEmail: `owner-${suffix.toLowerCase()}@audit-words.test`, ownerName: 'Ada Words' },
  });
  expect(customer.status(), await customer.text()).toBe(201);
  const customerId = ((await customer.json()) as { id: string }).id;
  const invoiceRes = await finance.request.post('/api/v1/invoices', {
    headers, data: { customerId, type: 'purchase', issue: true, lines: [{ description: 'Onsite visit', quantity: '1', unitPrice: '40.00', taxCategory: 'zero_rated' }] },
  });
  expect(invoiceRes.status(), await invoiceRes.text()).toBe(201);
  const invoice = (await invoiceRes.json()) as { id: string };
  const payment = await finance.request.post('/api/v1/payments', { headers, data: { method: 'bank_transfer', amount: '40.00', currency: 'SGD', receivedOn: '2026-11-30', customerId } });
  const paymentId = ((await payment.json()) as { id: string }).id;
  expect((await finance.request.post(`/api/v1/payments/${paymentId}/allocate`, { headers, data: { allocations: [{ invoiceId: invoice.id, amount: '40.00' }] } })).status()).toBe(200);
  const note = await finance.request.post('/api/v1/credit-notes', {
    headers, data: { invoiceId: invoice.id, mode: 'amount', amount: '5.00', reason: 'service_issue', outcome: 'refund', refundMethod: 'bank_transfer', issue: true },
  });
  expect(note.status(), await note.text()).toBe(201);
  const creditNoteId = ((await note.json()) as { id: string }).id;
  await finance.close();

  const page = await browser.newPage();
  await signIn(page, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  await page.goto(`/admin/audit?targetId=${creditNoteId}`);
  const issued = page.getByRole('table', { name: 'Audit events' }).getByRole('row').filter({ hasText: 'credit_note.issued' });
  await issued.getByRole('button', { name: /^Open / }).click();
  const diff = page.getByRole('dialog').getByTestId('audit-event-detail').getByRole('table', { name: 'Field changes' });
  const after = (field: string) => diff.locator(`tr[data-field="${field}"] [data-diff="after"]`);
  await expect(after('reason')).toHaveText(/Service issue$/);
  await expect(after('outcome')).toHaveText(/Refund$/);
  await expect(after('refundMethod')).toHaveText(/Bank transfer \(recorded\)$/);
  await expect(after('reason').locator('[title]')).toHaveAttribute('title', 'service_issue');
  await expect(after('outcome').locator('[title]')).toHaveAttribute('title', 'refund');
  await expect(diff).not.toContainText('service_issue');
  await expect(diff).not.toContainText('bank_transfer');
  await page.close();
});

test('a staff member without the Audit app gets no sidebar entry and a 403', async ({ page }) => {
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  await expect(sidebar(page).getByRole('link', { name: 'Finance' })).toBeVisible();
  await expect(sidebar(page).getByRole('link', { name: 'Audit' })).toHaveCount(0);
  await page.goto('/admin/audit');
  await expect(page.getByRole('heading', { name: 'No access to Audit' })).toBeVisible();
  const res = await page.request.get('/api/v1/audit-events');
  expect(res.status()).toBe(403);
  expect(((await res.json()) as { code: string }).code).toBe('app_not_granted');
  expect((await page.request.get('/api/v1/audit-events/export.csv')).status()).toBe(403);
});
