import { expect, test, type Page } from '@playwright/test';
import { SHOTS, signIn, pick } from './support/folio.ts';

/**
 * The portal's Audit section (issue 7 §2): the owner sees the organisation's activity, a member's sign-in included,
 * with people by name and no partner-internal fields; a member sees only their own actions; the CSV follows the filter.
 */
test.describe.configure({ mode: 'serial' });

async function openAudit(page: Page) {
  await page.goto('/portal?tab=audit');
  await expect(page.getByRole('tab', { name: 'Audit' })).toHaveAttribute('aria-selected', 'true');
  const table = page.getByRole('table', { name: 'Activity' });
  await expect(table.getByRole('row').nth(1)).toBeVisible();
  return table;
}

const dataRows = (page: Page) => page.getByRole('table', { name: 'Activity' }).getByRole('row').filter({ hasNot: page.getByRole('columnheader') });

test('a member sees only their own actions', async ({ page }) => {
  await signIn(page, 'member@acme.test', /\/portal$/, { twoFactor: false });
  await openAudit(page);
  await expect(page.getByText('Your own account and service activity.')).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Person' })).toHaveCount(0);
  const rows = dataRows(page);
  await expect(rows.filter({ hasText: 'Signed in' }).first()).toBeVisible();
  for (const row of await rows.all()) await expect(row).toContainText('Max Member');
  await expect(rows.filter({ hasText: 'Olive Owner' })).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/portal-audit-member.png`, fullPage: true });
});

test("the owner sees the organisation's events, a member's included, without partner-internal fields", async ({ page }) => {
  await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
  const table = await openAudit(page);
  await expect(page.getByText('Account and service activity across your organisation.')).toBeVisible();
  const rows = dataRows(page);
  await expect(rows.filter({ hasText: 'Max Member' }).filter({ hasText: 'Signed in' }).first()).toBeVisible();
  await expect(rows.filter({ hasText: 'Olive Owner' }).first()).toBeVisible();
  // Each person's role in the organisation under their name: the owner is not called a member.
  await expect(rows.filter({ hasText: 'Olive Owner' }).first().getByTestId('audit-actor-kind')).toHaveText('Owner');
  await expect(rows.filter({ hasText: 'Max Member' }).first().getByTestId('audit-actor-kind')).toHaveText('Member');
  // Provider changes show under the provider's name; never a staff email, id, cost or margin.
  for (const details of await table.getByRole('button', { name: /^Details of / }).all()) await details.click();
  const text = (await table.innerText()).toLowerCase();
  for (const secret of ['cost', 'margin', 'admin@demo.test', 'usr_', 'remark']) expect(text).not.toContain(secret);
  await page.screenshot({ path: `${SHOTS}/portal-audit-owner.png`, fullPage: true });

  // Filter by person: only Max's actions.
  await pick(page, page.getByRole('combobox', { name: 'Person' }), 'Max Member');
  await expect(rows.filter({ hasText: 'Olive Owner' })).toHaveCount(0);
  await expect(rows.first()).toContainText('Max Member');
  // And by type.
  await pick(page, page.getByRole('combobox', { name: 'Type' }), 'Sign-ins and security');
  for (const row of await rows.all()) await expect(row).toContainText('Sign-ins and security');

  // The CSV download follows the filter and holds no partner-internal data.
  const href = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
  expect(href).toMatch(/format=csv/);
  expect(href).toMatch(/type=sign_in/);
  const csv = await page.request.get(href!);
  expect(csv.status()).toBe(200);
  const body = await csv.text();
  expect(body.split('\r\n')[0]).toBe('occurredAt,type,action,person,personType,targetType,target,changes,eventId');
  expect(body).toContain('Max Member');
  expect(body).not.toContain('Olive Owner');
  expect(body.toLowerCase()).not.toMatch(/cost|margin/);

  // Bad input from a hand-made URL is a 400 naming the field, never a 500.
  const bad = await page.request.get('/api/v1/portal/audit-events?from=yesterday&limit=100000');
  expect(bad.status()).toBe(400);
  expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path).sort()).toEqual(['from', 'limit']);
});

test('a subscription event names the subscription\'s product, not the invoice it mentions', async ({ page }) => {
  // An activation (its changes name the invoice that paid for it) and a renewal failure, as the API lists them.
  const event = (id: string, action: string, subscriptionId: string, changes: Record<string, unknown>) => ({
    id, occurredAt: '2026-03-10T09:30:00Z', type: 'subscriptions', actor: { type: 'provider', id: null, label: 'Demo Telecom' }, app: 'customer', action,
    target: { type: 'subscription', id: subscriptionId, label: null }, changes,
  });
  await page.route(/\/api\/v1\/portal\/audit-events(\?.*)?$/, (route) => route.fulfill({
    json: {
      data: [
        event('evt_e2eaudit0000000000000001', 'subscription.activated', 'sub_e2eaudit0000000000000001', { status: { before: 'pending_payment', after: 'active' }, invoiceNumber: { after: 'INV-2026-000009' } }),
        event('evt_e2eaudit0000000000000002', 'subscription.expired', 'sub_e2eaudit0000000000000002', { status: { before: 'active', after: 'expired' } }),
      ],
      nextCursor: null,
    },
  }));
  await page.route('**/api/v1/portal/subscriptions?*', (route) => route.fulfill({
    json: {
      data: [{ id: 'sub_e2eaudit0000000000000001', productName: 'Cloud PBX', variantName: 'Pro', cycle: 'monthly', currency: 'SGD', quantity: 1, status: 'active', autoRenew: true, currentPeriodEnd: '2026-04-10', nextRenewalAt: '2026-04-03', renewalPrice: '20.00' }],
      nextCursor: null,
    },
  }));
  await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
  await openAudit(page);
  const rows = dataRows(page);
  const on = (i: number) => rows.nth(i).getByRole('cell').nth(3);
  await expect(on(0)).toHaveText('Subscription Cloud PBX · Pro');
  await expect(on(1)).toHaveText('Subscription');
  await expect(page.getByRole('table', { name: 'Activity' })).not.toContainText('Subscription INV-');
  await expect(rows.nth(0).getByTestId('audit-actor-kind')).toHaveText('Your provider');
});
