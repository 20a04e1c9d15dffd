import { expect, test } from '@playwright/test';
import { signIn } from './support/folio.ts';

test('Profile › Password: the current one is asked for, a wrong one is named, the new one signs in and other devices are signed out', async ({ browser }) => {
  const email = 'owner@initech.test';
  const other = await browser.newContext();
  const own = await browser.newContext();
  try {
    const otherPage = await other.newPage();
    await signIn(otherPage, email, /\/portal$/, { twoFactor: false });
    const page = await own.newPage();
    await signIn(page, email, /\/portal$/, { twoFactor: false });
    await page.goto('/portal/profile');
    const section = page.getByRole('region', { name: 'Password' });
    const change = section.getByRole('button', { name: 'Change password' });
    await expect(change).toBeDisabled();

    await section.getByLabel('Current password').fill('not-my-password');
    await section.getByLabel(/^New password( \*)?$/).fill('short');
    await expect(section.getByText('at least 10 characters', { exact: true })).toBeVisible();
    await section.getByLabel(/^New password( \*)?$/).fill('initech-new-2026');
    await section.getByLabel('New password again').fill('initech-new-2025');
    await expect(section.getByText('not the same as the new password')).toBeVisible();
    await expect(change).toBeDisabled();
    await section.getByLabel('New password again').fill('initech-new-2026');
    await change.click();
    await expect(section.getByText('not your current password')).toBeVisible();

    await section.getByLabel('Current password').fill('folio-demo-2026');
    await change.click();
    await expect(section.getByRole('status')).toHaveText('Your password is changed, and 1 other device was signed out.');
    await expect(section.getByLabel('Current password')).toHaveValue('');

    // The other computer is sent to sign in; this one stays; the new password is the one that works.
    await otherPage.goto('/portal');
    await expect(otherPage).toHaveURL(/\/login/);
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Profile' })).toBeVisible();
    const fresh = await browser.newContext();
    try {
      const freshPage = await fresh.newPage();
      await signIn(freshPage, email, /\/portal$/, { twoFactor: false, password: 'initech-new-2026' });
    } finally {
      await fresh.close();
    }

    // Back to the demo password, for the other journeys that sign in as this owner.
    await section.getByLabel('Current password').fill('initech-new-2026');
    await section.getByLabel(/^New password( \*)?$/).fill('folio-demo-2026');
    await section.getByLabel('New password again').fill('folio-demo-2026');
    await change.click();
    await expect(section.getByRole('status')).toHaveText(/^Your password is changed/);
  } finally {
    await other.close();
    await own.close();
  }
});
