import { expect, test, type Browser, type Page } from '@playwright/test';
import { PASSWORD, SHOTS, apiWrite, csrf, expectFitsTheScreen, mailbox, pick, portalPriceId, signIn } from './support/folio.ts';
import { NUMBER_LABEL as LABEL, micros, organisationWithNumber, readSub, usablePoints, watchWrites } from './support/subscriptions.ts';

/**
 * Owners and admins manage add-ons in the portal (Home > Services): an add-on is chosen from what the API accepts for the
 * subscription, the rule of its charge said in words before (the API has no quote), the charge said after as the server
 * recorded it; a quantity goes up now (charged) or down at the renewal; points that fall short are said with where to top
 * up. Every write names the version the row showed (If-Match) and carries an Idempotency-Key. Members read add-ons and
 * renewal by card, with no controls; on a phone the controls sit under the subscription's name. Each test makes its own
 * organisation.
 */
const TEAMS = 'Teams App Licence · Per user';
const STALE = 'This subscription was changed meanwhile; it has been reloaded. Check it and try again.';

function subscriptionRow(page: Page) {
  return page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
}


async function signedInStaff(browser: Browser): Promise<Page> {
  const staff = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  return staff;
}

test('an owner adds an add-on (the amount quoted before, the charge after), raises and lowers its quantity, and is told when points fall short', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const staff = await signedInStaff(browser);
  const { subId } = await organisationWithNumber(page, staff, request, 'Addons');
  await staff.close();
  const sent = watchWrites(page, subId);
  await page.goto('/portal?tab=services');
  const row = subscriptionRow(page);

  // Add: what can be added is what the API accepts for a monthly SGD subscription, its own price left out.
  const before = await readSub(page, subId);
  const pointsBefore = await usablePoints(page);
  await row.getByRole('button', { name: `Add an add-on to ${LABEL}` }).click();
  const dialog = page.getByRole('dialog', { name: `Add an add-on to ${LABEL}` });
  await dialog.getByRole('combobox', { name: 'Add-on' }).click();
  await expect(page.getByRole('option', { name: `${TEAMS} · SGD 8.00 / month` })).toBeVisible();
  await expect(page.getByRole('option', { name: /^Phone Number · Singapore local/ })).toHaveCount(0);
  await expect(page.getByRole('option', { name: /· Yearly|\/ year/ })).toHaveCount(0);
  await page.keyboard.press('Escape');
  await pick(page, dialog.getByRole('combobox', { name: 'Add-on' }), `${TEAMS} · SGD 8.00 / month`);
  await dialog.getByRole('textbox', { name: 'Quantity' }).fill('2');
  const terms = dialog.getByTestId('add-on-terms');
  await expect(terms).toContainText(`Charged now from your points: SGD 8.00 per unit per month, pro rata to`);
  await expect(terms).toContainText('plus tax');
  // The server's quote gives the amount before anything is charged.
  const quoted = dialog.getByTestId('add-on-quote');
  await expect(quoted).toContainText(/^SGD \d+\.\d{2} is charged now from your points: SGD \d+\.\d{2} for \d+ of \d+ days, to .*, tax SGD \d+\.\d{2}\.$/);
  const quotedTotal = /^SGD (\d+\.\d{2})/.exec((await quoted.textContent()) ?? '')![1]!;
  await page.screenshot({ path: `${SHOTS}/portal-add-on-dialog.png`, fullPage: true });
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(dialog).toBeHidden();

  const added = await readSub(page, subId);
  expect(added.view.addOns).toEqual([expect.objectContaining({ productName: 'Teams App Licence', variantName: 'Per user', quantity: 2, pendingQuantity: null, renewalPrice: '16.00' })]);
  const charge = added.view.history.find((h) => h.kind === 'add_on_added')!;
  expect(micros(charge.amount!)).toBeGreaterThan(0n);
  expect(charge.amount).toBe(quotedTotal); // what was quoted is what was taken
  expect(await usablePoints(page)).toBe(pointsBefore - micros(charge.amount!));
  const done = page.getByTestId('subscription-done');
  await expect(done).toContainText(`${TEAMS} × 2 was added to ${LABEL}`);
  await expect(done).toContainText(`SGD ${charge.amount} was charged from your points (tax included); its Purchase invoice ${charge.invoiceNumber} is under Invoices.`);
  const addOns = row.getByRole('list', { name: `Add-ons of ${LABEL}` });
  await expect(addOns).toContainText(`+ ${TEAMS} × 2`);
  await expect(addOns).toContainText('SGD 16.00 / month');
  const post = sent.find((s) => s.path === '/add-ons')!;
  expect(post).toMatchObject({ method: 'POST', ifMatch: before.etag, body: { priceId: await portalPriceId(page, 'Teams App Licence', 'Per user', 'monthly'), quantity: 2 } });
  expect(post.idempotencyKey).toMatch(/^add-on-[0-9a-f]{32}$/);
  // The points' transactions show the charge.
  await page.getByRole('tab', { name: 'Points' }).click();
  await expect(page.getByRole('table', { name: 'Transactions' }).getByRole('row').filter({ hasText: 'Add-on: Teams App Licence' }).first()).toContainText(charge.amount!);
  await page.getByRole('tab', { name: 'Services' }).click();

  // Up to 3: one more unit charged now.
  const addOnId = added.view.addOns[0]!.id;
  const pointsAfterAdd = await usablePoints(page);
  await row.getByRole('button', { name: `Change the quantity of ${TEAMS} on ${LABEL}` }).click();
  const change = page.getByRole('dialog', { name: `Change ${TEAMS} on ${LABEL}` });
  await change.getByRole('textbox', { name: 'Quantity' }).fill('3');
  await expect(change.getByTestId('add-on-change-terms')).toContainText('1 more unit is charged now from your points, pro rata to');
  await expect(change.getByTestId('add-on-quote')).toContainText(/^SGD \d+\.\d{2} is charged now from your points/);
  await expect(change.getByTestId('add-on-quote')).not.toContainText('activation fee');
  const raiseQuoted = /^SGD (\d+\.\d{2})/.exec((await change.getByTestId('add-on-quote').textContent()) ?? '')![1]!;
  await change.getByRole('button', { name: 'Save' }).click();
  await expect(change).toBeHidden();
  const raised = await readSub(page, subId);
  expect(raised.view.addOns[0]).toMatchObject({ quantity: 3, pendingQuantity: null });
  const raiseCharge = raised.view.history.find((h) => h.kind === 'quantity_changed')!;
  expect(raiseCharge.amount).toBe(raiseQuoted);
  expect(await usablePoints(page)).toBe(pointsAfterAdd - micros(raiseCharge.amount!));
  await expect(done).toContainText(`It is now 3. SGD ${raiseCharge.amount} was charged from your points`);
  const patch = sent.find((s) => s.path === `/add-ons/${addOnId}`)!;
  expect(patch).toMatchObject({ method: 'PATCH', ifMatch: added.etag, body: { quantity: 3 } });
  expect(patch.idempotencyKey).toMatch(/^add-on-quantity-[0-9a-f]{32}$/);

  // Down to 1: at the next renewal, nothing refunded, nothing charged.
  const pointsAfterRaise = await usablePoints(page);
  await row.getByRole('button', { name: `Change the quantity of ${TEAMS} on ${LABEL}` }).click();
  await change.getByRole('textbox', { name: 'Quantity' }).fill('1');
  await expect(change.getByTestId('add-on-change-terms')).toContainText('It goes down to 1 at the next renewal');
  await expect(change.getByTestId('add-on-change-terms')).toContainText('Nothing is refunded');
  await expect(change.getByTestId('add-on-quote')).toHaveCount(0); // nothing charged now: no amount to quote
  await change.getByRole('button', { name: 'Save' }).click();
  await expect(change).toBeHidden();
  const lowered = await readSub(page, subId);
  expect(lowered.view.addOns[0]).toMatchObject({ quantity: 3, pendingQuantity: 1, renewalPrice: '8.00' });
  expect(await usablePoints(page)).toBe(pointsAfterRaise);
  await expect(addOns).toContainText(`+ ${TEAMS} × 3, 1 from`);
  await expect(addOns).toContainText('SGD 8.00 / month');

  // A wallboard costs more than the points left: said before anything is tried (the quote), with where to top up; the
  // Add button waits for points; nothing charged.
  await row.getByRole('button', { name: `Add an add-on to ${LABEL}` }).click();
  await pick(page, dialog.getByRole('combobox', { name: 'Add-on' }), /^Call-centre Wallboard · Standard/);
  await expect(dialog.getByTestId('add-on-terms')).toContainText('plus a one-time activation fee of SGD 50.00');
  await expect(dialog.getByTestId('add-on-quote')).toContainText('a one-time activation fee of SGD 50.00');
  await expect(dialog.getByRole('alert')).toContainText('Not enough points');
  await expect(dialog.getByTestId('add-on-shortfall')).toContainText(/Your usable points \(SGD [\d,]+\.\d{2}\) do not cover the SGD [\d,]+\.\d{2} it costs now\./);
  await expect(dialog.getByRole('button', { name: 'Add' })).toBeDisabled();
  await expect(dialog.getByTestId('add-on-top-up').getByRole('link', { name: 'Top up your points' })).toBeVisible();
  expect(await usablePoints(page)).toBe(pointsAfterRaise);
  expect((await readSub(page, subId)).view.addOns).toHaveLength(1);
  await page.screenshot({ path: `${SHOTS}/portal-add-on-short.png`, fullPage: true });
  await dialog.getByTestId('add-on-top-up').getByRole('link', { name: 'Top up your points' }).click();
  await expect(dialog).toBeHidden();
  await expect(page).toHaveURL(/tab=points/);
});

test('a change made meanwhile is said and reloaded: neither renewal by card nor an add-on acts on the old version', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const staff = await signedInStaff(browser);
  const { subId } = await organisationWithNumber(page, staff, request, 'Addonsmeanwhile', { saveCard: true });
  await staff.close();
  const sent = watchWrites(page, subId);
  await page.goto('/portal?tab=services');
  const row = subscriptionRow(page);
  const byCard = row.getByRole('switch', { name: `Renewal by card ${LABEL}` });
  await expect(byCard).toBeEnabled();
  const shown = await readSub(page, subId);

  // Someone else turns auto-renew off through the API; the page still shows the version before. Renewal by card is refused (412).
  const behind = await page.request.patch(`/api/v1/portal/subscriptions/${subId}`, { headers: await csrf(page), data: { autoRenew: false } });
  expect(behind.status(), await behind.text()).toBe(200);
  await byCard.click();
  const stale = page.getByTestId('subscription-stale');
  await expect(stale).toContainText(`${LABEL} was changed`);
  await expect(stale).toContainText(STALE);
  await expect(byCard).not.toBeChecked();
  await expect(row.getByRole('switch', { name: `Auto-renew ${LABEL}` })).not.toBeChecked(); // reloaded
  expect(sent).toEqual([expect.objectContaining({ method: 'PATCH', ifMatch: shown.etag, body: { renewByCard: true } })]);
  expect((await readSub(page, subId)).view).toMatchObject({ renewByCard: false, autoRenew: false });

  // Again behind its back; an add-on from the page names the version it shows: refused, the dialog closes, nothing charged.
  const reloaded = await readSub(page, subId);
  const again = await page.request.patch(`/api/v1/portal/subscriptions/${subId}`, { headers: await csrf(page), data: { autoRenew: true } });
  expect(again.status(), await again.text()).toBe(200);
  const pointsBefore = await usablePoints(page);
  await row.getByRole('button', { name: `Add an add-on to ${LABEL}` }).click();
  const dialog = page.getByRole('dialog', { name: `Add an add-on to ${LABEL}` });
  await pick(page, dialog.getByRole('combobox', { name: 'Add-on' }), `${TEAMS} · SGD 8.00 / month`);
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(dialog).toBeHidden();
  await expect(stale).toContainText(STALE);
  await expect(row.getByRole('switch', { name: `Auto-renew ${LABEL}` })).toBeChecked(); // reloaded
  expect(sent.at(-1)).toMatchObject({ method: 'POST', path: '/add-ons', ifMatch: reloaded.etag });
  expect((await readSub(page, subId)).view.addOns).toEqual([]);
  expect(await usablePoints(page)).toBe(pointsBefore);

  // The next try acts on what the row now shows.
  await row.getByRole('button', { name: `Add an add-on to ${LABEL}` }).click();
  await pick(page, dialog.getByRole('combobox', { name: 'Add-on' }), `${TEAMS} · SGD 8.00 / month`);
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByTestId('subscription-done')).toContainText(`${TEAMS} × 1 was added to ${LABEL}`);
  await expect(stale).toHaveCount(0);
  expect((await readSub(page, subId)).view.addOns).toHaveLength(1);
});

test('a member reads add-ons and renewal by card with no controls', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const staff = await signedInStaff(browser);
  const { subId } = await organisationWithNumber(page, staff, request, 'Addonreaders', { saveCard: true });
  await staff.close();
  // The owner adds an add-on and turns renewal by card on, through the API.
  const added = await apiWrite(page, 'POST', `/api/v1/portal/subscriptions/${subId}/add-ons`, { priceId: await portalPriceId(page, 'Teams App Licence', 'Per user', 'monthly'), quantity: 2 });
  expect(added.status(), await added.text()).toBe(201);
  const byCard = await apiWrite(page, 'PATCH', `/api/v1/portal/subscriptions/${subId}`, { renewByCard: true });
  expect(byCard.status(), await byCard.text()).toBe(200);

  const memberEmail = `member-${Date.now().toString(36)}@addonreaders.test`;
  const invited = await page.request.post('/api/v1/portal/members/invitations', { headers: await csrf(page), data: { email: memberEmail, name: 'Max Member', role: 'member' } });
  expect(invited.status(), await invited.text()).toBe(201);
  const token = /accept-invitation\?token=([A-Za-z0-9_-]+)/.exec((await mailbox(request, memberEmail)).find((m) => m.kind === 'invitation')?.bodyText ?? '')?.[1];
  expect(token, 'an invitation link').toBeTruthy();
  const accepted = await request.post('/api/v1/auth/invitations/accept', { data: { token, name: 'Max Member', password: PASSWORD } });
  expect(accepted.status(), await accepted.text()).toBe(200);
  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  await signIn(member, memberEmail, /\/portal$/, { twoFactor: false });
  await member.goto('/portal?tab=services');
  const row = subscriptionRow(member);
  await expect(row.getByRole('list', { name: `Add-ons of ${LABEL}` })).toContainText(`+ ${TEAMS} × 2`);
  // Auto-renew on, and under it renewal by card, as read.
  await expect(row.getByText('On', { exact: true })).toBeVisible();
  await expect(row.getByText('Renewal by card: on')).toBeVisible();
  await expect(member.getByRole('switch')).toHaveCount(0);
  await expect(member.getByRole('button', { name: /^(Add an add-on to|Change the quantity of) / })).toHaveCount(0);
  // The API agrees: a member adds and changes nothing (403).
  const refused = await apiWrite(member, 'POST', `/api/v1/portal/subscriptions/${subId}/add-ons`, { priceId: await portalPriceId(member, 'Virtual Line', 'Basic', 'monthly'), quantity: 1 });
  expect(refused.status()).toBe(403);
  await memberContext.close();
});

test.describe('on a phone (390 px)', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('an owner finds renewal by card, the add-ons and Add-on under the subscription\'s name, and the table and dialog fit', async ({ browser, page, request }) => {
    test.setTimeout(120_000);
    const staff = await signedInStaff(browser);
    const { subId } = await organisationWithNumber(page, staff, request, 'Pocketaddons', { saveCard: true });
    await staff.close();
    const added = await apiWrite(page, 'POST', `/api/v1/portal/subscriptions/${subId}/add-ons`, { priceId: await portalPriceId(page, 'Teams App Licence', 'Per user', 'monthly'), quantity: 1 });
    expect(added.status(), await added.text()).toBe(201);
    await page.goto('/portal?tab=services');
    const table = page.getByRole('table', { name: 'Subscriptions' });
    const row = subscriptionRow(page);
    const byCard = row.getByRole('switch', { name: `Renewal by card ${LABEL}` });
    await byCard.scrollIntoViewIfNeeded();
    await expect(byCard).toBeInViewport();
    await expect(row.getByRole('button', { name: `Add an add-on to ${LABEL}` })).toBeInViewport();
    await expect(row.getByRole('button', { name: `Change the quantity of ${TEAMS} on ${LABEL}` })).toBeInViewport();
    await expect(table.getByRole('columnheader', { name: 'Auto-renew' })).toBeHidden();
    await expectFitsTheScreen(table);
    await page.screenshot({ path: `${SHOTS}/phone-portal-add-ons.png` });

    // Tapped as a thumb does, on the switch's track (its label wraps the visually hidden input, whose own spot the track covers here).
    await byCard.locator('xpath=..').click();
    await expect(byCard).toBeChecked();
    await expect.poll(async () => (await readSub(page, subId)).view.renewByCard).toBe(true);

    await row.getByRole('button', { name: `Add an add-on to ${LABEL}` }).click();
    const dialog = page.getByRole('dialog', { name: `Add an add-on to ${LABEL}` });
    await pick(page, dialog.getByRole('combobox', { name: 'Add-on' }), /^Virtual Line · Basic/);
    await expect(dialog.getByTestId('add-on-terms')).toBeVisible();
    const box = await dialog.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    await dialog.getByRole('button', { name: 'Add' }).scrollIntoViewIfNeeded();
    await expect(dialog.getByRole('button', { name: 'Add' })).toBeInViewport();
  });
});

test.describe('on a tablet in portrait (768 x 1024)', () => {
  test.use({ viewport: { width: 768, height: 1024 } });

  test('the subscriptions table, with renewal by card, add-ons and actions, fits', async ({ browser, page, request }) => {
    test.setTimeout(120_000);
    const staff = await signedInStaff(browser);
    const { subId } = await organisationWithNumber(page, staff, request, 'Tabletaddons', { saveCard: true });
    await staff.close();
    const added = await apiWrite(page, 'POST', `/api/v1/portal/subscriptions/${subId}/add-ons`, { priceId: await portalPriceId(page, 'Teams App Licence', 'Per user', 'monthly'), quantity: 2 });
    expect(added.status(), await added.text()).toBe(201);
    await page.goto('/portal?tab=services');
    const table = page.getByRole('table', { name: 'Subscriptions' });
    await expect(subscriptionRow(page).getByRole('switch', { name: `Renewal by card ${LABEL}` })).toBeVisible();
    await expect(subscriptionRow(page).getByRole('button', { name: `Add an add-on to ${LABEL}` })).toBeVisible();
    await expectFitsTheScreen(table, 768);
    await page.screenshot({ path: `${SHOTS}/tablet-portal-add-ons.png` });
  });
});
