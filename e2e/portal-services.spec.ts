import { expect, test } from '@playwright/test';
import { SHOTS, signIn, pick } from './support/folio.ts';

test('a portal owner edits a virtual line (destination and business hours) and sees it in the Audit section', async ({ page }) => {
  await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
  // Home: points, subscriptions and recent activity at a glance.
  await expect(page.getByRole('region', { name: 'Points summary' }).getByTestId('home-usable')).toContainText('SGD');
  await expect(page.getByRole('region', { name: 'Subscriptions summary' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Recent activity' })).toBeVisible();

  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Services' }).click();
  await expect(page.getByRole('heading', { name: 'Services' })).toBeVisible();
  const lines = page.getByRole('table', { name: 'Virtual lines' });
  const support = lines.getByRole('row').filter({ hasText: 'Support line' });
  await expect(support).toContainText('+6531234568');
  await expect(support).toContainText('Olive Owner (owner@acme.test)');
  await expect(support).toContainText('Always open');

  await page.getByRole('button', { name: 'Edit Support line' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit Support line' });
  await pick(page, dialog.getByRole('combobox', { name: 'Person' }), 'Max Member (member@acme.test)');
  await dialog.getByRole('switch', { name: 'Always open' }).click();
  await dialog.getByRole('combobox', { name: 'Timezone' }).fill('Singapore');
  await page.getByRole('option', { name: 'Asia/Singapore' }).click();

  // Closing before opening: the server refuses it and the form says so next to the field; nothing is saved.
  await dialog.getByLabel('Monday closes').fill('08:00');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(dialog.getByText('closing time must be after the opening time (09:00)')).toBeVisible();

  await dialog.getByLabel('Monday closes').fill('17:00');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(dialog).toBeHidden();
  await expect(support).toContainText('Max Member (member@acme.test)');
  await expect(support).toContainText('Mon 09:00–17:00, Tue–Fri 09:00–18:00 (Asia/Singapore); outside hours: voicemail');
  await page.screenshot({ path: `${SHOTS}/portal-services-owner.png`, fullPage: true });

  // The portal's Audit section shows the change, before and after.
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Home' }).click();
  // (Recent activity shows the latest five events; other journeys act on Acme at the same time, so look in the Audit tab.)
  await expect(page.getByRole('region', { name: 'Recent activity' })).toBeVisible();
  await page.getByRole('tab', { name: 'Audit' }).click();
  const activity = page.getByRole('table', { name: 'Activity' });
  const event = activity.getByRole('row').filter({ hasText: 'Virtual line changed' }).first();
  await expect(event).toContainText('Olive Owner');
  await expect(event).toContainText('Olive Owner (owner@acme.test) → Max Member (member@acme.test)');
  await event.getByRole('button', { name: /^Details of Virtual line changed/ }).click();
  await expect(activity).toContainText('Mon 09:00–17:00, Tue–Fri 09:00–18:00 (Asia/Singapore); outside hours: voicemail');
  await page.screenshot({ path: `${SHOTS}/portal-services-audit.png`, fullPage: true });
});

test('a member sees the lines and wallboards read only, with a note why', async ({ page }) => {
  await signIn(page, 'member@acme.test', /\/portal$/, { twoFactor: false });
  await expect(page.getByRole('region', { name: 'Points summary' })).toContainText('Your organisation’s points are visible to its owners and admins.');
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Services' }).click();
  await expect(page.getByTestId('services-read-only')).toContainText('Only owners and admins can add, change or remove them; your role is Member.');
  const lines = page.getByRole('table', { name: 'Virtual lines' });
  await expect(lines.getByRole('row').filter({ hasText: 'Main line' })).toContainText('Group Sales: Olive Owner, Max Member');
  await expect(lines.getByRole('row').filter({ hasText: 'Support line' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add virtual line' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Edit / })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Remove / })).toHaveCount(0);

  await page.getByRole('tab', { name: 'Wallboards' }).click();
  const boards = page.getByRole('table', { name: 'Wallboards' });
  await expect(boards.getByRole('row').filter({ hasText: 'Front desk' })).toContainText('Calls waiting, Longest wait, Agents available, Answered today');
  await expect(page.getByRole('button', { name: 'Add wallboard' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Edit / })).toHaveCount(0);
  await page.screenshot({ path: `${SHOTS}/portal-services-member.png`, fullPage: true });
});
