import { expect, test, type Page } from '@playwright/test';
import { SHOTS, apiWrite, customerWithOwner, pick, portalPriceId, signIn } from './support/folio.ts';

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

test('a subscription event names the subscription\'s product, not the invoice it mentions', async ({ browser, page, request }) => {
  // An organisation of its own, with no points: its owner buys a number, which waits on a Purchase invoice, and pays that
  // invoice by card. The activation's changes name the invoice that paid for it.
  const suffix = Date.now().toString(36);
  const ownerEmail = `owner-${suffix}@audited.test`;
  const staff = await browser.newPage();
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  await customerWithOwner(staff, request, { name: `Audited Lines ${suffix}`, ownerEmail, ownerName: 'Aude Owner' });
  await staff.close();
  await signIn(page, ownerEmail, /\/portal$/, { twoFactor: false });
  const bought = await apiWrite(page, 'POST', '/api/v1/portal/subscriptions', { priceId: await portalPriceId(page, 'Phone Number', 'Singapore local', 'monthly') });
  expect(bought.status(), await bought.text()).toBe(201);
  const { subscription, invoice } = (await bought.json()) as { subscription: { status: string }; invoice: { id: string; number: string } };
  expect(subscription.status).toBe('pending_payment');
  const paid = await apiWrite(page, 'POST', `/api/v1/portal/invoices/${invoice.id}/pay`, { cardToken: 'tok_sandbox_success' });
  expect(paid.status(), await paid.text()).toBe(200);

  await openAudit(page);
  const rows = dataRows(page);
  const activated = rows.filter({ hasText: 'Subscription activated' });
  await expect(activated).toHaveCount(1);
  await expect(activated.getByRole('cell').nth(3)).toHaveText('Subscription Phone Number · Singapore local');
  await expect(rows.filter({ hasText: 'Subscription bought' }).getByRole('cell').nth(3)).toHaveText('Subscription Phone Number · Singapore local');
  await expect(page.getByRole('table', { name: 'Activity' })).not.toContainText('Subscription INV-');
  // The invoice is among the activation's details, not its name.
  await activated.getByRole('button', { name: /^Details of / }).click();
  await expect(page.getByRole('table', { name: 'Activity' })).toContainText(invoice.number);
});
