import { expect, test } from '@playwright/test';
import { SHOTS, mailbox, sidebar, signIn, signOut, waitForNewMail, pick } from './support/folio.ts';

/**
 * Issue 8 §2 and §3, as the people involved see them. The server runs on the real clock (no clock override in e2e), so
 * "on its date" is a version dated today, which takes effect at once, and the change announced is one dated later; the
 * API tests (src/topup/top-up-policy-change.test.ts) move the server's clock through a version's date.
 * Globex (Demo Telecom, MYR) is used so the SGD policy other journeys rely on stays as it is.
 */
test.describe.configure({ mode: 'serial' });

const SALES = `deals-${Date.now().toString(36)}@demo-telecom.test`;
const dayAfter = (days: number) => {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
};
const today = dayAfter(0);
const later = dayAfter(10);
const shown = (iso: string) => new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' }).format(new Date(iso));

test('staff set the contact-sales address and test it, and add top-up policy versions: one from today, one announced', async ({ page }) => {
  await signIn(page, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  await sidebar(page).getByRole('link', { name: 'Portal Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Portal Settings' })).toBeVisible();

  await test.step('the contact-sales address and reply-to name, validated, then saved and tested', async () => {
    await page.getByLabel('Contact-sales email').fill('not an email');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByLabel('Contact-sales email')).toHaveAttribute('aria-invalid', 'true');
    await page.getByLabel('Contact-sales email').fill(SALES);
    await page.getByLabel('Reply-to name').fill('Demo Telecom Sales');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect(page.getByText('Portal settings are updated.')).toBeVisible();
    const seen = new Set((await mailbox(page.request, SALES)).map((m) => m.id));
    await page.getByRole('button', { name: 'Send test email' }).click();
    await expect(page.getByRole('status').filter({ hasText: `A test email to ${SALES} is on its way` })).toBeVisible();
    const test = await waitForNewMail(page.request, SALES, 'contact_sales_test', seen);
    expect(test.subject).toContain('contact-sales address works');
  });

  await test.step('a version in the past is refused, naming the date; nothing is added', async () => {
    const form = page.getByRole('form', { name: 'Add a top-up policy version' });
    await pick(page, form.getByRole('combobox', { name: 'Currency' }), 'MYR');
    await form.getByLabel('Takes effect on').fill(dayAfter(-1));
    await form.getByRole('textbox', { name: 'Minimum top-up' }).fill('50.00');
    await form.getByRole('button', { name: 'Add version' }).click();
    await expect(form.getByLabel('Takes effect on')).toHaveAttribute('aria-invalid', 'true');
    await expect(form).toContainText(`${today} or later`);
  });

  await test.step('a minimum of MYR 50.00 from today, and MYR 80.00 with a fee announced for later', async () => {
    const form = page.getByRole('form', { name: 'Add a top-up policy version' });
    await form.getByLabel('Takes effect on').fill(today);
    await form.getByRole('button', { name: 'Add version' }).click();
    const versions = page.getByRole('table', { name: 'Top-up policy versions' });
    await expect(versions.getByRole('row').filter({ hasText: 'MYR' }).filter({ hasText: 'Minimum MYR 50.00' })).toContainText('In force');

    await expect(form.getByRole('combobox', { name: 'Currency' })).toHaveValue('MYR');
    await form.getByLabel('Takes effect on').fill(later);
    await form.getByRole('textbox', { name: 'Minimum top-up' }).fill('80.00');
    await form.getByRole('textbox', { name: 'Fee threshold' }).fill('200.00');
    await form.getByRole('textbox', { name: 'Admin fee' }).fill('4.00');
    await form.getByRole('button', { name: 'Add version' }).click();
    const upcoming = versions.getByRole('row').filter({ hasText: 'Minimum MYR 80.00' });
    await expect(upcoming).toContainText('Upcoming');
    await expect(upcoming).toContainText('fee MYR 4.00 below MYR 200.00');
    await expect(upcoming.getByRole('button', { name: `Withdraw the MYR version of ${later}` })).toBeVisible();
    await page.screenshot({ path: `${SHOTS}/admin-top-up-policy.png`, fullPage: true });
  });
  await signOut(page, 'Adam Admin');
});

test('the customer sees the minimum in force today and the announced change, and writes to sales', async ({ page }) => {
  await signIn(page, 'owner@globex.test', /\/portal$/, { twoFactor: false });

  await test.step('the policy in force, and the upcoming one with its date', async () => {
    await page.getByRole('tab', { name: 'Points' }).click();
    await expect(page.getByTestId('top-up-policy')).toContainText('Minimum top-up MYR 50.00.');
    await expect(page.getByTestId('top-up-policy')).toContainText('No admin fee.');
    const upcoming = page.getByTestId('top-up-policy-upcoming');
    await expect(upcoming).toContainText(`Changing on ${shown(later)}:`);
    await expect(upcoming).toContainText('Minimum top-up MYR 80.00. Below MYR 200.00 an admin fee of MYR 4.00 is added.');
    // The minimum in force applies to the form now.
    const form = page.getByRole('form', { name: 'Top up' });
    await form.getByRole('textbox', { name: 'Amount' }).fill('20.00');
    await expect(page.getByTestId('top-up-preview')).toContainText('The minimum top-up is MYR 50.00');
    await page.screenshot({ path: `${SHOTS}/portal-top-up-policy.png`, fullPage: true });
  });

  await test.step('Contact sales: the message reaches the configured address, from the customer', async () => {
    const seen = new Set((await mailbox(page.request, SALES)).map((m) => m.id));
    await page.getByRole('button', { name: 'Contact sales' }).click();
    const dialog = page.getByRole('dialog', { name: 'Contact sales' });
    await expect(dialog.getByTestId('contact-sales-to')).toContainText(`Demo Telecom Sales <${SALES}>`);
    await expect(dialog.getByRole('button', { name: 'Send message' })).toBeDisabled();
    await dialog.getByRole('textbox', { name: 'Subject' }).fill('Volume pricing');
    await dialog.getByRole('textbox', { name: 'Message' }).fill('Hello, we plan to add 40 virtual lines. Is there volume pricing?');
    await dialog.getByRole('button', { name: 'Send message' }).click();
    await expect(dialog.getByRole('status')).toContainText(`Your message is on its way to ${SALES}`);
    const mail = await waitForNewMail(page.request, SALES, 'contact_sales_message', seen);
    expect(mail.subject).toBe('[Contact sales] Globex Sdn Bhd: Volume pricing');
    expect(mail.bodyText).toContain('From: Gina Globex <owner@globex.test> (owner) at Globex Sdn Bhd');
    expect(mail.bodyText).toContain('Is there volume pricing?');
    await dialog.getByRole('button', { name: 'Close', exact: true }).click(); // the form's own Close, not the × ("Close dialog")

    // As a person would find it in the dev mailbox: to the sales address, Reply-To the customer.
    await page.goto(`/mailbox?to=${encodeURIComponent(SALES)}`);
    const card = page.getByRole('article').filter({ hasText: 'Volume pricing' });
    await expect(card).toContainText(`To ${SALES}`);
    await expect(card).toContainText('Reply-To Gina Globex <owner@globex.test>');
    await page.screenshot({ path: `${SHOTS}/mailbox-contact-sales.png`, fullPage: true });
  });
});

test('due days out of range are said next to the field and never saved, neither clamped nor with the minus dropped', async ({ page }) => {
  await signIn(page, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  const before = (await (await page.request.get('/api/v1/settings/invoicing')).json()) as { dueDays: number };
  await sidebar(page).getByRole('link', { name: 'Portal Settings' }).click();
  const form = page.getByRole('form', { name: 'Invoicing settings' });
  const dueDays = form.getByRole('textbox', { name: 'Due days' });
  const save = form.getByRole('button', { name: 'Save invoicing settings' });
  await expect(dueDays).toHaveValue(String(before.dueDays));
  for (const typed of ['100000', '-1']) {
    await dueDays.fill(typed);
    await dueDays.blur();
    await expect(dueDays, 'what was typed stays as typed').toHaveValue(typed);
    await expect(dueDays).toHaveAttribute('aria-invalid', 'true');
    await expect(form.getByText('0 to 365 days', { exact: true })).toBeVisible();
    await expect(save).toBeDisabled();
    // Enter in the field does not save it either.
    await dueDays.press('Enter');
    await expect(page.getByText('Invoicing settings saved')).toHaveCount(0);
  }
  // Typed over "-1", key by key, as a person does.
  await dueDays.selectText();
  await page.keyboard.type('100000');
  await dueDays.blur();
  await expect(dueDays).toHaveValue('100000');
  await expect(form.getByText('0 to 365 days', { exact: true })).toBeVisible();
  await dueDays.fill('');
  await expect(form.getByText('Enter the number of days, 0 to 365')).toBeVisible();
  await expect(save).toBeDisabled();
  await page.screenshot({ path: `${SHOTS}/admin-settings-due-days-invalid.png`, fullPage: true });
  await form.getByRole('button', { name: 'Discard changes' }).click();
  await expect(dueDays).toHaveValue(String(before.dueDays));
  const after = (await (await page.request.get('/api/v1/settings/invoicing')).json()) as { dueDays: number };
  expect(after.dueDays).toBe(before.dueDays);
});
