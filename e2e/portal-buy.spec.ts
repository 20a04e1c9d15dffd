import { expect, test } from '@playwright/test';
import { signIn, pick } from './support/folio.ts';

test('a portal owner buys a subscription; with no points it waits on a Purchase invoice, and Home lists it', async ({ page }) => {
  // Initech has no points: the purchase is recorded and waits on its invoice (Acme's points stay as other journeys expect them).
  await signIn(page, 'owner@initech.test', /\/portal$/, { twoFactor: false });
  await page.goto('/portal?tab=services');
  await page.getByRole('button', { name: 'Buy a subscription' }).click();
  const dialog = page.getByRole('dialog', { name: 'Buy a subscription' });
  await pick(page, dialog.getByRole('combobox', { name: 'Product' }), 'Phone Number');
  await pick(page, dialog.getByRole('combobox', { name: 'Plan and billing' }), /Singapore local · Monthly/);
  await expect(dialog).toContainText('per month × 1');
  await expect(dialog.getByTestId('buy-points-short')).toBeVisible();
  await dialog.getByRole('button', { name: 'Buy' }).click();
  await expect(page.getByText('Waiting on payment')).toBeVisible();
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
  await expect(row.first()).toBeVisible();
});

test('the Buy dialog shows the price after the organisation\'s discount and the total with tax', async ({ page }) => {
  // Initech has 10% off Teams licences (the demo discount).
  await signIn(page, 'owner@initech.test', /\/portal$/, { twoFactor: false });
  await page.goto('/portal?tab=services');
  await page.getByRole('button', { name: 'Buy a subscription' }).click();
  const dialog = page.getByRole('dialog', { name: 'Buy a subscription' });
  await pick(page, dialog.getByRole('combobox', { name: 'Product' }), 'Teams App Licence');
  await pick(page, dialog.getByRole('combobox', { name: 'Plan and billing' }), /Per user · Monthly/);
  await dialog.getByRole('textbox', { name: 'Quantity' }).fill('2');
  await expect(dialog.getByTestId('quote-price')).toHaveText('SGD 16.00');
  await expect(dialog.getByTestId('quote-discount')).toHaveText('SGD -1.60');
  await expect(dialog.getByTestId('quote-total')).toHaveText('SGD 15.70');
});

test('a member sees why they cannot buy', async ({ page }) => {
  await signIn(page, 'member@acme.test', /\/portal$/, { twoFactor: false });
  await page.goto('/portal?tab=services');
  await expect(page.getByText('Only owners and admins can buy subscriptions.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Buy a subscription' })).toHaveCount(0);
});

test('a terminated subscription shows no renewal date, renewal price or auto-renew', async ({ page }) => {
  // The list as the API gives a terminated subscription that still had auto-renew on when it ended (Acme may have none).
  await page.route('**/api/v1/portal/subscriptions?*', (route) => route.fulfill({
    json: {
      data: [{
        id: 'sub_e2eterminated0000000000001', customerId: 'cus_e2e', customerName: 'Acme Pte Ltd', productId: 'prd_e2e', productName: 'Cloud PBX', sku: 'PBX', productType: 'service',
        variantId: 'var_e2e', variantName: 'Pro', priceId: 'prc_e2e', cycle: 'monthly', currency: 'SGD', quantity: 1, status: 'terminated', autoRenew: true, renewByCard: false,
        startedAt: '2026-02-10T09:00:00Z', currentPeriodStart: '2026-02-10', currentPeriodEnd: '2026-03-10', nextRenewalAt: null, renewalPrice: '20.00', renewalDiscount: '0.00',
        discount: null, addOns: [], lastRenewalFailure: null, pendingInvoiceId: null, expiredAt: null, reactivatableUntil: null, terminatedAt: '2026-03-01T00:00:00Z',
        terminationReason: 'No longer needed', refund: null, createdAt: '2026-02-10T09:00:00Z',
      }],
      nextCursor: null,
    },
  }));
  await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
  await page.goto('/portal?tab=services');
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').nth(1);
  await expect(row).toContainText('Terminated');
  await expect(row.getByRole('cell').nth(3)).toHaveText('—Terminated');
  await expect(row.getByRole('cell').nth(4)).toHaveText('—');
  await expect(row.getByRole('cell').nth(5)).toHaveText('—');
  await expect(row.getByText('On', { exact: true })).toHaveCount(0);
});
