import { expect, test } from '@playwright/test';
import { SHOTS, sidebar, signIn, signOut } from './support/folio.ts';

test.describe('every demo user signs in through the UI', () => {
  test('the operator signs in with an emailed code and lands in the operator console', async ({ page }) => {
    await signIn(page, 'operator@folio.test', /\/operator$/, { twoFactor: true });
    await expect(page.getByRole('heading', { name: 'Partners' })).toBeVisible();
    const partners = page.getByRole('table', { name: 'Partners' });
    await expect(partners.getByRole('row').filter({ hasText: 'Demo Telecom' })).toBeVisible();
    await expect(partners.getByRole('row').filter({ hasText: 'Northwind Comms' })).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: /Access requests/ })).toBeVisible();
    await page.screenshot({ path: `${SHOTS}/operator-partners.png`, fullPage: true });
    await signOut(page, 'Olivia Operator');
  });

  test('admin@demo.test signs in with a code and sees the apps they hold', async ({ page }) => {
    await signIn(page, 'admin@demo.test', /\/admin$/, { twoFactor: true });
    await expect(page.getByRole('heading', { name: 'Welcome, Adam' })).toBeVisible();
    await expect(page.getByTestId('partner-name')).toHaveText('Demo Telecom');
    const nav = sidebar(page);
    for (const label of ['Customer', 'Product', 'Invoice', 'Audit', 'Discount', 'Portal Settings', 'Access Control']) {
      await expect(nav.getByRole('link', { name: label, exact: true })).toBeVisible();
    }
    // Whether Finance is there depends on finance-access.spec.ts, which checks it before and after the operator grants it.
    await page.screenshot({ path: `${SHOTS}/admin-home.png`, fullPage: true });
    await signOut(page, 'Adam Admin');
  });

  test('finance@demo.test signs in with a code and holds exactly Customer, Invoice and Finance', async ({ page }) => {
    await signIn(page, 'finance@demo.test', /\/admin$/, { twoFactor: true });
    const nav = sidebar(page);
    await expect(nav.getByRole('link', { name: 'Finance', exact: true })).toBeVisible();
    const links = await nav.getByRole('link').allInnerTexts();
    expect(links.map((l) => l.trim())).toEqual(['Home', 'Customer', 'Invoice', 'Finance']);
    await nav.getByRole('link', { name: 'Finance', exact: true }).click();
    await expect(page).toHaveURL(/\/admin\/finance\/payments$/);
    const sections = page.getByRole('tablist', { name: 'Finance sections' });
    for (const t of ['Payments', 'Unassigned', 'Bank import', 'Credit notes', 'Reports']) await expect(sections.getByRole('tab', { name: t })).toBeVisible();
    await signOut(page, 'Fiona Finance');
  });

  test('owner@acme.test signs in without a code and lands in the user portal', async ({ page }) => {
    await signIn(page, 'owner@acme.test', /\/portal$/, { twoFactor: false });
    await expect(page.getByTestId('organisation-name')).toHaveText('Acme Pte Ltd');
    await expect(page.getByRole('button', { name: 'User menu for Olive Owner' })).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Members' })).toBeVisible();
    // The site's address leads a signed-in customer to the portal, never through the admin apps.
    const adminCode: string[] = [];
    page.on('request', (r) => { if (/\/assets\/AdminRoutes-/.test(r.url())) adminCode.push(r.url()); });
    await page.goto('/');
    await expect(page).toHaveURL(/\/portal$/);
    await expect(page.getByTestId('organisation-name')).toHaveText('Acme Pte Ltd');
    expect(adminCode).toEqual([]);
    await signOut(page, 'Olive Owner');
  });

  test('member@acme.test signs in and sees the portal Home tabs', async ({ page }) => {
    await signIn(page, 'member@acme.test', /\/portal$/, { twoFactor: false });
    await expect(page.getByRole('heading', { name: 'Acme Pte Ltd' })).toBeVisible();
    const tabs = page.getByRole('tablist', { name: 'Home sections' });
    for (const t of ['Invoices', 'Points', 'Services', 'Audit']) await expect(tabs.getByRole('tab', { name: t })).toBeVisible();
    await expect(page.getByRole('tab', { name: 'Invoices' })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('invoices-role-hint')).toBeVisible(); // a member sees the invoices, and why there is no $
    await page.getByRole('tab', { name: 'Audit' }).click();
    await expect(page.getByRole('table', { name: 'Activity' })).toBeVisible();
    await expect(page.getByRole('table', { name: 'Activity' }).getByText('Signed in', { exact: true }).first()).toBeVisible();
    await page.screenshot({ path: `${SHOTS}/portal-member-home.png`, fullPage: true });
    await signOut(page, 'Max Member');
  });

  test('a wrong password is refused with a clear message, and signed-out visits go to sign-in', async ({ page }) => {
    await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/admin/access');
    await expect(page).toHaveURL(/\/login\?next=%2Fadmin%2Faccess$/);
    await page.getByRole('textbox', { name: 'Email', exact: true }).fill('admin@demo.test');
    await page.getByRole('textbox', { name: 'Password', exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('Email or password is wrong');
  });
});
