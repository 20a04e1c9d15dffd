import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { SHOTS, sidebar, signIn } from './support/folio.ts';

test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await signIn(page, 'admin@demo.test', /\/admin$/, { twoFactor: true });
});

test.afterAll(async () => {
  await page.close();
});

test('Access Control: staff with their apps; grant and remove an app', async () => {
  await sidebar(page).getByRole('link', { name: 'Access Control' }).click();
  await expect(page.getByRole('heading', { name: 'Access Control' })).toBeVisible();
  const staff = page.getByRole('table', { name: 'Staff' });
  const fiona = staff.getByRole('row').filter({ hasText: 'finance@demo.test' });
  await expect(fiona).toContainText('Finance');
  await expect(fiona).toContainText('Active');
  await fiona.getByRole('button', { name: 'Manage apps for Fiona Finance' }).click();
  const dialog = page.getByRole('dialog', { name: 'Apps for Fiona Finance' });
  await expect(dialog.getByRole('switch', { name: 'Finance' })).toBeDisabled();
  await dialog.getByRole('switch', { name: 'Discount' }).click();
  await expect(dialog.getByRole('switch', { name: 'Discount' })).toBeChecked();
  await expect(fiona).toContainText('Discount');
  await dialog.getByRole('switch', { name: 'Discount' }).click();
  await expect(dialog.getByRole('switch', { name: 'Discount' })).not.toBeChecked();
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(fiona).not.toContainText('Discount');
  await page.screenshot({ path: `${SHOTS}/admin-access-staff.png`, fullPage: true });
});

test('Access Control: invite a staff member, then revoke the invitation', async () => {
  const email = `staff-${Date.now().toString(36)}@demo.test`;
  await page.getByRole('tab', { name: 'Invitations' }).click();
  await page.getByRole('button', { name: 'Invite staff member' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite staff member' });
  await dialog.getByLabel('Name').fill('Sam Staff');
  await dialog.getByLabel('Email').fill(email);
  await expect(dialog.getByRole('checkbox', { name: 'Finance' })).toHaveCount(0);
  await dialog.getByRole('checkbox', { name: 'Audit' }).check();
  await dialog.getByRole('button', { name: 'Send invitation' }).click();
  await expect(dialog).toBeHidden();
  const row = page.getByRole('table', { name: 'Staff invitations' }).getByRole('row').filter({ hasText: email });
  await expect(row).toContainText('Pending');
  await row.getByRole('button', { name: `Revoke invitation to ${email}` }).click();
  await page.getByRole('dialog', { name: 'Revoke this invitation?' }).getByRole('button', { name: 'Revoke' }).click();
  await expect(row).toContainText('Revoked');
});

test('Access Control: create an API key, see its token once, revoke it', async () => {
  await page.getByRole('tab', { name: 'API keys' }).click();
  await page.getByRole('button', { name: 'Create API key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create API key' });
  await dialog.getByLabel('Key name').fill('Accounting sync');
  await dialog.getByRole('checkbox', { name: 'Customer' }).check();
  await dialog.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByRole('dialog', { name: 'Your new API key' });
  await expect(shown.getByText('it will not be shown again')).toBeVisible();
  // Served from 127.0.0.1 (a secure context), the browser copies it for them.
  await expect(shown.getByRole('button', { name: 'Copy key' })).toBeVisible();
  const token = (await shown.getByLabel('API key token').innerText()).trim();
  expect(token).toMatch(/^fk_/);
  await page.screenshot({ path: `${SHOTS}/admin-api-key-token.png` });
  // The key works for the Customer app.
  const res = await page.request.get('/api/v1/customers', { headers: { authorization: `Bearer ${token}` } });
  expect(res.status()).toBe(200);
  await shown.getByRole('button', { name: 'I have copied it' }).click();
  const row = page.getByRole('table', { name: 'API keys' }).getByRole('row').filter({ hasText: 'Accounting sync' });
  await expect(row).toContainText('Active');
  await row.getByRole('button', { name: 'Revoke API key Accounting sync' }).click();
  await page.getByRole('dialog', { name: /Revoke/ }).getByRole('button', { name: 'Revoke' }).click();
  await expect(row).toContainText('Revoked');
});

test('Access Control: staff give only apps they hold (the others are not offered)', async ({ browser }) => {
  // Fiona (Customer, Invoice, Finance) is given Access Control by the admin.
  const me = (await (await page.request.get('/api/v1/auth/session')).json()) as { csrfToken: string };
  const fionaId = (((await (await page.request.get('/api/v1/staff?limit=200')).json()) as { data: Array<{ id: string; email: string }> }).data)
    .find((s) => s.email === 'finance@demo.test')!.id;
  const grant = await page.request.put(`/api/v1/staff/${fionaId}/apps/access`, { headers: { 'x-csrf-token': me.csrfToken } });
  expect(grant.status(), await grant.text()).toBe(200);
  // A disabled member with Product, which Fiona does not hold.
  const returning = `returning-${Date.now().toString(36)}@demo.test`;
  const invited = await page.request.post('/api/v1/staff/invitations', { headers: { 'x-csrf-token': me.csrfToken }, data: { email: returning, name: 'Pat Product', apps: ['product'] } });
  expect(invited.status(), await invited.text()).toBe(201);
  const patId = ((await invited.json()) as { userId: string }).userId;
  expect((await page.request.post(`/api/v1/staff/${patId}/disable`, { headers: { 'x-csrf-token': me.csrfToken } })).status()).toBe(200);
  const fiona = await browser.newPage();
  try {
    await signIn(fiona, 'finance@demo.test', /\/admin$/, { twoFactor: true });
    await sidebar(fiona).getByRole('link', { name: 'Access Control' }).click();
    const staff = fiona.getByRole('table', { name: 'Staff' });
    await staff.getByRole('row').filter({ hasText: 'finance@demo.test' }).getByRole('button', { name: 'Manage apps for Fiona Finance' }).click();
    const dialog = fiona.getByRole('dialog', { name: 'Apps for Fiona Finance' });
    await expect(dialog.getByRole('switch', { name: 'Audit' })).toBeDisabled();
    await expect(dialog.getByRole('switch', { name: 'Audit' })).not.toBeChecked();
    await expect(dialog.getByText('You can grant only apps you hold').first()).toBeVisible();
    // What she holds she may still take away (not done here), or give.
    await expect(dialog.getByRole('switch', { name: 'Customer' })).toBeEnabled();
    await dialog.getByRole('button', { name: 'Done' }).click();

    // Enabling gives a member's apps back: one with an app she does not hold is refused, and the dialog says which and what to do.
    const pat = staff.getByRole('row').filter({ hasText: returning });
    await pat.getByRole('button', { name: 'Enable Pat Product' }).click();
    const enable = fiona.getByRole('dialog', { name: 'Enable Pat Product?' });
    await enable.getByRole('button', { name: 'Enable' }).click();
    await expect(enable.getByRole('alert')).toContainText('you do not hold: product. Remove those apps from them first');
    await enable.getByRole('button', { name: 'Cancel' }).click();
    await expect(pat).toContainText('Disabled');

    await fiona.getByRole('tab', { name: 'Invitations' }).click();
    await fiona.getByRole('button', { name: 'Invite staff member' }).click();
    const invite = fiona.getByRole('dialog', { name: 'Invite staff member' });
    for (const held of ['Customer', 'Invoice', 'Access Control']) await expect(invite.getByRole('checkbox', { name: held })).toBeVisible();
    for (const notHeld of ['Audit', 'Product', 'Finance']) await expect(invite.getByRole('checkbox', { name: notHeld })).toHaveCount(0);
    await invite.getByRole('button', { name: 'Cancel' }).click();

    // The API says the same to whoever asks it directly.
    const hers = (await (await fiona.request.get('/api/v1/auth/session')).json()) as { csrfToken: string };
    const selfGrant = await fiona.request.put(`/api/v1/staff/${fionaId}/apps/audit`, { headers: { 'x-csrf-token': hers.csrfToken } });
    expect(selfGrant.status()).toBe(403);
    expect(((await selfGrant.json()) as { code: string }).code).toBe('app_not_held');
  } finally {
    await fiona.close();
    const back = await page.request.delete(`/api/v1/staff/${fionaId}/apps/access`, { headers: { 'x-csrf-token': me.csrfToken } });
    expect(back.status(), await back.text()).toBe(200);
  }
});

test('Portal Settings: change the contact-sales email and keep it', async () => {
  await sidebar(page).getByRole('link', { name: 'Portal Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Portal Settings' })).toBeVisible();
  await expect(page.getByRole('switch', { name: 'Invoices tab' })).toBeChecked();
  const email = page.getByLabel('Contact-sales email');
  await expect(email).toHaveValue('sales@demo-telecom.test');
  await email.fill('hello@demo-telecom.test');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('Portal settings are updated.')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Contact-sales email')).toHaveValue('hello@demo-telecom.test');
  await page.screenshot({ path: `${SHOTS}/admin-portal-settings.png`, fullPage: true });
});

test('Customer: search, create a customer, see its users and notifications', async () => {
  await sidebar(page).getByRole('link', { name: 'Customer', exact: true }).click();
  const table = page.getByRole('table', { name: 'Customers' });
  await expect(table.getByRole('row').filter({ hasText: 'Acme Pte Ltd' })).toBeVisible();
  await page.getByLabel('Search customers').fill('globex');
  await expect(table.getByRole('row').filter({ hasText: 'Globex Sdn Bhd' })).toBeVisible();
  await expect(table.getByRole('row').filter({ hasText: 'Acme Pte Ltd' })).toHaveCount(0);
  await page.getByLabel('Search customers').fill('');

  const name = `Umbrella ${Date.now().toString(36)} Pte Ltd`;
  const owner = `owner-${Date.now().toString(36)}@umbrella.test`;
  await page.getByRole('button', { name: 'New customer' }).click();
  const dialog = page.getByRole('dialog', { name: 'New customer' });
  // A name already in use (case and spaces aside) is pointed out, with a link to that customer; creating is still allowed.
  const warning = dialog.getByTestId('same-name-warning');
  await dialog.getByLabel('Organisation name').fill('  acme   PTE ltd ');
  await expect(warning).toContainText('A customer with this name already exists');
  await expect(warning.getByRole('link', { name: 'Acme Pte Ltd' })).toHaveAttribute('href', /\/admin\/customer\/cus_/);
  await dialog.getByLabel('Organisation name').fill('Acme');
  await expect(warning).toHaveCount(0);
  await dialog.getByLabel('Organisation name').fill(name);
  await expect(warning).toHaveCount(0);
  await dialog.getByLabel('Owner name').fill('Uma Umbrella');
  await dialog.getByLabel('Owner email').fill(owner);
  await dialog.getByRole('button', { name: 'Create and invite owner' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await page.getByRole('tab', { name: 'Members' }).click();
  const users = page.getByRole('table', { name: 'Customer users' });
  await expect(users.getByRole('row').filter({ hasText: owner })).toContainText('Owner');
  await page.getByRole('tab', { name: 'Notifications' }).click();
  const notifications = page.getByRole('table', { name: 'Notifications' });
  await expect(notifications.getByRole('row').filter({ hasText: owner })).toContainText('Invitation');
  await notifications.getByRole('button', { name: /Status history of/ }).first().click();
  await expect(page.getByText('Queued').first()).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/admin-customer-detail.png`, fullPage: true });
});

test('Audit: events with a verified chain and a CSV download', async () => {
  await sidebar(page).getByRole('link', { name: 'Audit', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Audit', exact: true })).toBeVisible();
  await expect(page.getByText(/Verified up to event #|Not verified yet/).first()).toBeVisible();
  const events = page.getByRole('table', { name: 'Audit events' });
  await expect(events.getByText('customer.created').first()).toBeVisible();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const csv = await download;
  expect(csv.suggestedFilename()).toMatch(/\.csv$/);
  expect(fs.readFileSync(await csv.path(), 'utf8')).toMatch(/customer\.created/);
  const action = page.getByRole('combobox', { name: 'Action' });
  await action.click();
  await action.fill('customer.created');
  await page.getByRole('option', { name: /\(customer\.created\)/ }).click();
  await expect
    .poll(async () => {
      const actions = await events.locator('tbody tr td:nth-child(3)').allInnerTexts();
      return actions.length > 0 && actions.every((a) => a.includes('customer.created'));
    })
    .toBe(true);
  await page.screenshot({ path: `${SHOTS}/admin-audit.png`, fullPage: true });
});
