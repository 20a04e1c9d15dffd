import { expect, test } from '@playwright/test';
import { csrf, SHOTS, signIn } from './support/folio.ts';

/**
 * A subscription changed behind the page's back (someone else turns its auto-renew off through the API while the Customer
 * app shows it): Terminate names the version the row showed (If-Match), so the server refuses it (412) and nothing is
 * terminated; the page says so and reloads the list; terminated again from what it now shows, it goes through.
 * The customer is made here (points issued, a number sold from them) so the seeded ones stay as they are.
 */
const suffix = Date.now().toString(36);
const STALE = 'This subscription was changed by someone else; it has been reloaded. Check it and try again.';

interface Product { name: string; variants: { name: string; prices: { id: string; cycle: string; currency: string }[] }[] }
interface Subscription { id: string; status: string; autoRenew: boolean; version: number; terminatedAt: string | null; history: { kind: string }[] }

test('terminating a subscription someone else just changed is refused and reloaded; the next try goes through', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  const headers = await csrf(page);
  const created = await page.request.post('/api/v1/customers', {
    headers, data: { name: `Two Hands ${suffix}`, currency: 'SGD', ownerEmail: `owner-${suffix}@twohands.test`, ownerName: 'Tess Hands' },
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
  const subId = ((await sold.json()) as { subscription: { id: string } }).subscription.id;
  const read = async () => {
    const res = await page.request.get(`/api/v1/subscriptions/${subId}`);
    expect(res.status(), await res.text()).toBe(200);
    return { etag: res.headers().etag, view: (await res.json()) as Subscription };
  };
  const shown = await read();
  expect(shown.view).toMatchObject({ status: 'active', autoRenew: true });

  const ifMatches: (string | undefined)[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === `/api/v1/subscriptions/${subId}/terminate`) ifMatches.push(r.headers()['if-match']);
  });
  await page.goto(`/admin/customer/${id}?tab=subscriptions`);
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
  await expect(row).toContainText('Active');
  await expect(row).not.toContainText('auto-renew off');

  // Someone else turns auto-renew off through the API; the page still shows it as it was.
  const behind = await page.request.patch(`/api/v1/subscriptions/${subId}`, { headers, data: { autoRenew: false } });
  expect(behind.status(), await behind.text()).toBe(200);
  const changed = await read();
  expect(changed.etag).not.toBe(shown.etag);
  await expect(row).not.toContainText('auto-renew off');

  // Terminate from the page: refused, said, reloaded; nothing terminated.
  await row.getByRole('button', { name: 'Terminate' }).click();
  const dialog = page.getByRole('dialog', { name: 'Terminate Phone Number' });
  await dialog.getByRole('textbox', { name: 'Reason' }).fill('Moving to another provider');
  await dialog.getByRole('button', { name: 'Terminate' }).click();
  const stale = page.getByTestId('subscription-stale');
  await expect(stale).toContainText('Phone Number · Singapore local was changed');
  await expect(stale).toContainText(STALE);
  await expect(stale).toHaveAttribute('role', 'alert');
  await expect(dialog).toBeHidden();
  await expect(row).toContainText('auto-renew off');
  await expect(row).toContainText('Active');
  await page.screenshot({ path: `${SHOTS}/admin-customer-subscription-stale.png`, fullPage: true });
  expect(ifMatches).toEqual([shown.etag]);
  const after = await read();
  expect(after.etag).toBe(changed.etag);
  expect(after.view).toMatchObject({ status: 'active', autoRenew: false, terminatedAt: null });
  expect(after.view.history.map((h) => h.kind)).not.toContain('terminated');

  // Again, from what the page now shows: it goes through (the reason typed is still there).
  await row.getByRole('button', { name: 'Terminate' }).click();
  await expect(dialog.getByRole('textbox', { name: 'Reason' })).toHaveValue('Moving to another provider');
  await expect(dialog.getByRole('alert')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Terminate' }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText('Terminated');
  await expect(stale).toHaveCount(0);
  expect(ifMatches).toEqual([shown.etag, changed.etag]);
  expect((await read()).view.status).toBe('terminated');
});
