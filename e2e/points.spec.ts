import { expect, test, type Page } from '@playwright/test';
import { csrf, PASSWORD, SHOTS, signIn } from './support/folio.ts';

async function openPoints(page: Page) {
  await page.getByRole('tab', { name: 'Points' }).click();
  await expect(page).toHaveURL(/tab=points/);
}

test('the owner tops up by card, sees the new balance and the transaction, and a declined card is refused', async ({ page }) => {
  await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
  await openPoints(page);
  const points = page.getByTestId('wallet-points');
  await expect(points).toHaveText(/^SGD [\d,]+\.\d{2,6}$/); // sub-cent digits from the calls' micros (and their tax)
  const before = (await points.textContent()) ?? '';
  await expect(page.getByTestId('top-up-policy')).toContainText('admin fee of SGD 1.00');

  const form = page.getByRole('form', { name: 'Top up' });
  await test.step('a successful top-up of 25.00', async () => {
    // Submitted without an amount: said under the field, and gone as soon as one is typed.
    await form.getByRole('button', { name: 'Top up' }).click();
    await expect(form.getByText('Enter an amount, for example 50.00')).toBeVisible();
    await form.getByRole('textbox', { name: 'Amount' }).fill('10.00');
    await expect(form.getByText('Enter an amount, for example 50.00')).toHaveCount(0);
    await expect(page.getByTestId('top-up-preview')).toContainText('Total to be charged: SGD 11.00');
    // More decimals than SGD has: said at once, and no total is worked out for it.
    await form.getByRole('textbox', { name: 'Amount' }).fill('10.001');
    await expect(form.getByText('At most 2 decimals for SGD')).toBeVisible();
    await expect(page.getByTestId('top-up-preview')).toHaveCount(0);
    await form.getByRole('textbox', { name: 'Amount' }).fill('25.00');
    await expect(form.getByText('At most 2 decimals for SGD')).toHaveCount(0);
    await expect(page.getByTestId('top-up-preview')).toContainText('Total to be charged: SGD 25.00');
    await form.getByRole('textbox', { name: 'Card number' }).fill('4242 4242 4242 4242');
    await form.getByRole('button', { name: 'Top up' }).click();
    await expect(form.getByRole('status').filter({ hasText: 'Top-up complete' })).toContainText('SGD 25.00 points were added');
    await expect(points).not.toHaveText(before);
    // The form is empty again: nothing invites the same top-up twice, and no card is saved unasked.
    await expect(form.getByRole('textbox', { name: 'Amount' })).toHaveValue('');
    await expect(form.getByRole('textbox', { name: 'Card number' })).toHaveValue('');
    await expect(form.getByRole('checkbox', { name: 'Save this card for later top-ups' })).not.toBeChecked();
    await expect(page.getByTestId('top-up-preview')).toHaveCount(0);
    const transactions = page.getByRole('table', { name: 'Transactions' });
    const row = transactions.getByRole('row').filter({ hasText: 'Top-up' }).first();
    await expect(row).toContainText('+25.00');
    // A customer reads the type and the description, not the ledger's kind of entry (staff see it: below).
    await expect(row).not.toContainText('top_up');
    const balanceAfter = (await row.getByRole('cell').nth(4).textContent()) ?? '';
    await expect(points).toHaveText(balanceAfter);
    // The top-up's two decimals and the calls' four line up on their decimal points, in both number columns.
    for (const column of [3, 4]) {
      const pointsAt = await transactions.getByRole('row').evaluateAll((rows, c) => rows.slice(1).map((r) => {
        const cell = r.querySelectorAll('td')[c]!;
        const fraction = cell.querySelector('[data-fraction]');
        return { text: cell.textContent ?? '', left: fraction ? Math.round(fraction.getBoundingClientRect().left) : null };
      }), column);
      expect(pointsAt.length).toBeGreaterThan(1);
      expect(new Set(pointsAt.map((p) => p.text.split('.')[1]?.length)).size, 'rows with different numbers of decimals').toBeGreaterThan(1);
      expect(new Set(pointsAt.map((p) => p.left)), JSON.stringify(pointsAt)).toEqual(new Set([pointsAt[0]!.left]));
      expect(pointsAt[0]!.left).not.toBeNull();
    }
    const topUps = page.getByRole('table', { name: 'Top-ups' });
    await expect(topUps.getByRole('row').nth(1)).toContainText('Succeeded');
    // Staff's policy and gateway columns are not the customer's concern.
    await expect(topUps.getByRole('columnheader')).toHaveText(['Date', 'Status', 'Points', 'Fee', 'Charged', 'Invoice', 'Note']);
    await page.screenshot({ path: `${SHOTS}/portal-points-top-up.png`, fullPage: true });
  });

  await test.step('the type filter and the CSV link', async () => {
    const transactions = page.getByRole('table', { name: 'Transactions' });
    await page.getByRole('radiogroup', { name: 'Transaction type' }).getByText('Top-up', { exact: true }).click();
    await expect(transactions.getByRole('row').nth(1)).toContainText('Top-up');
    await expect(page.getByRole('link', { name: 'Download CSV' })).toHaveAttribute('href', '/api/v1/portal/transactions?format=csv&type=top_up');
    const csv = await page.request.get('/api/v1/portal/transactions?format=csv&type=top_up');
    expect(csv.status()).toBe(200);
    expect(await csv.text()).toMatch(/^id,occurredAt,type,description,amount,balanceAfter,currency\r\n.*,top_up,.*,25\.00,/s);
  });

  await test.step('a declined card', async () => {
    const balance = (await points.textContent()) ?? '';
    await form.getByRole('textbox', { name: 'Amount' }).fill('25.00');
    await form.getByRole('textbox', { name: 'Card number' }).fill('4000 0000 0000 0002');
    await form.getByRole('button', { name: 'Top up' }).click();
    const alert = form.getByRole('alert').filter({ hasText: 'Your card was declined' });
    await expect(alert).toBeVisible();
    await expect(alert).toContainText('Nothing was charged and no points were added.');
    await expect(alert).not.toContainText('top_'); // the recorded top-up's internal id
    await expect(alert).not.toContainText('generic_decline');
    await expect(points).toHaveText(balance);
    // The failed top-up charged nothing, and says why in words.
    const failed = page.getByRole('table', { name: 'Top-ups' }).getByRole('row').nth(1);
    await expect(failed).toContainText('Failed');
    await expect(failed.getByRole('cell').nth(4)).toHaveText('Not charged');
    await expect(failed).toContainText('The card was declined.');
    await expect(failed).not.toContainText('generic_decline');
    await page.screenshot({ path: `${SHOTS}/portal-points-declined.png`, fullPage: true });
  });
});

test('the owner sets the low balance alert: a bad threshold is named, a good one is kept and shows in the portal audit', async ({ page }) => {
  await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
  await openPoints(page);
  const form = page.getByRole('form', { name: 'Low balance alert' });
  const threshold = form.getByRole('textbox', { name: 'Threshold' });
  await expect(threshold).toHaveAttribute('placeholder', '5.00');
  await threshold.fill('1.005');
  await form.getByRole('button', { name: 'Save alert' }).click();
  await expect(form).toContainText('at most 2 decimals for SGD');
  await threshold.fill('12.50');
  await form.getByRole('button', { name: 'Save alert' }).click();
  await expect(page.getByText('Low balance alert is on, at 12.50 SGD.')).toBeVisible();
  await page.reload();
  await expect(page.getByRole('form', { name: 'Low balance alert' }).getByRole('textbox', { name: 'Threshold' })).toHaveValue('12.50');
  const alert = (await (await page.request.get('/api/v1/portal/low-balance-alert')).json()) as { enabled: boolean; threshold: string };
  expect(alert).toMatchObject({ enabled: true, threshold: '12.50' });
  await expect(page.getByText('Low balance alert changed').first()).toBeVisible(); // Home's recent activity: the portal audit
  await page.screenshot({ path: `${SHOTS}/portal-points-low-balance-alert.png`, fullPage: true });
});

test('a member is told that only owners and admins see the points', async ({ page }) => {
  await signIn(page, 'member@acme.test', /\/portal$/, { twoFactor: false });
  await openPoints(page);
  // In the words of the tab itself: points (it said "company credits").
  await expect(page.getByText('Only owners and admins can see your organisation’s points')).toBeVisible();
  await expect(page.getByText(/company credits/i)).toHaveCount(0);
  await expect(page.getByRole('form', { name: 'Top up' })).toHaveCount(0);
  const res = await page.request.get('/api/v1/portal/wallet');
  expect(res.status()).toBe(403);
});

test('finance staff issue points to a customer with a reason and see it in its transactions, and its top-ups', async ({ page }) => {
  // The owner tops up 12.00 by card (below the demo's 20.00 threshold: a fee of 1.00), as its own request.
  const login = await page.request.post('/api/v1/auth/login', { data: { email: 'owner@acme.test', password: PASSWORD } });
  expect(login.status()).toBe(200);
  const topUp = await page.request.post('/api/v1/portal/top-ups', {
    headers: { ...(await csrf(page)), 'idempotency-key': `e2e-staff-top-ups-${Date.now()}` },
    data: { amount: '12.00', cardToken: 'tok_sandbox_success' },
  });
  expect(topUp.status(), await topUp.text()).toBe(201);
  const { invoice } = await topUp.json() as { invoice: { number: string } };
  await page.context().clearCookies();

  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  await page.goto('/admin/customer');
  await page.getByRole('link', { name: 'Acme Pte Ltd' }).first().click();
  await expect(page.getByRole('heading', { name: 'Acme Pte Ltd' })).toBeVisible();
  await page.getByRole('tab', { name: 'Points' }).click();
  const section = page.getByRole('region', { name: 'Points' });
  await expect(section.getByTestId('wallet-points')).toHaveText(/^SGD /);
  // What a point is worth, in words that fit staff too (it said "1 unit of your currency" to them).
  await expect(section.getByRole('region', { name: 'Points balance' })).toContainText('1 point = 1 SGD');

  await section.getByRole('button', { name: 'Issue points' }).click();
  const dialog = page.getByRole('dialog', { name: 'Issue points' });
  await dialog.getByRole('textbox', { name: 'Amount' }).fill('5.00');
  await dialog.getByRole('textbox', { name: 'Reason' }).fill('Goodwill credit for the outage on Monday');
  await dialog.getByRole('button', { name: 'Issue points' }).click();
  await expect(dialog).toBeHidden();
  const row = section.getByRole('table', { name: 'Transactions' }).getByRole('row').filter({ hasText: 'points_issued' }).first();
  await expect(row).toContainText('+5.00');
  await expect(row).toContainText('Credit');

  // Staff see the policy that applied and the gateway's reference, which the portal's table leaves out.
  const topUps = section.getByRole('table', { name: 'Top-ups' });
  await expect(topUps.getByRole('columnheader')).toHaveText(['Date', 'Status', 'Points', 'Fee', 'Policy', 'Charged', 'Invoice', 'Gateway', 'Note']);
  const topUpRow = topUps.getByRole('row').filter({ hasText: invoice.number });
  await expect(topUpRow).toContainText('Succeeded');
  await expect(topUpRow).toContainText('12.00');
  await expect(topUpRow).toContainText('13.00');
  await expect(topUpRow).toContainText(/sandbox · \S+/);
  await page.screenshot({ path: `${SHOTS}/admin-customer-points.png`, fullPage: true });

  // Unused top-up points refunded by bank transfer: the reference is asked for, and the feed shows the refund.
  await section.getByRole('button', { name: 'Take back points' }).click();
  const takeBack = page.getByRole('dialog', { name: 'Take back points' });
  await takeBack.getByRole('textbox', { name: 'Amount' }).fill('2.00');
  await takeBack.getByRole('textbox', { name: 'Reason' }).fill('Unused top-up refunded on request');
  await takeBack.getByRole('radio', { name: /Refunded by bank transfer/ }).check();
  await expect(takeBack.getByRole('textbox', { name: 'Transfer reference' })).toBeVisible();
  await takeBack.getByRole('button', { name: 'Take back points' }).click();
  await expect(takeBack.getByText('required with refundMethod')).toBeVisible();
  await takeBack.getByRole('textbox', { name: 'Transfer reference' }).fill('TT-E2E-1');
  await takeBack.getByRole('button', { name: 'Take back points' }).click();
  await expect(takeBack).toBeHidden();
  await expect(page.getByText('SGD 2.00 points refunded.')).toBeVisible();
  const refunded = section.getByRole('table', { name: 'Transactions' }).getByRole('row').filter({ hasText: 'points_refunded' }).first();
  await expect(refunded).toContainText('-2.00');
});
