import { expect, test } from '@playwright/test';
import { SHOTS, mailbox, sidebar, signIn, waitForNewMail } from './support/folio.ts';

/**
 * The Finance app is granted only by the platform operator: admin@demo.test does not hold it, asks for it,
 * the operator approves in the console, and after a reload the app is in the admin's sidebar.
 */
test('staff without Finance request it, the operator approves, and the app appears', async ({ browser }) => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, 'admin@demo.test', /\/admin$/, { twoFactor: true });

  await test.step('no Finance in the sidebar, and no way in', async () => {
    await expect(sidebar(admin).getByRole('link', { name: 'Customer', exact: true })).toBeVisible();
    await expect(sidebar(admin).getByRole('link', { name: 'Finance', exact: true })).toHaveCount(0);
    const session = await admin.request.get('/api/v1/auth/session');
    expect(session.status()).toBe(200);
    expect(((await session.json()) as { apps: string[] }).apps).not.toContain('finance');
    // Staff cannot grant Finance to anyone, themselves included: only the operator can.
    const me = ((await session.json()) as { user: { id: string }; csrfToken: string });
    const grant = await admin.request.put(`/api/v1/staff/${me.user.id}/apps/finance`, { headers: { 'x-csrf-token': me.csrfToken } });
    expect(grant.status()).toBe(422);
    await admin.goto('/admin/finance');
    await expect(admin.getByRole('heading', { name: 'No access to Finance' })).toBeVisible();
    await expect(admin.getByText('The platform operator grants the Finance app on request.')).toBeVisible();
  });

  await test.step('the admin asks for the Finance app from Home', async () => {
    await admin.goto('/admin');
    await admin.getByRole('button', { name: 'Request access to the Finance app' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Request access to the Finance app' });
    await dialog.getByLabel('Reason (optional)').fill('I reconcile bank transfers every month.');
    await dialog.getByRole('button', { name: 'Send request' }).click();
    await expect(dialog).toBeHidden();
    await expect(admin.getByText('Your request is pending')).toBeVisible();
    await expect(admin.getByRole('button', { name: 'Request access to the Finance app' })).toBeDisabled();
    const mine = admin.getByRole('table', { name: 'My access requests' });
    await expect(mine.getByRole('row').filter({ hasText: 'Pending' })).toHaveCount(1);
    await admin.screenshot({ path: `${SHOTS}/admin-finance-requested.png`, fullPage: true });
  });

  const operatorContext = await browser.newContext();
  const operator = await operatorContext.newPage();
  const seenByAdmin = new Set((await mailbox(operator.request, 'admin@demo.test')).map((m) => m.id));
  await signIn(operator, 'operator@folio.test', /\/operator$/, { twoFactor: true });

  await test.step('the operator sees the request in the console and approves it', async () => {
    const nav = operator.getByRole('navigation', { name: 'Console' });
    await expect(nav.getByRole('link', { name: /Access requests/ })).toContainText('1');
    await nav.getByRole('link', { name: /Access requests/ }).click();
    const pending = operator.getByRole('table', { name: 'Pending access requests' });
    const row = pending.getByRole('row').filter({ hasText: 'admin@demo.test' });
    await expect(row).toContainText('Demo Telecom');
    await expect(row).toContainText('Finance');
    await expect(row).toContainText('I reconcile bank transfers every month.');
    await operator.screenshot({ path: `${SHOTS}/operator-access-requests.png`, fullPage: true });
    await row.getByRole('button', { name: 'Approve' }).click();
    const dialog = operator.getByRole('dialog', { name: 'Grant Finance to Adam Admin?' });
    await dialog.getByLabel('Note to the requester (optional)').fill('Approved for month-end close.');
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await expect(dialog).toBeHidden();
    await expect(operator.getByText('Nothing waiting')).toBeVisible();
    const decided = operator.getByRole('table', { name: 'Decided access requests' }).getByRole('row').filter({ hasText: 'admin@demo.test' });
    await expect(decided).toContainText('Approved');
    await expect(decided).toContainText('Approved for month-end close.');
  });

  await test.step('the admin is told by email, reloads, and has the Finance app', async () => {
    const mail = await waitForNewMail(operator.request, 'admin@demo.test', 'access_request_decided', seenByAdmin);
    expect(mail.subject + mail.bodyText).toMatch(/Finance/);
    await admin.reload();
    const finance = sidebar(admin).getByRole('link', { name: 'Finance', exact: true });
    await expect(finance).toBeVisible();
    await expect(admin.getByRole('button', { name: 'Request access to the Finance app' })).toHaveCount(0);
    await finance.click();
    await expect(admin).toHaveURL(/\/admin\/finance\/payments$/);
    await expect(admin.getByRole('heading', { name: 'Payments', level: 2 })).toBeVisible();
    await expect(admin.getByRole('tablist', { name: 'Finance sections' }).getByRole('tab', { name: 'Credit notes' })).toBeVisible();
    await admin.screenshot({ path: `${SHOTS}/admin-finance-granted.png`, fullPage: true });
  });

  await adminContext.close();
  await operatorContext.close();
});

/**
 * Any app can be asked of the operator (docs/adr/0039, amendment): Fiona (Finance, Invoice, Customer) lacks Product,
 * which Adam (Product and Access Control) could give her; Home lists it among her other apps, its page names Adam and
 * takes her request, and the operator's inbox shows it as Product. Approved, the app is in her sidebar.
 */
test('staff ask the operator for an app other than Finance, told who at the partner could grant it instead', async ({ browser }) => {
  const fionaContext = await browser.newContext();
  const fiona = await fionaContext.newPage();
  await signIn(fiona, 'finance@demo.test', /\/admin$/, { twoFactor: true });

  await test.step('Home lists the apps she lacks; Product\'s page names the colleague who can grant it', async () => {
    const others = fiona.getByRole('region', { name: 'Other apps' });
    await expect(others.getByRole('link', { name: 'Request access to the Finance app' })).toHaveCount(0);
    await others.getByRole('link', { name: 'Request access to the Product app' }).click();
    await expect(fiona).toHaveURL(/\/admin\/product$/);
    await expect(fiona.getByRole('heading', { name: 'No access to Product' })).toBeVisible();
    await expect(fiona.getByRole('note')).toContainText('Adam Admin (admin@demo.test) holds the Product app and Access Control');
  });

  await test.step('she asks the operator anyway, with a note; the request is pending', async () => {
    await fiona.getByRole('button', { name: 'Request access to the Product app' }).click();
    const dialog = fiona.getByRole('dialog', { name: 'Request access to the Product app' });
    await dialog.getByLabel('Reason (optional)').fill('Adam is on leave this month.');
    await dialog.getByRole('button', { name: 'Send request' }).click();
    await expect(dialog).toBeHidden();
    await expect(fiona.getByText('Your request is pending')).toBeVisible();
    await expect(fiona.getByRole('button', { name: 'Request access to the Product app' })).toBeDisabled();
    await fiona.goto('/admin');
    const product = fiona.getByRole('region', { name: 'Other apps' }).getByRole('group', { name: 'Product' });
    await expect(product).toContainText('Requested');
  });

  const operatorContext = await browser.newContext();
  const operator = await operatorContext.newPage();
  const seen = new Set((await mailbox(operator.request, 'finance@demo.test')).map((m) => m.id));
  await signIn(operator, 'operator@folio.test', /\/operator$/, { twoFactor: true });

  await test.step('the operator sees Product in the inbox and approves', async () => {
    await operator.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: /Access requests/ }).click();
    const row = operator.getByRole('table', { name: 'Pending access requests' }).getByRole('row').filter({ hasText: 'finance@demo.test' });
    await expect(row).toContainText('Product');
    await expect(row).toContainText('Adam is on leave this month.');
    await row.getByRole('button', { name: 'Approve' }).click();
    const dialog = operator.getByRole('dialog', { name: 'Grant Product to Fiona Finance?' });
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await expect(dialog).toBeHidden();
    await expect(operator.getByText('Nothing waiting')).toBeVisible();
  });

  await test.step('Fiona is told, reloads, and has Product', async () => {
    const mail = await waitForNewMail(operator.request, 'finance@demo.test', 'access_request_decided', seen);
    expect(mail.subject).toBe('Your request for the Product app was approved');
    await fiona.reload();
    await expect(sidebar(fiona).getByRole('link', { name: 'Product', exact: true })).toBeVisible();
    await expect(fiona.getByRole('region', { name: 'Other apps' }).getByRole('group', { name: 'Product' })).toHaveCount(0);
  });

  // Back as the seed has her, for the journeys that count on what she lacks (taking an app away is never limited).
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  const me = (await (await admin.request.get('/api/v1/auth/session')).json()) as { csrfToken: string };
  const fionaId = (((await (await admin.request.get('/api/v1/staff?limit=200')).json()) as { data: Array<{ id: string; email: string }> }).data)
    .find((s) => s.email === 'finance@demo.test')!.id;
  expect((await admin.request.delete(`/api/v1/staff/${fionaId}/apps/product`, { headers: { 'x-csrf-token': me.csrfToken } })).status()).toBe(200);

  await adminContext.close();
  await operatorContext.close();
  await fionaContext.close();
});
