import { expect, test, type Page } from '@playwright/test';
import { csrf, pick, SHOTS, signIn } from './support/folio.ts';
import { micros, NUMBER_LABEL as LABEL } from './support/subscriptions.ts';

/**
 * Staff manage a customer's add-ons in the Customer app (Customer > Subscriptions): the server's quote is shown before,
 * in words about the customer ("charged now from the customer's points"), and is what the customer's points then lose;
 * a quantity goes up now (charged) or down at the renewal (shown pending); points that fall short are said before
 * anything is tried, Add waits, and staff are told who can add points. A suspended customer can only lower a quantity.
 * Every write names the version the row showed (If-Match: one changed meanwhile is refused, said and reloaded) and carries
 * an Idempotency-Key. The customer is made here
 * (points issued by Finance, a number sold from them) so the seeded ones stay as they are.
 */
const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
const TEAMS = 'Teams App Licence · Per user';

interface Product { name: string; variants: { name: string; prices: { id: string; cycle: string; currency: string }[] }[] }
interface Subscription {
  id: string;
  addOns: { id: string; quantity: number; pendingQuantity: number | null; renewalPrice: string }[];
  history: { kind: string; amount: string | null; invoiceNumber: string | null }[];
}

/** A new customer with `points` issued and a monthly Singapore number sold from them; its id and the subscription's. */
async function customerWithNumber(page: Page, name: string, points: string): Promise<{ id: string; subId: string; priceOf: (product: string, variant: string) => string }> {
  const headers = await csrf(page);
  const created = await page.request.post('/api/v1/customers', {
    headers, data: { name: `${name} ${suffix}`, currency: 'SGD', ownerEmail: `owner-${suffix}@${name.toLowerCase()}.test`, ownerName: `${name} Owner` },
  });
  expect(created.status(), await created.text()).toBe(201);
  const id = ((await created.json()) as { id: string }).id;
  const issued = await page.request.post(`/api/v1/customers/${id}/points/issue`, { headers, data: { amount: points, reason: `Opening balance ${suffix}` } });
  expect(issued.status(), await issued.text()).toBe(200);
  const catalog = (await (await page.request.get(`/api/v1/customers/${id}/sellable-products`)).json()) as { data: Product[] };
  const priceOf = (product: string, variant: string) => {
    const price = catalog.data.find((p) => p.name === product)?.variants.find((v) => v.name === variant)?.prices.find((p) => p.cycle === 'monthly' && p.currency === 'SGD');
    expect(price, `${product} › ${variant} monthly in SGD`).toBeTruthy();
    return price!.id;
  };
  const sold = await page.request.post(`/api/v1/customers/${id}/subscriptions`, { headers, data: { priceId: priceOf('Phone Number', 'Singapore local') } });
  expect(sold.status(), await sold.text()).toBe(201);
  return { id, subId: ((await sold.json()) as { subscription: { id: string } }).subscription.id, priceOf };
}

async function readSub(page: Page, subId: string): Promise<{ etag: string; view: Subscription }> {
  const res = await page.request.get(`/api/v1/subscriptions/${subId}`);
  expect(res.status(), await res.text()).toBe(200);
  return { etag: res.headers().etag!, view: (await res.json()) as Subscription };
}

/** The customer's points (balance), in micros, as the API gives them. */
async function pointsOf(page: Page, id: string): Promise<bigint> {
  const res = await page.request.get(`/api/v1/customers/${id}`);
  expect(res.status(), await res.text()).toBe(200);
  return micros(((await res.json()) as { points: string }).points);
}

/** The page's own add-on writes to one subscription, with their headers, in order. */
function watchWrites(page: Page, subId: string) {
  const sent: { path: string; method: string; ifMatch: string | undefined; idempotencyKey: string | undefined; body: unknown }[] = [];
  const base = `/api/v1/subscriptions/${subId}`;
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (r.method() !== 'GET' && path.startsWith(`${base}/add-ons`)) {
      sent.push({ path: path.slice(base.length), method: r.method(), ifMatch: r.headers()['if-match'], idempotencyKey: r.headers()['idempotency-key'], body: r.postDataJSON() as unknown });
    }
  });
  return sent;
}

/** The total the dialog's quote names ("SGD 17.44 is charged now…"). */
const quotedTotal = async (dialog: ReturnType<Page['getByRole']>) => /^SGD (\d+\.\d{2})/.exec((await dialog.getByTestId('add-on-quote').textContent()) ?? '')![1]!;

test('staff add an add-on for the amount quoted, raise and lower its quantity, and see when the customer\'s points fall short', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  // 60.00: the number, two licences and a third leave too little for a wallboard's activation fee alone.
  const { id, subId, priceOf } = await customerWithNumber(page, 'Addonstaff', '60.00');
  const sent = watchWrites(page, subId);
  await page.goto(`/admin/customer/${id}?tab=subscriptions`);
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });

  // Add two licences: the quote first, about the customer's points.
  const before = await readSub(page, subId);
  const pointsBefore = await pointsOf(page, id);
  await row.getByRole('button', { name: `Add an add-on to ${LABEL}` }).click();
  const dialog = page.getByRole('dialog', { name: `Add an add-on to ${LABEL}` });
  await pick(page, dialog.getByRole('combobox', { name: 'Add-on' }), `${TEAMS} · SGD 8.00 / month`);
  await dialog.getByRole('textbox', { name: 'Quantity' }).fill('2');
  await expect(dialog.getByTestId('add-on-terms')).toContainText('Charged now from the customer\'s points: SGD 8.00 per unit per month, pro rata to');
  await expect(dialog.getByTestId('add-on-terms')).toContainText('less any discount the customer has');
  await expect(dialog.getByTestId('add-on-quote')).toContainText(/^SGD \d+\.\d{2} is charged now from the customer's points: SGD \d+\.\d{2} for \d+ of \d+ days, to .*, tax SGD \d+\.\d{2}\.$/);
  const quoted = await quotedTotal(dialog);
  await page.screenshot({ path: `${SHOTS}/admin-customer-add-on-dialog.png`, fullPage: true });
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(dialog).toBeHidden();

  const added = await readSub(page, subId);
  expect(added.view.addOns).toEqual([expect.objectContaining({ quantity: 2, pendingQuantity: null, renewalPrice: '16.00' })]);
  const charge = added.view.history.find((h) => h.kind === 'add_on_added')!;
  expect(charge.amount).toBe(quoted); // what was quoted is what was taken
  expect(await pointsOf(page, id)).toBe(pointsBefore - micros(quoted));
  await expect(page.getByText(`${TEAMS} × 2 was added to ${LABEL}`)).toBeVisible();
  await expect(page.getByText(`SGD ${charge.amount} was charged from the customer's points (tax included), on Purchase invoice ${charge.invoiceNumber}.`)).toBeVisible();
  const addOns = row.getByRole('list', { name: `Add-ons of ${LABEL}` });
  await expect(addOns).toContainText(`+ ${TEAMS} × 2`);
  await expect(addOns).toContainText('SGD 16.00 / month');
  expect(sent[0]).toMatchObject({ method: 'POST', path: '/add-ons', ifMatch: before.etag, body: { priceId: priceOf('Teams App Licence', 'Per user'), quantity: 2 } });
  expect(sent[0]!.idempotencyKey).toMatch(/^add-on-[0-9a-f]{32}$/);
  // The points and their transactions were read again: the charge shows there.
  await page.getByRole('tab', { name: 'Transactions' }).click();
  await expect(page.getByRole('main')).toContainText(`-${charge.amount}`);
  await page.getByRole('tab', { name: 'Subscriptions' }).click();

  // Up to 3: one more unit charged now, for what was quoted.
  const addOnId = added.view.addOns[0]!.id;
  const pointsAfterAdd = await pointsOf(page, id);
  await row.getByRole('button', { name: `Change the quantity of ${TEAMS} on ${LABEL}` }).click();
  const change = page.getByRole('dialog', { name: `Change ${TEAMS} on ${LABEL}` });
  await expect(change).toContainText('The customer has 2.');
  await change.getByRole('textbox', { name: 'Quantity' }).fill('3');
  await expect(change.getByTestId('add-on-change-terms')).toContainText('1 more unit is charged now from the customer\'s points, pro rata to');
  await expect(change.getByTestId('add-on-quote')).toContainText(/^SGD \d+\.\d{2} is charged now from the customer's points/);
  const raiseQuoted = await quotedTotal(change);
  await change.getByRole('button', { name: 'Save' }).click();
  await expect(change).toBeHidden();
  const raised = await readSub(page, subId);
  expect(raised.view.addOns[0]).toMatchObject({ quantity: 3, pendingQuantity: null });
  expect(raised.view.history.find((h) => h.kind === 'quantity_changed')!.amount).toBe(raiseQuoted);
  expect(await pointsOf(page, id)).toBe(pointsAfterAdd - micros(raiseQuoted));
  await expect(page.getByText(`It is now 3. SGD ${raiseQuoted} was charged from the customer's points`)).toBeVisible();
  expect(sent[1]).toMatchObject({ method: 'PATCH', path: `/add-ons/${addOnId}`, ifMatch: added.etag, body: { quantity: 3 } });
  expect(sent[1]!.idempotencyKey).toMatch(/^add-on-quantity-[0-9a-f]{32}$/);

  // Down to 1: at the next renewal, nothing charged, shown pending on the row.
  const pointsAfterRaise = await pointsOf(page, id);
  await row.getByRole('button', { name: `Change the quantity of ${TEAMS} on ${LABEL}` }).click();
  await change.getByRole('textbox', { name: 'Quantity' }).fill('1');
  await expect(change.getByTestId('add-on-change-terms')).toHaveText(/^It goes down to 1 at the next renewal, on .*\. Nothing is refunded: the 3 the customer has stay until then\.$/);
  await expect(change.getByTestId('add-on-quote')).toHaveCount(0);
  await change.getByRole('button', { name: 'Save' }).click();
  await expect(change).toBeHidden();
  expect((await readSub(page, subId)).view.addOns[0]).toMatchObject({ quantity: 3, pendingQuantity: 1, renewalPrice: '8.00' });
  expect(await pointsOf(page, id)).toBe(pointsAfterRaise);
  await expect(addOns).toContainText(`+ ${TEAMS} × 3, 1 from`);
  await expect(addOns).toContainText('SGD 8.00 / month');

  // A wallboard costs more than the points left: said before anything is tried, Add waits, and who can add points.
  await row.getByRole('button', { name: `Add an add-on to ${LABEL}` }).click();
  await pick(page, dialog.getByRole('combobox', { name: 'Add-on' }), /^Call-centre Wallboard · Standard/);
  await expect(dialog.getByTestId('add-on-quote')).toContainText('a one-time activation fee of SGD 50.00');
  await expect(dialog.getByTestId('add-on-shortfall')).toContainText(/The customer's usable points \(SGD [\d,]+\.\d{2}\) do not cover the SGD [\d,]+\.\d{2} it costs now\./);
  await expect(dialog.getByTestId('add-on-top-up')).toHaveText('Finance can issue points to the customer, or the customer can top up in the portal; then try again.');
  await expect(dialog.getByTestId('add-on-top-up').getByRole('link')).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: 'Add' })).toBeDisabled();
  await page.screenshot({ path: `${SHOTS}/admin-customer-add-on-short.png`, fullPage: true });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  expect(await pointsOf(page, id)).toBe(pointsAfterRaise);
  expect((await readSub(page, subId)).view.addOns).toHaveLength(1);
  expect(sent).toHaveLength(3);
});

test('a suspended customer gets no new add-on and no more units; a quantity can still be lowered', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  const { id, subId, priceOf } = await customerWithNumber(page, 'Addonpause', '100.00');
  const headers = await csrf(page);
  const added = await page.request.post(`/api/v1/subscriptions/${subId}/add-ons`, { headers, data: { priceId: priceOf('Teams App Licence', 'Per user'), quantity: 2 } });
  expect(added.status(), await added.text()).toBe(201);
  const suspended = await page.request.patch(`/api/v1/customers/${id}`, { headers, data: { status: 'suspended' } });
  expect(suspended.status(), await suspended.text()).toBe(200);

  await page.goto(`/admin/customer/${id}?tab=subscriptions`);
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
  await expect(row.getByRole('list', { name: `Add-ons of ${LABEL}` })).toContainText(`+ ${TEAMS} × 2`);
  await expect(row.getByRole('button', { name: 'Terminate' })).toBeVisible();
  await expect(row.getByRole('button', { name: `Add an add-on to ${LABEL}` })).toHaveCount(0);
  // The API agrees: nothing new is sold to it.
  const refused = await page.request.post(`/api/v1/subscriptions/${subId}/add-ons`, { headers, data: { priceId: priceOf('Call-centre Wallboard', 'Standard'), quantity: 1 } });
  expect(refused.status()).toBe(409);

  await row.getByRole('button', { name: `Change the quantity of ${TEAMS} on ${LABEL}` }).click();
  const change = page.getByRole('dialog', { name: `Change ${TEAMS} on ${LABEL}` });
  await expect(change).toContainText('The customer is not active: the quantity can only be lowered.');
  await change.getByRole('textbox', { name: 'Quantity' }).fill('3');
  await expect(change.getByText('At most 2')).toBeVisible();
  await expect(change.getByRole('button', { name: 'Save' })).toBeDisabled();
  await change.getByRole('textbox', { name: 'Quantity' }).fill('0');
  await expect(change.getByTestId('add-on-change-terms')).toContainText('It is removed at the next renewal');
  await change.getByRole('button', { name: 'Save' }).click();
  await expect(change).toBeHidden();
  expect((await readSub(page, subId)).view.addOns[0]).toMatchObject({ quantity: 2, pendingQuantity: 0 });
  await expect(row.getByRole('list', { name: `Add-ons of ${LABEL}` })).toContainText(`+ ${TEAMS} × 2, removed on`);
});

test('an add-on on a subscription someone else just changed is refused and reloaded, nothing charged; the next try goes through', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
  const { id, subId } = await customerWithNumber(page, 'Addonbehind', '100.00');
  const sent = watchWrites(page, subId);
  await page.goto(`/admin/customer/${id}?tab=subscriptions`);
  const row = page.getByRole('table', { name: 'Subscriptions' }).getByRole('row').filter({ hasText: 'Phone Number' });
  await expect(row).not.toContainText('auto-renew off');
  const shown = await readSub(page, subId);

  // Someone else turns auto-renew off through the API; the page still shows the version before.
  const behind = await page.request.patch(`/api/v1/subscriptions/${subId}`, { headers: await csrf(page), data: { autoRenew: false } });
  expect(behind.status(), await behind.text()).toBe(200);
  const changed = await readSub(page, subId);
  const pointsBefore = await pointsOf(page, id);
  await row.getByRole('button', { name: `Add an add-on to ${LABEL}` }).click();
  const dialog = page.getByRole('dialog', { name: `Add an add-on to ${LABEL}` });
  await pick(page, dialog.getByRole('combobox', { name: 'Add-on' }), `${TEAMS} · SGD 8.00 / month`);
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(dialog).toBeHidden();
  const stale = page.getByTestId('subscription-stale');
  await expect(stale).toContainText(`${LABEL} was changed`);
  await expect(stale).toContainText('This subscription was changed by someone else; it has been reloaded. Check it and try again.');
  await expect(row).toContainText('auto-renew off'); // reloaded
  expect(sent).toEqual([expect.objectContaining({ method: 'POST', path: '/add-ons', ifMatch: shown.etag })]);
  expect((await readSub(page, subId)).view.addOns).toEqual([]);
  expect(await pointsOf(page, id)).toBe(pointsBefore);

  // Again, from what the row now shows: it goes through, with a new key, and the notice goes.
  await row.getByRole('button', { name: `Add an add-on to ${LABEL}` }).click();
  await pick(page, dialog.getByRole('combobox', { name: 'Add-on' }), `${TEAMS} · SGD 8.00 / month`);
  await dialog.getByRole('button', { name: 'Add' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(`${TEAMS} × 1 was added to ${LABEL}`)).toBeVisible();
  await expect(stale).toHaveCount(0);
  expect((await readSub(page, subId)).view.addOns).toHaveLength(1);
  expect(sent[1]).toMatchObject({ method: 'POST', path: '/add-ons', ifMatch: changed.etag });
  expect(sent[1]!.idempotencyKey).not.toBe(sent[0]!.idempotencyKey);
});
