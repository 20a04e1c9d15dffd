import { expect, test } from '@playwright/test';
import { PASSWORD, SHOTS, csrf, expectFitsTheScreen, mailbox, signIn } from './support/folio.ts';
import { NUMBER_LABEL as LABEL, micros, organisationWithNumber, readSub, usablePoints, watchWrites } from './support/subscriptions.ts';
import { expireAtPeriodEnd } from './support/database.ts';

/**
 * Owners and admins manage their subscriptions in the portal (Home > Services): auto-renew off and on, terminate with the
 * refund into points, reactivate an expired one (expired through the database: e2e/support/database.ts), each sent with
 * the If-Match of the version the row showed; a subscription changed meanwhile is refused (412), said, and reloaded,
 * nothing changed. Members read the list with no controls; a closed organisation keeps
 * terminate and auto-renew off, and is not offered turning it on. Each test makes its own organisation (staff create it,
 * its owner tops up by card and buys a number from the points), so the seeded ones stay as other journeys expect them.
 */
const STALE = 'This subscription was changed meanwhile; it has been reloaded. Check it and try again.';

test('an owner turns auto-renew off and on, then terminates a number and finds the refund in points', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const staff = await browser.newPage();
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  const { subId } = await organisationWithNumber(page, staff, request, 'Renewals');
  await staff.close();
  const sent = watchWrites(page, subId);

  await page.goto('/portal?tab=services');
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
  const autoRenew = row.getByRole('switch', { name: `Auto-renew ${LABEL}` });
  await expect(autoRenew).toBeChecked();
  const first = await readSub(page, subId);

  // Off: the switch says so, the API agrees, and the request named the version the row showed.
  await autoRenew.click();
  await expect(page.getByText(`Auto-renew is off: ${LABEL} ends on`)).toBeVisible();
  await expect(autoRenew).not.toBeChecked();
  await expect(row).toContainText('Ends');
  const off = await readSub(page, subId);
  expect(off.view).toMatchObject({ status: 'active', autoRenew: false });
  expect(sent[0]).toMatchObject({ method: 'PATCH', path: '', ifMatch: first.etag });

  // And on again, from the row as it was reloaded.
  await autoRenew.click();
  await expect(page.getByText(`Auto-renew is on: ${LABEL} renews on`)).toBeVisible();
  await expect(autoRenew).toBeChecked();
  const on = await readSub(page, subId);
  expect(on.view).toMatchObject({ status: 'active', autoRenew: true });
  expect(sent[1]).toMatchObject({ method: 'PATCH', ifMatch: off.etag });

  // Terminate: the dialog says what happens, the amount the server quotes for today and the rule in words; a reason is required.
  const pointsBefore = await usablePoints(page);
  await row.getByRole('button', { name: `Terminate ${LABEL}` }).click();
  const dialog = page.getByRole('dialog', { name: `Terminate ${LABEL}?` });
  const quoted = dialog.getByTestId('terminate-quote');
  await expect(quoted).toContainText(/^You get SGD [\d.]+ back to your points, in full/);
  const quoteText = (await quoted.textContent()) ?? '';
  await expect(dialog.getByTestId('terminate-terms')).toContainText('It ends now');
  await expect(dialog.getByTestId('terminate-terms')).toContainText('Within 14 days of its activation, last renewal or reactivation');
  await expect(dialog.getByTestId('terminate-terms')).toContainText('a monthly period has no whole month left');
  await page.screenshot({ path: `${SHOTS}/portal-subscription-terminate.png`, fullPage: true });
  await dialog.getByRole('button', { name: 'Terminate' }).click();
  await expect(dialog.getByText('Required')).toBeVisible();
  expect(sent.filter((s) => s.path === '/terminate')).toHaveLength(0);
  await dialog.getByRole('textbox', { name: 'Reason' }).fill('We moved to another number');
  await dialog.getByRole('button', { name: 'Terminate' }).click();
  await expect(dialog).toBeHidden();

  const after = await readSub(page, subId);
  expect(after.view.status).toBe('terminated');
  expect(after.view.refund, 'terminated within 14 days: refunded in full').not.toBeNull();
  const refund = after.view.refund!;
  expect(micros(refund.total)).toBeGreaterThan(0n);
  const done = page.getByTestId('subscription-done');
  await expect(done).toContainText(`${LABEL} was terminated`);
  await expect(done).toContainText(`SGD ${refund.total} was refunded to your points`);
  // What was quoted is what was refunded.
  expect(quoteText).toContain(`You get SGD ${refund.total} back to your points`);
  await expect(row).toContainText('Terminated');
  await expect(row.getByRole('button', { name: `Terminate ${LABEL}` })).toHaveCount(0);
  await expect(row.getByRole('switch')).toHaveCount(0);
  const terminate = sent.find((s) => s.path === '/terminate')!;
  expect(terminate).toMatchObject({ method: 'POST', ifMatch: on.etag });
  expect(terminate.idempotencyKey).toMatch(/^terminate-[0-9a-f]{32}$/);
  expect(await usablePoints(page)).toBe(pointsBefore + micros(refund.total));

  // The refund is in the points' transactions.
  await page.getByRole('tab', { name: 'Points' }).click();
  const refundRow = page.getByRole('table', { name: 'Transactions' }).getByRole('row').filter({ hasText: 'Refund: Phone Number terminated' });
  await expect(refundRow).toContainText(refund.total);
});

test('a change made meanwhile is said and reloaded: neither the switch nor Terminate acts on the old version', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const staff = await browser.newPage();
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  const { subId } = await organisationWithNumber(page, staff, request, 'Meanwhile');
  await staff.close();
  const sent = watchWrites(page, subId);
  await page.goto('/portal?tab=services');
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
  const autoRenew = row.getByRole('switch', { name: `Auto-renew ${LABEL}` });
  await expect(autoRenew).toBeChecked();
  const shown = await readSub(page, subId);

  // Someone else turns auto-renew off through the API; the page still shows it on. Turning it off from the page is refused.
  const behind = await page.request.patch(`/api/v1/portal/subscriptions/${subId}`, { headers: await csrf(page), data: { autoRenew: false } });
  expect(behind.status(), await behind.text()).toBe(200);
  const changed = await readSub(page, subId);
  await expect(autoRenew).toBeChecked();
  await autoRenew.click();
  const stale = page.getByTestId('subscription-stale');
  await expect(stale).toContainText(`${LABEL} was changed`);
  await expect(stale).toContainText(STALE);
  await expect(stale).toHaveAttribute('role', 'alert');
  await expect(autoRenew).not.toBeChecked(); // reloaded: off, as the other change left it
  expect(sent).toHaveLength(1);
  expect(sent[0]).toMatchObject({ method: 'PATCH', ifMatch: shown.etag });
  expect((await readSub(page, subId)).etag).toBe(changed.etag);

  // Again behind its back: on. Terminate from the page names the version it shows: refused, the dialog closes, nothing is terminated.
  const again = await page.request.patch(`/api/v1/portal/subscriptions/${subId}`, { headers: await csrf(page), data: { autoRenew: true } });
  expect(again.status(), await again.text()).toBe(200);
  const changedAgain = await readSub(page, subId);
  await row.getByRole('button', { name: `Terminate ${LABEL}` }).click();
  const dialog = page.getByRole('dialog', { name: `Terminate ${LABEL}?` });
  await dialog.getByRole('textbox', { name: 'Reason' }).fill('Too expensive');
  const pointsBefore = await usablePoints(page);
  await dialog.getByRole('button', { name: 'Terminate' }).click();
  await expect(dialog).toBeHidden();
  await expect(stale).toContainText(STALE);
  await expect(autoRenew).toBeChecked();
  await expect(row).toContainText('Active');
  await page.screenshot({ path: `${SHOTS}/portal-subscription-stale.png`, fullPage: true });
  expect(sent.map((s) => s.ifMatch)).toEqual([shown.etag, changed.etag]);
  const after = await readSub(page, subId);
  expect(after.etag).toBe(changedAgain.etag);
  expect(after.view).toMatchObject({ status: 'active', autoRenew: true, refund: null });
  expect(await usablePoints(page)).toBe(pointsBefore);

  // The next try acts on what the row now shows, with the reason still typed.
  await row.getByRole('button', { name: `Terminate ${LABEL}` }).click();
  await expect(dialog.getByRole('textbox', { name: 'Reason' })).toHaveValue('Too expensive');
  await dialog.getByRole('button', { name: 'Terminate' }).click();
  await expect(page.getByTestId('subscription-done')).toContainText(`${LABEL} was terminated`);
  await expect(stale).toHaveCount(0);
  expect(sent.at(-1)?.ifMatch).toBe(changedAgain.etag);
  expect((await readSub(page, subId)).view.status).toBe('terminated');
});

test('a member reads the subscriptions with no controls; a closed organisation\'s owner can still turn auto-renew off and terminate, not on', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const staff = await browser.newPage();
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  const { customerId, subId } = await organisationWithNumber(page, staff, request, 'Readers');

  // The owner invites a member, who joins and signs in elsewhere.
  const memberEmail = `member-${Date.now().toString(36)}@readers.test`;
  const invited = await page.request.post('/api/v1/portal/members/invitations', { headers: await csrf(page), data: { email: memberEmail, name: 'Mia Member', role: 'member' } });
  expect(invited.status(), await invited.text()).toBe(201);
  const token = /accept-invitation\?token=([A-Za-z0-9_-]+)/.exec((await mailbox(request, memberEmail)).find((m) => m.kind === 'invitation')?.bodyText ?? '')?.[1];
  expect(token, 'an invitation link').toBeTruthy();
  const accepted = await request.post('/api/v1/auth/invitations/accept', { data: { token, name: 'Mia Member', password: PASSWORD } });
  expect(accepted.status(), await accepted.text()).toBe(200);
  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  await signIn(member, memberEmail, /\/portal$/, { twoFactor: false });
  await member.goto('/portal?tab=services');
  const memberRow = member.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
  await expect(memberRow).toContainText('Active');
  await expect(memberRow.getByText('On', { exact: true })).toBeVisible();
  await expect(member.getByRole('switch')).toHaveCount(0);
  await expect(member.getByRole('button', { name: /^(Terminate|Reactivate) / })).toHaveCount(0);
  // The API agrees: a member changes nothing (403).
  const refused = await member.request.patch(`/api/v1/portal/subscriptions/${subId}`, { headers: await csrf(member), data: { autoRenew: false } });
  expect(refused.status()).toBe(403);
  await memberContext.close();

  // Staff close the organisation: closing turns auto-renew off (ADR 0038). The owner may not turn it on again (409), so is not offered it.
  const closed = await staff.request.patch(`/api/v1/customers/${customerId}`, { headers: await csrf(staff), data: { status: 'closed' } });
  expect(closed.status(), await closed.text()).toBe(200);
  await staff.close();
  await page.goto('/portal?tab=services');
  await expect(page.getByTestId('account-closed')).toBeVisible();
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
  await expect(row).toContainText('Active');
  await expect(row.getByRole('switch')).toHaveCount(0);
  await expect(row.getByText('Off', { exact: true })).toBeVisible();
  await expect(row.getByRole('button', { name: `Terminate ${LABEL}` })).toBeVisible();
  await row.getByRole('button', { name: `Terminate ${LABEL}` }).click();
  const dialog = page.getByRole('dialog', { name: `Terminate ${LABEL}?` });
  await dialog.getByRole('textbox', { name: 'Reason' }).fill('Closing down');
  await dialog.getByRole('button', { name: 'Terminate' }).click();
  await expect(page.getByTestId('subscription-done')).toContainText('was refunded to your points');
  expect((await readSub(page, subId)).view.status).toBe('terminated');
});

test('an owner reactivates an expired number: the charge said before, the points and the new period after', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const staff = await browser.newPage();
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  const { subId } = await organisationWithNumber(page, staff, request, 'Comeback');
  await staff.close();
  // Time passing is the one step no page can take: its period ends unrenewed, as the renewal job leaves it (e2e/support/database.ts).
  await expireAtPeriodEnd(subId);
  const expired = await readSub(page, subId);
  expect(expired.view).toMatchObject({ status: 'expired' });
  const sent = watchWrites(page, subId);

  await page.goto('/portal?tab=services');
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
  await expect(row).toContainText('Expired');
  await expect(row.getByRole('switch')).toHaveCount(0);
  await expect(row.getByRole('button', { name: `Add an add-on to ${LABEL}` })).toHaveCount(0);
  await row.getByRole('button', { name: `Reactivate ${LABEL}` }).click();
  const dialog = page.getByRole('dialog', { name: `Reactivate ${LABEL}?` });
  await expect(dialog).toContainText('A full period is charged from your points now: SGD 5.00 plus tax');
  await expect(dialog).toContainText('It can be reactivated until');
  const pointsBefore = await usablePoints(page);
  await page.screenshot({ path: `${SHOTS}/portal-subscription-reactivate.png`, fullPage: true });
  await dialog.getByRole('button', { name: 'Reactivate' }).click();
  await expect(dialog).toBeHidden();

  const after = await readSub(page, subId);
  expect(after.view).toMatchObject({ status: 'active', currentPeriodEnd: expect.any(String) });
  expect(after.view.currentPeriodEnd! > expired.view.currentPeriodEnd!).toBe(true);
  const charge = after.view.history.find((h) => h.kind === 'reactivated')!;
  expect(charge.amount).toBe('5.45'); // 5.00 and 9% tax
  expect(await usablePoints(page)).toBe(pointsBefore - micros(charge.amount!));
  await expect(page.getByTestId('subscription-done')).toContainText(`${LABEL} is active again`);
  await expect(row).toContainText('Active');
  await expect(row.getByRole('switch', { name: `Auto-renew ${LABEL}` })).toBeVisible();
  const reactivate = sent.find((s) => s.path === '/reactivate')!;
  expect(reactivate).toMatchObject({ method: 'POST', ifMatch: expired.etag });
  expect(reactivate.idempotencyKey).toMatch(/^reactivate-[0-9a-f]{32}$/);
});

test.describe('on a phone (390 px)', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('an owner finds auto-renew and Terminate under the subscription\'s name, and the table fits', async ({ browser, page, request }) => {
    test.setTimeout(120_000);
    const staff = await browser.newPage({ viewport: { width: 1366, height: 860 } });
    await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
    await organisationWithNumber(page, staff, request, 'Pocket');
    await staff.close();
    await page.goto('/portal?tab=services');
    const table = page.getByRole('table', { name: 'Subscriptions' });
    const row = table.getByRole('row').filter({ hasText: 'Phone Number' });
    const autoRenew = row.getByRole('switch', { name: `Auto-renew ${LABEL}` });
    await autoRenew.scrollIntoViewIfNeeded();
    await expect(autoRenew).toBeInViewport();
    await expect(row.getByRole('button', { name: `Terminate ${LABEL}` })).toBeInViewport();
    await expect(table.getByRole('columnheader', { name: 'Auto-renew' })).toBeHidden();
    await expectFitsTheScreen(table);
    await page.screenshot({ path: `${SHOTS}/phone-portal-subscription-actions.png` });
    await row.getByRole('button', { name: `Terminate ${LABEL}` }).click();
    const dialog = page.getByRole('dialog', { name: `Terminate ${LABEL}?` });
    await expect(dialog.getByRole('button', { name: 'Terminate' })).toBeInViewport();
  });
});
