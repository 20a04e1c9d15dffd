import { expect, test } from '@playwright/test';
import { SHOTS, apiWrite, customerWithOwner, expectFitsTheScreen, portalPriceId, signIn } from './support/folio.ts';

/**
 * The user portal on a phone (390 x 844, an iPhone's width): the header has no room for Home, Services and Members, so
 * they lead the page; its tables (invoices, transactions, top-ups, subscriptions, members, virtual lines, wallboards, activity) leave out what a
 * phone can do without, and fit its width.
 */
test.use({ viewport: { width: 390, height: 844 } });

test('an owner on a phone finds Services and Members, and reads invoices, transactions, members, lines, wallboards and activity without scrolling sideways', async ({ page }) => {
  await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
  const nav = page.getByRole('navigation', { name: 'Portal' });
  await expect(nav.getByRole('link', { name: 'Home' })).toBeInViewport();
  await expect(nav.getByRole('link', { name: 'Home' })).toHaveAttribute('aria-current', 'page');

  // Invoices: number with its status under it, the amount due and the pay button, all on screen. (Which invoices are
  // still payable depends on the tests before: the first one that is.)
  const invoices = page.getByRole('table', { name: 'Invoices' });
  await expect(invoices.getByRole('row').nth(1)).toBeVisible();
  await expectFitsTheScreen(invoices);
  const amountDue = invoices.getByRole('columnheader', { name: 'Amount due' });
  await amountDue.scrollIntoViewIfNeeded();
  await expect(amountDue).toBeInViewport();
  await expect(invoices.getByRole('columnheader', { name: 'Issued' })).toBeHidden();
  const payable = invoices.getByRole('row').filter({ has: page.getByRole('button', { name: /^Pay INV-/ }) }).first();
  await payable.scrollIntoViewIfNeeded();
  await expect(payable.getByRole('button', { name: /^Pay INV-/ })).toBeInViewport();
  await expect(payable.getByText(/^(Awaiting payment|Partially paid)$/).filter({ visible: true })).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/phone-portal-invoices.png` });

  // The row opens the invoice, whose dialog downloads it (the row's download button is left out on a phone).
  await payable.getByRole('cell').first().click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('link', { name: 'Download PDF' })).toBeVisible();
  // Its lines fit the screen, each line's amount in sight: the quantity and unit price sit under the description.
  const invoiceLines = dialog.getByRole('table', { name: 'Invoice lines' });
  await expectFitsTheScreen(invoiceLines);
  await expect(invoiceLines.getByRole('columnheader', { name: 'Amount' })).toBeVisible();
  await expect(invoiceLines.getByRole('columnheader', { name: 'Unit price' })).toBeHidden();
  await expect(invoiceLines.getByTestId('line-quantity-price').first()).toHaveText(/^\S+ × [\d,]+\.\d+/);
  // Its × is a button named for what it does (a screen reader had only "button").
  await dialog.getByRole('button', { name: 'Close dialog' }).click();
  await expect(dialog).toBeHidden();

  // Transactions: description with its date under it, the amount and the balance after it.
  await page.getByRole('tab', { name: 'Points' }).click();
  // The balance figures, two to a row on a phone, each keep to one line ("SGD 47.0788", not "SGD" above "47.0788").
  for (const figure of ['wallet-points', 'wallet-usable']) {
    const lines = await page.getByTestId(figure).evaluate((el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)));
    expect(lines, `${figure} on one line`).toBe(1);
  }
  const transactions = page.getByRole('table', { name: 'Transactions' });
  await expect(transactions.getByRole('row').nth(1)).toBeVisible();
  await expectFitsTheScreen(transactions);
  for (const shown of ['Amount', 'Balance after']) {
    const header = transactions.getByRole('columnheader', { name: shown, exact: true });
    await header.scrollIntoViewIfNeeded();
    await expect(header).toBeInViewport();
  }
  await expect(transactions.getByRole('columnheader', { name: 'Date' })).toBeHidden();
  await expectFitsTheScreen(transactions);
  await page.screenshot({ path: `${SHOTS}/phone-portal-transactions.png` });

  // Members and Services, from the links above the page: each person's or line's status and actions sit under it.
  await nav.getByRole('link', { name: 'Members' }).click();
  await expect(page.getByRole('heading', { name: 'Members' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Members' })).toHaveAttribute('aria-current', 'page');
  const members = page.getByRole('table', { name: 'Members' });
  const max = members.getByRole('row').filter({ hasText: 'member@acme.test' });
  await expect(max.getByRole('button', { name: /^Remove / })).toBeInViewport();
  await expectFitsTheScreen(members);

  await nav.getByRole('link', { name: 'Services' }).click();
  await expect(page.getByRole('heading', { name: 'Services' })).toBeVisible();
  const lines = page.getByRole('table', { name: 'Virtual lines' });
  await expect(lines.getByRole('button', { name: /^Edit / }).first()).toBeInViewport();
  await expectFitsTheScreen(lines);
  await page.screenshot({ path: `${SHOTS}/phone-portal-services.png` });

  await page.getByRole('tab', { name: 'Wallboards' }).click();
  const boards = page.getByRole('table', { name: 'Wallboards' });
  await expect(boards.getByRole('button', { name: /^Edit / }).first()).toBeInViewport();
  await expect(boards.getByText('Active').filter({ visible: true }).first()).toBeInViewport();
  await expect(boards.getByRole('columnheader', { name: 'Widgets' })).toBeHidden();
  await expectFitsTheScreen(boards);

  // The account's activity: what was done, with what it was done to, who and when under it; its details open below.
  await nav.getByRole('link', { name: 'Home' }).click();
  await page.getByRole('tab', { name: 'Audit' }).click();
  const activity = page.getByRole('table', { name: 'Activity' });
  await expect(activity.getByRole('row').nth(1)).toBeVisible();
  await expectFitsTheScreen(activity);
  await expect(activity.getByRole('columnheader', { name: 'When' })).toBeHidden();
  const details = activity.getByRole('button', { name: /^Details of / }).first();
  await details.scrollIntoViewIfNeeded();
  await expect(details).toBeInViewport();
  await details.click();
  await expect(activity.getByRole('button', { name: /^Details of / }).first()).toHaveAttribute('aria-expanded', 'true');
  await expectFitsTheScreen(activity);
  await page.screenshot({ path: `${SHOTS}/phone-portal-activity.png`, fullPage: true });
});

test('on a phone, an owner reads their top-ups (a declined one with why) and subscriptions without scrolling sideways', async ({ browser, page, request }) => {
  // An organisation of its own: its owner tops up by card, once declined, and buys a number from the points.
  const suffix = Date.now().toString(36);
  const ownerEmail = `owner-${suffix}@pocket.test`;
  const staff = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  await customerWithOwner(staff, request, { name: `Pocket Phones ${suffix}`, ownerEmail, ownerName: 'Pia Pocket' });
  await staff.close();
  await signIn(page, ownerEmail, /\/portal$/, { twoFactor: false });
  const succeeded = await apiWrite(page, 'POST', '/api/v1/portal/top-ups', { amount: '200.00', cardToken: 'tok_sandbox_success' });
  expect(succeeded.status(), await succeeded.text()).toBe(201);
  const charged = ((await succeeded.json()) as { total: string }).total;
  const declined = await apiWrite(page, 'POST', '/api/v1/portal/top-ups', { amount: '1000.00', cardToken: 'tok_sandbox_declined' });
  expect(declined.status(), await declined.text()).toBe(422);
  const topUpList = (await (await page.request.get('/api/v1/portal/top-ups')).json()) as { data: { status: string; failure: { reason: string } | null }[] };
  const why = topUpList.data.find((t) => t.status === 'failed')?.failure?.reason;
  expect(why, 'the declined top-up is recorded with why').toBeTruthy();
  const bought = await apiWrite(page, 'POST', '/api/v1/portal/subscriptions', { priceId: await portalPriceId(page, 'Phone Number', 'Singapore local', 'monthly') });
  expect(bought.status(), await bought.text()).toBe(201);

  // Top-ups: the date with the status, what the card was charged and why one failed under it, and the points.
  await page.goto('/portal?tab=points');
  const topUps = page.getByRole('table', { name: 'Top-ups' });
  await expect(topUps.getByRole('row').nth(2)).toBeVisible();
  await expectFitsTheScreen(topUps);
  const points = topUps.getByRole('columnheader', { name: 'Points', exact: true });
  await points.scrollIntoViewIfNeeded();
  await expect(points).toBeInViewport();
  for (const hidden of ['Fee', 'Charged', 'Invoice']) await expect(topUps.getByRole('columnheader', { name: hidden, exact: true })).toBeHidden();
  expect(why).toBe('generic_decline'); // the gateway's code, said in words on the page
  const failed = topUps.getByText('The card was declined.').filter({ visible: true });
  await failed.scrollIntoViewIfNeeded();
  await expect(failed).toBeInViewport();
  await expect(topUps.getByText(`Charged SGD ${charged}`).filter({ visible: true })).toBeVisible();
  await expect(topUps.getByText('Not charged').filter({ visible: true })).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/phone-portal-top-ups.png` });

  // Home > Services: each subscription's status and renewal under its name, its renewal price beside it.
  await page.getByRole('tab', { name: 'Services' }).click();
  const subscriptions = page.getByRole('table', { name: 'Subscriptions' });
  await expect(subscriptions.getByRole('row').nth(1)).toContainText('Phone Number');
  await expectFitsTheScreen(subscriptions);
  const renewalPrice = subscriptions.getByRole('columnheader', { name: 'Renewal price' });
  await renewalPrice.scrollIntoViewIfNeeded();
  await expect(renewalPrice).toBeInViewport();
  await expect(subscriptions.getByRole('columnheader', { name: 'Renewal date' })).toBeHidden();
  await expect(subscriptions.getByRole('row').nth(1).getByText('Active').filter({ visible: true })).toBeInViewport();
  await page.screenshot({ path: `${SHOTS}/phone-portal-subscriptions.png` });
});

test.describe('on a tablet in portrait (768 x 1024)', () => {
  test.use({ viewport: { width: 768, height: 1024 } });

  test("an owner sees each invoice's status, due date, amount due and pay button without scrolling sideways; Home counts the services in words; lines and wallboards fit", async ({ page }) => {
    await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
    const invoices = page.getByRole('table', { name: 'Invoices' });
    await expect(invoices.getByRole('row').nth(1)).toBeVisible();
    await expectFitsTheScreen(invoices, 768);
    for (const shown of ['Status', 'Due', 'Amount due']) await expect(invoices.getByRole('columnheader', { name: shown, exact: true })).toBeVisible();
    // Type, issue date and total wait for a wider screen (the invoice's dialog has them).
    for (const hidden of ['Type', 'Issued', 'Total']) await expect(invoices.getByRole('columnheader', { name: hidden, exact: true })).toBeHidden();
    const payable = invoices.getByRole('row').filter({ has: page.getByRole('button', { name: /^Pay INV-/ }) }).first();
    await payable.scrollIntoViewIfNeeded();
    await expect(payable.getByRole('button', { name: /^Pay INV-/ })).toBeInViewport();
    await page.screenshot({ path: `${SHOTS}/tablet-portal-invoices.png` });
    await page.getByRole('tab', { name: 'Services' }).click();
    await expect(page.getByTestId('home-services-counts')).toHaveText('2 virtual lines · 1 wallboard');

    // The Services page's tables fit too (the subscription each line or board belongs to waits for 992 px).
    await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Services' }).click();
    const lines = page.getByRole('table', { name: 'Virtual lines' });
    await expect(lines.getByRole('button', { name: /^Edit / }).first()).toBeInViewport();
    await expectFitsTheScreen(lines, 768);
    await page.getByRole('tab', { name: 'Wallboards' }).click();
    const boards = page.getByRole('table', { name: 'Wallboards' });
    await expect(boards.getByRole('button', { name: /^Edit / }).first()).toBeInViewport();
    await expectFitsTheScreen(boards, 768);
  });

  test('the header fits beside a long email: cut with an ellipsis, the whole address on hover', async ({ browser, page, request }) => {
    const suffix = Date.now().toString(36);
    // No hyphen to break at: it keeps to one line, as most addresses do.
    const ownerEmail = `accountspayabledepartment${suffix}@aratherlongorganisationname.test`;
    const staff = await browser.newPage({ viewport: { width: 1366, height: 860 } });
    await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
    await customerWithOwner(staff, request, { name: `Longmail Trading ${suffix}`, ownerEmail, ownerName: 'Lorna Longmail' });
    await staff.close();
    await signIn(page, ownerEmail, /\/portal$/, { twoFactor: false });
    const menu = page.getByRole('button', { name: 'User menu for Lorna Longmail' });
    const email = menu.getByText(ownerEmail);
    await expect(email).toBeVisible();
    // Nothing runs off the right edge: the page is no wider than the screen, and the menu is all on it.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(768);
    const box = (await menu.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(768);
    expect(box.y + box.height, 'the menu stays inside the 64 px header').toBeLessThanOrEqual(64);
    // Cut with an ellipsis, the whole address kept in its title.
    await expect(email).toHaveAttribute('title', ownerEmail);
    await expect(page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Members' })).toBeInViewport();
    await page.screenshot({ path: `${SHOTS}/tablet-portal-header-long-email.png` });
  });
});
