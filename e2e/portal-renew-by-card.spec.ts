import { expect, test, type Browser, type Page } from '@playwright/test';
import { SHOTS, csrf, signIn } from './support/folio.ts';
import { NUMBER_LABEL as LABEL, organisationWithNumber, readSub, watchWrites } from './support/subscriptions.ts';

/**
 * Owners and admins turn renewal by card on and off in the portal (Home > Services): at renewal, when points do not cover
 * the fee, the saved card tops up exactly the fee. It needs a saved card: without one the switch says where to save one
 * rather than letting the API refuse it, and a refusal all the same (a card removed meanwhile) is said the same way.
 * Each write names the version the row showed (If-Match). The phone layout and members' view are in
 * portal-subscription-add-ons.spec.ts. Each test makes its own organisation.
 */
function subscriptionRow(page: Page) {
  return page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
}

/** The note under the renewal-by-card switch the screen shows (the row's, or on a phone the one under the name). */
function needsCardNote(page: Page) {
  return subscriptionRow(page).getByTestId('renew-by-card-needs-card').filter({ visible: true });
}

async function signedInStaff(browser: Browser): Promise<Page> {
  const staff = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  return staff;
}

test('an owner with a saved card turns renewal by card on and off; a card removed meanwhile is said, with where to save one', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const staff = await signedInStaff(browser);
  const { subId } = await organisationWithNumber(page, staff, request, 'Bycard', { saveCard: true });
  await staff.close();
  const sent = watchWrites(page, subId);

  await page.goto('/portal?tab=services');
  const row = subscriptionRow(page);
  const byCard = row.getByRole('switch', { name: `Renewal by card ${LABEL}` });
  await expect(byCard).not.toBeChecked();
  await expect(byCard).toBeEnabled();
  await expect(needsCardNote(page)).toHaveCount(0);
  const first = await readSub(page, subId);

  // On: said, shown, and the API agrees; the request named the version the row showed.
  await byCard.click();
  await expect(page.getByText(`Renewal by card is on: when your points do not cover a renewal of ${LABEL}, your saved card tops up exactly the fee.`)).toBeVisible();
  await expect(byCard).toBeChecked();
  const on = await readSub(page, subId);
  expect(on.view).toMatchObject({ renewByCard: true, autoRenew: true });
  expect(sent[0]).toMatchObject({ method: 'PATCH', path: '', ifMatch: first.etag, body: { renewByCard: true } });

  // Off again.
  await byCard.click();
  await expect(page.getByText(`Renewal by card is off: renewals of ${LABEL} are paid from your points only.`)).toBeVisible();
  await expect(byCard).not.toBeChecked();
  const off = await readSub(page, subId);
  expect(off.view.renewByCard).toBe(false);
  expect(sent[1]).toMatchObject({ method: 'PATCH', ifMatch: on.etag, body: { renewByCard: false } });

  // The card is removed behind the page's back (another tab). Turning it on is refused (422 saved_card_required): the
  // section says a card is needed and where to save one, and the switch then says so itself.
  const cards = (await (await page.request.get('/api/v1/portal/saved-cards')).json()) as { data: { id: string }[] };
  expect(cards.data).toHaveLength(1);
  const removed = await page.request.delete(`/api/v1/portal/saved-cards/${cards.data[0]!.id}`, { headers: await csrf(page) });
  expect(removed.status(), await removed.text()).toBe(200);
  await byCard.click();
  const needed = page.getByTestId('subscription-card-needed');
  await expect(needed).toContainText(`Renewal by card of ${LABEL} needs a saved card`);
  await expect(needed).toContainText('It needs a saved card that has not expired.');
  await expect(needed).toHaveAttribute('role', 'alert');
  await expect(byCard).not.toBeChecked();
  await expect(byCard).toBeDisabled();
  await expect(needsCardNote(page)).toContainText('Needs a saved card.');
  expect((await readSub(page, subId)).view.renewByCard).toBe(false);
  await page.screenshot({ path: `${SHOTS}/portal-renew-by-card-needs-card.png`, fullPage: true });

  // The link goes where a card is saved: a top-up with "Save this card".
  await needed.getByRole('link', { name: 'Save one in Points' }).click();
  await expect(page).toHaveURL(/tab=points/);
  await expect(page.getByRole('checkbox', { name: /Save this card/ })).toBeVisible();
});

test('an owner without a saved card is not offered renewal by card on, and is shown where to save one', async ({ browser, page, request }) => {
  test.setTimeout(120_000);
  const staff = await signedInStaff(browser);
  const { subId } = await organisationWithNumber(page, staff, request, 'Nocard');
  await staff.close();
  await page.goto('/portal?tab=services');
  const byCard = subscriptionRow(page).getByRole('switch', { name: `Renewal by card ${LABEL}` });
  await expect(byCard).toBeDisabled();
  await expect(byCard).not.toBeChecked();
  await expect(needsCardNote(page)).toContainText('Needs a saved card.');
  await expect(byCard).toHaveAccessibleDescription(/Needs a saved card/);
  // The API agrees: turning it on without a saved card is refused (422 saved_card_required), nothing changed.
  const refused = await page.request.patch(`/api/v1/portal/subscriptions/${subId}`, { headers: await csrf(page), data: { renewByCard: true } });
  expect(refused.status()).toBe(422);
  expect(((await refused.json()) as { code: string }).code).toBe('saved_card_required');
  await needsCardNote(page).getByRole('link', { name: 'Save one in Points' }).click();
  await expect(page).toHaveURL(/tab=points/);
  await expect(page.getByRole('checkbox', { name: /Save this card/ })).toBeVisible();
});
