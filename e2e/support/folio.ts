import crypto from 'node:crypto';
import { expect, type APIRequestContext, type APIResponse, type Locator, type Page } from '@playwright/test';

export const PASSWORD = 'folio-demo-2026';

export interface Mail {
  id: string;
  toEmail: string;
  kind: string;
  subject: string;
  bodyText: string;
  createdAt: string;
}

export async function mailbox(request: APIRequestContext, to: string): Promise<Mail[]> {
  const res = await request.get(`/api/v1/dev/mailbox?to=${encodeURIComponent(to)}`);
  expect(res.status(), `dev mailbox for ${to}`).toBe(200);
  return ((await res.json()) as { data: Mail[] }).data;
}

/** Waits for a message to `to` that was not there before (ids in `seen`) and matches `kind`. */
export async function waitForNewMail(request: APIRequestContext, to: string, kind: string, seen: Set<string>): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(
      async () => {
        found = (await mailbox(request, to)).find((m) => m.kind === kind && !seen.has(m.id));
        return found !== undefined;
      },
      { message: `a new ${kind} email to ${to}`, timeout: 15_000, intervals: [200, 300, 500, 1000] },
    )
    .toBe(true);
  return found!;
}

/**
 * Signs in through the login page. Staff and the operator get a 6-digit code by email: it is read from the dev mailbox
 * and typed into the code step, as a person would.
 */
export async function signIn(page: Page, email: string, expectedPath: RegExp, options: { twoFactor: boolean; password?: string }): Promise<void> {
  const seen = new Set((await mailbox(page.request, email)).map((m) => m.id));
  await page.goto('/login');
  await expect(page.getByRole('heading', { name: 'Sign in to Folio' })).toBeVisible();
  await page.getByRole('textbox', { name: 'Email', exact: true }).fill(email);
  await page.getByRole('textbox', { name: 'Password', exact: true }).fill(options.password ?? PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (options.twoFactor) {
    await expect(page.getByRole('heading', { name: 'Check your email' })).toBeVisible();
    const mail = await waitForNewMail(page.request, email, 'two_factor_code', seen);
    const code = /\b(\d{6})\b/.exec(mail.subject)?.[1] ?? /\b(\d{6})\b/.exec(mail.bodyText)?.[1];
    expect(code, 'a 6-digit code in the email').toBeTruthy();
    await page.getByRole('textbox', { name: 'Sign-in code' }).fill(code!);
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
  }
  await expect(page).toHaveURL(expectedPath);
}

export function sidebar(page: Page) {
  return page.getByRole('navigation', { name: 'Apps' });
}

export async function signOut(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: `User menu for ${name}` }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
}

export const SHOTS = process.env.FOLIO_E2E_SHOTS ?? '/tmp/folio-e2e-shots';

/**
 * Opens a dropdown and picks one of its options, then waits until the dropdown has closed. Without that wait, the next
 * pick can open a second dropdown while this one is still leaving, and its click land on this one's option and be lost
 * (seen in a fresh-clone CI run: two picks in a row on the invoice list's Status).
 */
export async function pick(page: Page, combobox: Locator, option: string | RegExp, options: { exact?: boolean } = {}): Promise<void> {
  await combobox.click();
  const choice = page.getByRole('option', { name: option, exact: options.exact });
  await choice.click();
  await expect(choice).toBeHidden();
}

/**
 * A table fits the screen: nothing to scroll sideways for, on the page or in the box that holds the table (a table a
 * few pixels wider than its box is scrolled there, and the start of its first column is cut off).
 */
export async function expectFitsTheScreen(table: Locator, screenWidth = 390): Promise<void> {
  const box = await table.boundingBox();
  expect(box, 'the table is laid out').not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(screenWidth);
  const overflow = await table.evaluate((el) => {
    for (let holder = el.parentElement; holder && holder !== document.body; holder = holder.parentElement) {
      if (getComputedStyle(holder).overflowX !== 'visible') {
        return { tableWidth: Math.ceil(el.getBoundingClientRect().width), boxWidth: holder.clientWidth, scrolledBy: holder.scrollLeft };
      }
    }
    return null;
  });
  if (overflow) {
    expect(overflow.tableWidth, 'the table is no wider than the box that holds it').toBeLessThanOrEqual(overflow.boxWidth);
    expect(overflow.scrolledBy, 'the box holding the table is not scrolled sideways').toBe(0);
  }
}

/** The signed-in session's CSRF header, for the API requests a test sends itself (`page.request`). */
export async function csrf(p: Page): Promise<Record<string, string>> {
  const session = (await (await p.request.get('/api/v1/auth/session')).json()) as { csrfToken: string };
  return { 'x-csrf-token': session.csrfToken };
}

/**
 * A new customer organisation, made by staff through the API (`staff` is signed in with the Customer app), whose owner
 * has accepted the invitation emailed at creation, with PASSWORD: the owner then signs in as any portal user. The
 * organisation's own data (top-ups, subscriptions, invoices) is then made by the test through the real API, and the seeded
 * customers other journeys read stay as seeded. Answers the customer's id.
 */
export async function customerWithOwner(
  staff: Page, request: APIRequestContext, customer: { name: string; ownerEmail: string; ownerName: string },
): Promise<string> {
  const created = await staff.request.post('/api/v1/customers', {
    headers: await csrf(staff), data: { name: customer.name, currency: 'SGD', ownerEmail: customer.ownerEmail, ownerName: customer.ownerName },
  });
  expect(created.status(), await created.text()).toBe(201);
  const mail = (await mailbox(request, customer.ownerEmail)).find((m) => m.kind === 'invitation');
  const token = /accept-invitation\?token=([A-Za-z0-9_-]+)/.exec(mail?.bodyText ?? '')?.[1];
  expect(token, `an invitation link in the email to ${customer.ownerEmail}`).toBeTruthy();
  // Accepted as the link would be, by someone with no session (`request` carries no cookie of the pages).
  const accepted = await request.post('/api/v1/auth/invitations/accept', { data: { token, name: customer.ownerName, password: PASSWORD } });
  expect(accepted.status(), await accepted.text()).toBe(200);
  return ((await created.json()) as { id: string }).id;
}

/** A write the signed-in page sends through the API itself: its CSRF header, and a new Idempotency-Key. */
export async function apiWrite(p: Page, method: 'POST' | 'PATCH' | 'PUT', path: string, data?: unknown): Promise<APIResponse> {
  const headers = { ...(await csrf(p)), 'idempotency-key': `e2e-${crypto.randomUUID()}` };
  return p.request.fetch(path, { method, headers, data });
}

/** The price id of a product's plan in the portal's catalog, e.g. Phone Number › Singapore local › monthly. */
export async function portalPriceId(p: Page, product: string, variant: string, cycle: 'monthly' | 'yearly'): Promise<string> {
  const res = await p.request.get('/api/v1/portal/catalog');
  expect(res.status(), await res.text()).toBe(200);
  const catalog = (await res.json()) as { data: { name: string; variants: { name: string; prices: { priceId: string; cycle: string }[] }[] }[] };
  const id = catalog.data.find((c) => c.name === product)?.variants.find((v) => v.name === variant)?.prices.find((c) => c.cycle === cycle)?.priceId;
  expect(id, `${product} › ${variant} › ${cycle} in the catalog`).toBeTruthy();
  return id!;
}
