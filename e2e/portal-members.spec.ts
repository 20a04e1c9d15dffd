import { expect, test } from '@playwright/test';
import { customerWithOwner, SHOTS, signIn } from './support/folio.ts';

test('a member sees Members but cannot invite', async ({ page }) => {
  await signIn(page, 'member@acme.test', /\/portal$/, { twoFactor: false });
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Members' }).click();
  const members = page.getByRole('table', { name: 'Members' });
  await expect(members.getByRole('row').filter({ hasText: 'owner@acme.test' })).toContainText('Owner');
  await expect(page.getByRole('button', { name: 'Invite member' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Remove / })).toHaveCount(0);
});

test('the owner invites someone, the invitation arrives in the mailbox, and they join', async ({ page, browser }) => {
  const email = `new-${Date.now().toString(36)}@acme.test`;
  await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Members' }).click();
  await expect(page.getByRole('heading', { name: 'Members' })).toBeVisible();
  const members = page.getByRole('table', { name: 'Members' });
  await expect(members.getByRole('row').filter({ hasText: 'member@acme.test' })).toBeVisible();

  await page.getByRole('button', { name: 'Invite member' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite member' });
  await dialog.getByLabel('Name').fill('Nina Newcomer');
  await dialog.getByLabel('Email').fill(email);
  await dialog.getByRole('button', { name: 'Send invitation' }).click();
  await expect(dialog).toBeHidden();
  await expect(members.getByRole('row').filter({ hasText: email })).toContainText('Invited');
  await page.screenshot({ path: `${SHOTS}/portal-owner-members.png`, fullPage: true });

  // The invitation email, as a person would find it: in the dev mailbox page.
  const visitor = await browser.newContext();
  const guest = await visitor.newPage();
  await guest.goto(`/mailbox?to=${encodeURIComponent(email)}`);
  await expect(guest.getByRole('heading', { name: 'Dev mailbox' })).toBeVisible();
  const invitation = guest.getByRole('article').filter({ hasText: 'Invitation' });
  await expect(invitation).toHaveCount(1);
  await expect(invitation).toContainText(`To ${email}`);
  await guest.screenshot({ path: `${SHOTS}/mailbox-invitation.png`, fullPage: true });
  await invitation.getByRole('link', { name: /accept-invitation/ }).click();

  await expect(guest).toHaveURL(/\/accept-invitation\?token=/);
  await expect(guest.getByRole('heading', { name: 'Join Acme Pte Ltd' })).toBeVisible();
  await expect(guest.getByLabel('Your name')).toHaveValue('Nina Newcomer');
  // A password the server finds too short is named under the field; fixing it clears the complaint before the next try.
  await guest.getByLabel('Choose a password').fill('short');
  await guest.getByLabel('Repeat password').fill('short');
  await guest.getByRole('button', { name: 'Create my account' }).click();
  const tooShort = guest.getByText('at least 10 characters', { exact: true });
  await expect(tooShort).toBeVisible();
  await guest.getByLabel('Choose a password').fill('a-long-new-password');
  await expect(tooShort).toHaveCount(0);
  await expect(guest.getByRole('alert')).toHaveCount(0);
  await guest.getByLabel('Repeat password').fill('a-long-new-password');
  await guest.getByRole('button', { name: 'Create my account' }).click();
  await expect(guest.getByText('Your account is ready.')).toBeVisible();
  await guest.getByRole('link', { name: 'Sign in' }).first().click();
  await expect(guest.getByRole('textbox', { name: 'Email', exact: true })).toHaveValue(email);
  await guest.getByRole('textbox', { name: 'Password', exact: true }).fill('a-long-new-password');
  await guest.getByRole('button', { name: 'Sign in' }).click();
  await expect(guest).toHaveURL(/\/portal$/);
  await expect(guest.getByRole('button', { name: 'User menu for Nina Newcomer' })).toBeVisible();
  await visitor.close();

  await page.reload();
  await expect(members.getByRole('row').filter({ hasText: email })).toContainText('Active');
});

test('an address with an account elsewhere is invited as any other; only its link says why it cannot join', async ({ page, browser, request }) => {
  // An account at another organisation: the owner of a customer that Demo Telecom's staff create for this test.
  const staffContext = await browser.newContext();
  const staff = await staffContext.newPage();
  await signIn(staff, 'admin@demo.test', /\/admin$/, { twoFactor: true });
  const email = `elsewhere-${Date.now().toString(36)}@other.test`;
  await customerWithOwner(staff, request, { name: `Elsewhere ${Date.now().toString(36)} Ltd`, ownerEmail: email, ownerName: 'Elsa Elsewhere' });
  await staffContext.close();

  // Acme's owner cannot tell: the invitation is sent and listed as any new address's.
  await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
  await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Members' }).click();
  await page.getByRole('button', { name: 'Invite member' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite member' });
  await dialog.getByLabel('Name').fill('Elsa Elsewhere');
  await dialog.getByLabel('Email').fill(email);
  await dialog.getByRole('button', { name: 'Send invitation' }).click();
  await expect(dialog).toBeHidden();
  const members = page.getByRole('table', { name: 'Members' });
  await expect(members.getByRole('row').filter({ hasText: email })).toContainText('Invited');

  // The person holding the link is told, and offered their own sign-in instead of a password form.
  const visitor = await browser.newContext();
  const guest = await visitor.newPage();
  await guest.goto(`/mailbox?to=${encodeURIComponent(email)}`);
  const invitation = guest.getByRole('article').filter({ hasText: 'Acme Pte Ltd' });
  await expect(invitation).toHaveCount(1);
  await invitation.getByRole('link', { name: /accept-invitation/ }).click();
  await expect(guest.getByRole('heading', { name: 'Join Acme Pte Ltd' })).toBeVisible();
  const alert = guest.getByRole('alert');
  await expect(alert).toContainText('This address already has a Folio account');
  await expect(alert).toContainText(email);
  await expect(guest.getByLabel('Choose a password')).toHaveCount(0);
  await guest.screenshot({ path: `${SHOTS}/accept-invitation-address-has-account.png`, fullPage: true });
  await guest.getByRole('link', { name: 'Sign in to your account instead' }).click();
  await expect(guest.getByRole('textbox', { name: 'Email', exact: true })).toHaveValue(email);
  await visitor.close();
});
