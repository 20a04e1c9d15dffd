import { expect, test } from '@playwright/test';
import { csrf, pick, SHOTS, signIn } from './support/folio.ts';

/**
 * Closing a customer (Customer app › Profile › Edit profile › Status) asks first, saying what it means in the customer's own
 * figures: its points stay, its open invoices stay due, its active subscriptions stop renewing. Cancel sends nothing.
 * The customer is made here (points issued, a subscription bought from them, an invoice issued) so the seeded ones stay as they are.
 */
const suffix = Date.now().toString(36);

interface Product { name: string; variants: { name: string; prices: { id: string; cycle: string; currency: string }[] }[] }

test('closing a customer asks first with its points, amount due and active subscriptions; cancel changes nothing', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  const headers = await csrf(page);
  const name = `Winding Down ${suffix}`;
  const created = await page.request.post('/api/v1/customers', {
    headers, data: { name, currency: 'SGD', ownerEmail: `owner-${suffix}@winding.test`, ownerName: 'Wendy Down' },
  });
  expect(created.status(), await created.text()).toBe(201);
  const id = ((await created.json()) as { id: string }).id;
  const issued = await page.request.post(`/api/v1/customers/${id}/points/issue`, { headers, data: { amount: '250.00', reason: `Opening balance ${suffix}` } });
  expect(issued.status(), await issued.text()).toBe(200);
  const catalog = (await (await page.request.get(`/api/v1/customers/${id}/sellable-products`)).json()) as { data: Product[] };
  const price = catalog.data.find((p) => p.name === 'Phone Number')?.variants.find((v) => v.name === 'Singapore local')?.prices.find((p) => p.cycle === 'monthly' && p.currency === 'SGD');
  expect(price, 'the demo catalog sells a Singapore local number monthly').toBeTruthy();
  const sold = await page.request.post(`/api/v1/customers/${id}/subscriptions`, { headers, data: { priceId: price!.id } });
  expect(sold.status(), await sold.text()).toBe(201);
  const invoice = await page.request.post('/api/v1/invoices', {
    headers,
    data: { customerId: id, type: 'purchase', issue: true, dueDays: 14, lines: [{ description: `Installation ${suffix}`, quantity: '1', unitPrice: '100.00', taxCategory: 'zero_rated' }] },
  });
  expect(invoice.status(), await invoice.text()).toBe(201);
  const before = (await (await page.request.get(`/api/v1/customers/${id}`)).json()) as { points: string; usable: string; status: string };
  expect(before.status).toBe('active');

  const patches: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'PATCH' && new URL(r.url()).pathname === `/api/v1/customers/${id}`) patches.push(r.postData() ?? '');
  });
  await page.goto(`/admin/customer/${id}?tab=profile`);
  const organisation = page.getByRole('region', { name: 'Organisation' });
  await expect(organisation).toContainText('Active');

  // Closed chosen and saved: the question comes first, with this customer's figures.
  await page.getByRole('button', { name: 'Edit profile' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit profile' });
  await pick(page, edit.getByRole('combobox', { name: 'Status' }), 'Closed', { exact: true });
  await edit.getByRole('button', { name: 'Save changes' }).click();
  const ask = page.getByRole('dialog', { name: `Close ${name}?` });
  await expect(ask.getByTestId('close-points')).toHaveText(`Points: SGD ${before.points} (usable SGD ${before.usable}) stay on the account; closing refunds nothing.`);
  await expect(ask.getByTestId('close-open-invoices')).toHaveText('Open invoices: 1 still asks for SGD 100.00 in all, and stays due.');
  await expect(ask.getByTestId('close-subscriptions')).toHaveText('Active subscriptions: 1. Closing turns auto-renew off: it runs to the end of the period paid, then expires; nothing is refunded (terminate to refund).');
  await expect(ask).toContainText('its calls are refused');
  await page.screenshot({ path: `${SHOTS}/admin-customer-close-confirm.png` });

  // Cancel: back to the form, nothing sent; leaving the form keeps the customer active.
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await expect(ask).toBeHidden();
  await expect(edit).toBeVisible();
  await edit.getByRole('button', { name: 'Cancel' }).click();
  await expect(edit).toBeHidden();
  await expect(organisation).toContainText('Active');
  expect(patches, 'nothing was sent').toEqual([]);
  expect(((await (await page.request.get(`/api/v1/customers/${id}`)).json()) as { status: string }).status).toBe('active');

  // Confirmed: the customer is closed.
  await page.getByRole('button', { name: 'Edit profile' }).click();
  await pick(page, edit.getByRole('combobox', { name: 'Status' }), 'Closed', { exact: true });
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await ask.getByRole('button', { name: 'Close customer' }).click();
  await expect(ask).toBeHidden();
  await expect(organisation).toContainText('Closed');
  expect(patches).toHaveLength(1);
  expect(((await (await page.request.get(`/api/v1/customers/${id}`)).json()) as { status: string }).status).toBe('closed');
});
