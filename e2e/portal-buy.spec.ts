import { expect, test } from '@playwright/test';
import { apiWrite, customerWithOwner, pick, portalPriceId, signIn } from './support/folio.ts';

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
  // A quantity that is not one is named, never bought as 1: no quote, and Buy waits.
  const quantity = dialog.getByRole('textbox', { name: 'Quantity' });
  for (const [typed, problem] of [['0', 'At least 1'], ['-3', 'At least 1'], ['', 'Enter a quantity of at least 1'], ['10001', 'At most 10000'], ['2.5', 'Enter a whole number']] as const) {
    await quantity.fill(typed);
    await quantity.blur();
    await expect(dialog.getByText(problem, { exact: true })).toBeVisible();
    await expect(quantity).toHaveValue(typed);
    await expect(dialog.getByTestId('quote-total')).toHaveCount(0);
    await expect(dialog.getByRole('button', { name: 'Buy' })).toBeDisabled();
  }
  // Up to the API's bound, as the Customer app's Sell dialog: 10,000 is quoted, not refused.
  await quantity.fill('10000');
  await expect(dialog.getByText(/^At most/)).toHaveCount(0);
  await expect(dialog.getByTestId('quote-total')).toBeVisible();
  await quantity.fill('2');
  await expect(dialog.getByRole('button', { name: 'Buy' })).toBeEnabled();
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

test('a terminated subscription shows no renewal date, renewal price or auto-renew; its add-on ended with it; Home says none is active', async ({ browser, page, request }) => {
  // An organisation of its own: its owner tops up by card, buys a number from the points, then terminates it (Acme may have none).
  const suffix = Date.now().toString(36);
  const ownerEmail = `owner-${suffix}@ended.test`;
  const staff = await browser.newPage();
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  await customerWithOwner(staff, request, { name: `Ended Numbers ${suffix}`, ownerEmail, ownerName: 'Ed Ended' });
  await staff.close();
  await signIn(page, ownerEmail, /\/portal$/, { twoFactor: false });
  const topUp = await apiWrite(page, 'POST', '/api/v1/portal/top-ups', { amount: '100.00', cardToken: 'tok_sandbox_success' });
  expect(topUp.status(), await topUp.text()).toBe(201);
  const bought = await apiWrite(page, 'POST', '/api/v1/portal/subscriptions', { priceId: await portalPriceId(page, 'Phone Number', 'Singapore local', 'monthly') });
  expect(bought.status(), await bought.text()).toBe(201);
  const { subscription } = (await bought.json()) as { subscription: { id: string; status: string; autoRenew: boolean } };
  expect(subscription).toMatchObject({ status: 'active', autoRenew: true });
  const addOn = await apiWrite(page, 'POST', `/api/v1/portal/subscriptions/${subscription.id}/add-ons`, {
    priceId: await portalPriceId(page, 'Teams App Licence', 'Per user', 'monthly'), quantity: 2,
  });
  expect(addOn.status(), await addOn.text()).toBe(201);
  const ended = await apiWrite(page, 'POST', `/api/v1/portal/subscriptions/${subscription.id}/terminate`, { reason: 'No longer needed' });
  expect(ended.status(), await ended.text()).toBe(200);

  await page.goto('/portal?tab=services');
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
  await expect(row).toContainText('Terminated');
  await expect(row.getByRole('cell').nth(3)).toHaveText('—Terminated');
  await expect(row.getByRole('cell').nth(4)).toHaveText('—');
  await expect(row.getByRole('cell').nth(5)).toHaveText('—');
  await expect(row.getByText('On', { exact: true })).toHaveCount(0);
  // Its add-on ended with it: said so, dimmed, with no price per month and nothing to change (the API refuses it: 409).
  const addOns = row.getByRole('list', { name: 'Add-ons of Phone Number · Singapore local' });
  await expect(addOns.getByTestId('add-on')).toHaveText('+ Teams App Licence · Per user × 2Ended with the subscription');
  await expect(addOns.getByTestId('add-on')).toHaveAttribute('data-ended', 'true');
  await expect(addOns).not.toContainText('/ month');
  await expect(row.getByRole('button', { name: /^Change the quantity/ })).toHaveCount(0);
  await expect(row.getByRole('button', { name: /^Add an add-on/ })).toHaveCount(0);
  // Home's card: the organisation had a subscription, so not "No subscriptions yet."; it says none is active, and where it went.
  await page.goto('/portal?tab=invoices');
  const card = page.getByRole('region', { name: 'Subscriptions summary' });
  await expect(card.getByTestId('home-subscriptions-empty')).toHaveText('No active subscriptions.1 subscription ended. See them in Services');
  await expect(card).not.toContainText('No subscriptions yet.');
  await card.getByRole('link', { name: 'See them in Services' }).click();
  await expect(page).toHaveURL(/\/portal\?tab=services$/);
  await expect(row).toContainText('Terminated');
});
