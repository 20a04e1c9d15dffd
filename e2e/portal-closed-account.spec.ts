import { expect, test } from '@playwright/test';
import { SHOTS, apiWrite, csrf, customerWithOwner, signIn } from './support/folio.ts';

/**
 * A closed organisation's portal: one notice says the account is closed and whom to contact; what the API refuses a closed
 * organisation (409: top-up, buying a subscription, inviting a member, changing the low balance alert, shown as set) is not
 * offered, nor auto top-up (which no longer runs) but to turn it off when it was left on; invoices, points and members can still be read, and an invoice still due
 * paid by card.
 * The organisation is created here by staff, billed one invoice, its owner joins, and then staff close it. A suspended
 * organisation (calls and purchases paused by the provider) is told so, and offered no purchase, but still a top-up; its
 * low balance alert and auto top-up keep their forms and run as an active one's (its renewals still spend its points).
 */
const suffix = Date.now().toString(36);

test('a closed organisation\'s owner sees one notice and no top-up, auto top-up, buy or invite, and can still read and pay what is due', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const ownerEmail = `owner-${suffix}@closed.test`;
  const staff = await browser.newPage();
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  const headers = await csrf(staff);
  const customerId = await customerWithOwner(staff, request, { name: `Shuttered Trading ${suffix}`, ownerEmail, ownerName: 'Cora Closed' });
  const invoice = await staff.request.post('/api/v1/invoices', {
    headers,
    data: { customerId, type: 'purchase', issue: true, dueDays: 14, lines: [{ description: `Final month ${suffix}`, quantity: '1', unitPrice: '40.00', taxCategory: 'zero_rated' }] },
  });
  expect(invoice.status(), await invoice.text()).toBe(201);
  const number = ((await invoice.json()) as { number: string }).number;

  const closed = await staff.request.patch(`/api/v1/customers/${customerId}`, { headers, data: { status: 'closed' } });
  expect(closed.status(), await closed.text()).toBe(200);
  await staff.close();

  await signIn(page, ownerEmail, /\/portal$/, { twoFactor: false });
  const notice = page.getByTestId('account-closed');
  await expect(notice).toContainText('This account is closed');
  await expect(notice).toContainText('contact Demo Telecom');
  await expect(page.getByText('This account is closed')).toHaveCount(1);
  await expect(page.getByRole('region', { name: 'Points summary' }).getByTestId('home-usable')).toHaveText('SGD 0.00');
  await expect(page.getByRole('region', { name: 'Points summary' }).getByRole('link', { name: 'Top up' })).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/portal-closed-account.png`, fullPage: true });

  // Points: the balance and transactions are there to read; no top-up by card, no auto top-up.
  await page.getByRole('tab', { name: 'Points' }).click();
  await expect(page.getByRole('heading', { name: 'Transactions' })).toBeVisible();
  await expect(page.getByTestId('wallet-usable')).toHaveText('SGD 0.00');
  // The low balance alert is shown as set, not offered for change (the API refuses a closed organisation that: 409).
  await expect(page.getByRole('form', { name: 'Low balance alert' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Save alert' })).toHaveCount(0);
  await expect(page.getByTestId('low-balance-alert-setting')).toContainText('On: when usable points fall to 5.00 SGD (the default).');
  await expect(page.getByTestId('low-balance-alert-setting')).toContainText('can no longer be changed');
  await expect(page.getByTestId('low-balance-alert-paused')).toHaveCount(0);
  await expect(page.getByRole('form', { name: 'Top up' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Top up', exact: true })).toHaveCount(0);
  await expect(page.getByRole('form', { name: 'Auto top-up' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Save auto top-up' })).toHaveCount(0);

  // Services: the subscriptions are listed, nothing can be bought.
  await page.getByRole('tab', { name: 'Services' }).click();
  await expect(page.getByRole('heading', { name: 'Subscriptions', level: 3 })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Buy a subscription' })).toHaveCount(0);

  // Members: listed, no one new invited.
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Members' }).click();
  await expect(page.getByRole('table', { name: 'Members' }).getByRole('row').filter({ hasText: ownerEmail })).toContainText('Owner');
  await expect(page.getByRole('button', { name: 'Invite member' })).toHaveCount(0);
  await expect(notice).toBeVisible();

  // The invoice still due is paid by card; the dialog offers no top-up first (the points fall short: none).
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Home' }).click();
  await page.getByRole('tab', { name: 'Invoices' }).click();
  await page.getByRole('table', { name: 'Invoices' }).getByRole('button', { name: `Pay ${number}` }).click();
  const pay = page.getByRole('dialog', { name: `Pay ${number}` });
  await expect(pay.getByTestId('pay-card-amount')).toHaveText('SGD 40.00');
  await expect(pay.getByTestId('pay-top-up-offer')).toHaveCount(0);
  await expect(pay.getByRole('button', { name: 'Top up instead' })).toHaveCount(0);
  await pay.getByRole('textbox', { name: 'Card number' }).fill('4242 4242 4242 4242');
  await pay.getByRole('button', { name: /^Pay [\d,.]+ SGD$/ }).click();
  await expect(page.getByRole('dialog', { name: `Payment of ${number}` }).getByTestId('receipt-status')).toHaveText('Paid');
});

test('a suspended organisation\'s owner is told so, is offered no purchase, and can still top up and invite', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const ownerEmail = `owner-${suffix}@suspended.test`;
  const staff = await browser.newPage();
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  const headers = await csrf(staff);
  const customerId = await customerWithOwner(staff, request, { name: `Paused Trading ${suffix}`, ownerEmail, ownerName: 'Sam Suspended' });
  const suspended = await staff.request.patch(`/api/v1/customers/${customerId}`, { headers, data: { status: 'suspended' } });
  expect(suspended.status(), await suspended.text()).toBe(200);
  await staff.close();

  await signIn(page, ownerEmail, /\/portal$/, { twoFactor: false });
  const notice = page.getByTestId('account-suspended');
  await expect(notice).toContainText('This account is suspended');
  await expect(notice).toContainText('no subscription can be bought');
  await expect(notice).toContainText('contact Demo Telecom');
  await expect(page.getByTestId('account-closed')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Buy a subscription' })).toHaveCount(0);

  // What a suspended account may still do is offered: a top-up, and inviting a member.
  await page.getByRole('tab', { name: 'Points' }).click();
  await expect(page.getByRole('form', { name: 'Top up' })).toBeVisible();
  await expect(page.getByRole('form', { name: 'Low balance alert' })).toBeVisible();
  await expect(page.getByTestId('low-balance-alert-setting')).toHaveCount(0);
  // Its alert and auto top-up keep running as an active account's (its renewals still spend its points): forms, no "paused".
  await expect(page.getByRole('form', { name: 'Auto top-up' })).toBeVisible();
  await expect(page.getByText(/paused while your account is suspended/)).toHaveCount(0);
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Members' }).click();
  await expect(page.getByRole('button', { name: 'Invite member' })).toBeVisible();
  await expect(notice).toBeVisible();
});

test('a closed organisation\'s auto top-up left on is shown with a button that turns it off, and nothing else about it can change', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const ownerEmail = `owner-${suffix}@autotopup-closed.test`;
  const staff = await browser.newPage();
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  const customerId = await customerWithOwner(staff, request, { name: `Lapsed Autotop ${suffix}`, ownerEmail, ownerName: 'Ada Auto' });

  // While active, the owner saves a card with a top-up and turns auto top-up on.
  await signIn(page, ownerEmail, /\/portal$/, { twoFactor: false });
  const topUp = await apiWrite(page, 'POST', '/api/v1/portal/top-ups', { amount: '20.00', cardToken: 'tok_sandbox_success', saveCard: true });
  expect(topUp.status(), await topUp.text()).toBe(201);
  const cards = (await (await page.request.get('/api/v1/portal/saved-cards')).json()) as { data: { id: string }[] };
  const on = await apiWrite(page, 'PUT', '/api/v1/portal/auto-top-up', { enabled: true, threshold: '5.00', amount: '30.00', savedCardId: cards.data[0]!.id });
  expect(on.status(), await on.text()).toBe(200);

  const closed = await staff.request.patch(`/api/v1/customers/${customerId}`, { headers: await csrf(staff), data: { status: 'closed' } });
  expect(closed.status(), await closed.text()).toBe(200);
  await staff.close();

  await page.reload();
  await page.getByRole('tab', { name: 'Points' }).click();
  const left = page.getByTestId('auto-top-up-left-on');
  await expect(left).toContainText('On: 30.00 SGD when usable points fall to 5.00 SGD, charged to');
  await expect(left).toContainText('It no longer runs while the account is closed');
  await expect(page.getByRole('form', { name: 'Auto top-up' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Save auto top-up' })).toHaveCount(0);
  // Anything but turning it off is refused (409), so it is not offered; turning it off is.
  const changed = await apiWrite(page, 'PUT', '/api/v1/portal/auto-top-up', { enabled: true, threshold: '6.00', amount: '30.00', savedCardId: cards.data[0]!.id });
  expect(changed.status(), await changed.text()).toBe(409);
  await left.getByRole('button', { name: 'Turn off auto top-up' }).click();
  await expect(page.getByText('Auto top-up is off.')).toBeVisible();
  await expect(left).toHaveCount(0);
  const after = (await (await page.request.get('/api/v1/portal/auto-top-up')).json()) as { enabled: boolean; threshold: string; amount: string };
  expect(after).toMatchObject({ enabled: false, threshold: '5.00', amount: '30.00' });
});
