import { expect, test } from '@playwright/test';
import { signIn } from './support/folio.ts';

test('Profile › Sign out of other devices ends the session on the other computer and keeps this one', async ({ browser }) => {
  const email = 'owner@wombat.test';
  const shared = await browser.newContext();
  const own = await browser.newContext();
  try {
    const sharedPage = await shared.newPage();
    await signIn(sharedPage, email, /\/portal$/, { twoFactor: false });
    const page = await own.newPage();
    await signIn(page, email, /\/portal$/, { twoFactor: false });

    await page.getByRole('button', { name: 'User menu for Will Wombat' }).click();
    await page.getByRole('menuitem', { name: 'Profile' }).click();
    await expect(page).toHaveURL(/\/portal\/profile$/);
    const devices = page.getByRole('region', { name: 'Other devices' });
    await devices.getByRole('button', { name: 'Sign out of other devices' }).click();
    await expect(devices.getByRole('status')).toHaveText('Signed out of 1 other device. You are still signed in here.');

    // The shared computer is sent to sign in on its next visit; this browser stays signed in.
    await sharedPage.goto('/portal');
    await expect(sharedPage).toHaveURL(/\/login/);
    await page.reload();
    await expect(page).toHaveURL(/\/portal\/profile$/);
    await expect(page.getByRole('heading', { name: 'Profile' })).toBeVisible();

    // Nothing else is signed in now: the second time says so.
    await devices.getByRole('button', { name: 'Sign out of other devices' }).click();
    await expect(devices.getByRole('status')).toHaveText('You were not signed in on any other device.');
  } finally {
    await shared.close();
    await own.close();
  }
});
