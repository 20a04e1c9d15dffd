import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { apiWrite, customerWithOwner, portalPriceId, signIn } from './folio.ts';

/** What the portal's subscription journeys read of a subscription through the API. */
export interface Sub {
  id: string;
  status: string;
  autoRenew: boolean;
  renewByCard: boolean;
  version: number;
  currentPeriodEnd: string | null;
  refund: { price: string; tax: string; total: string } | null;
  addOns: { id: string; productName: string; variantName: string; quantity: number; pendingQuantity: number | null; renewalPrice: string }[];
  history: { kind: string; amount: string | null; invoiceNumber: string | null }[];
}

export const NUMBER_LABEL = 'Phone Number · Singapore local';

/** Decimal string -> micros, for comparing amounts exactly. */
export function micros(amount: string): bigint {
  const [whole, fraction = ''] = amount.replace('-', '').split('.');
  const value = BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
  return amount.startsWith('-') ? -value : value;
}

/**
 * A new organisation (made by `staff`, signed in with the Customer app) whose owner is signed in on `page`, has topped up
 * 100.00 by card (keeping the card when `saveCard`) and bought a monthly Singapore number from the points. The seeded
 * organisations stay as other journeys expect them.
 */
export async function organisationWithNumber(
  page: Page, staff: Page, request: APIRequestContext, name: string, options: { saveCard?: boolean } = {},
): Promise<{ customerId: string; ownerEmail: string; subId: string }> {
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
  const ownerEmail = `owner-${suffix}@${name.toLowerCase()}.test`;
  const customerId = await customerWithOwner(staff, request, { name: `${name} ${suffix}`, ownerEmail, ownerName: `${name} Owner` });
  await signIn(page, ownerEmail, /\/portal$/, { twoFactor: false });
  const topUp = await apiWrite(page, 'POST', '/api/v1/portal/top-ups', { amount: '100.00', cardToken: 'tok_sandbox_success', ...(options.saveCard ? { saveCard: true } : {}) });
  expect(topUp.status(), await topUp.text()).toBe(201);
  const bought = await apiWrite(page, 'POST', '/api/v1/portal/subscriptions', { priceId: await portalPriceId(page, 'Phone Number', 'Singapore local', 'monthly') });
  expect(bought.status(), await bought.text()).toBe(201);
  const { subscription } = (await bought.json()) as { subscription: Sub };
  expect(subscription).toMatchObject({ status: 'active', autoRenew: true, renewByCard: false });
  return { customerId, ownerEmail, subId: subscription.id };
}

/** The subscription as the API gives it now (with its add-ons and history), and its ETag. */
export async function readSub(page: Page, id: string): Promise<{ etag: string; view: Sub }> {
  const res = await page.request.get(`/api/v1/portal/subscriptions/${id}`);
  expect(res.status(), await res.text()).toBe(200);
  return { etag: res.headers().etag!, view: (await res.json()) as Sub };
}

/** The organisation's points (balance), in micros. */
export async function usablePoints(page: Page): Promise<bigint> {
  const res = await page.request.get('/api/v1/portal/wallet');
  expect(res.status(), await res.text()).toBe(200);
  return micros(((await res.json()) as { points: string }).points);
}

/** The headers of the page's own writes to one subscription, in order. */
export function watchWrites(page: Page, subId: string) {
  const sent: { path: string; method: string; ifMatch: string | undefined; idempotencyKey: string | undefined; body: unknown }[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (r.method() !== 'GET' && path.startsWith(`/api/v1/portal/subscriptions/${subId}`)) {
      sent.push({
        path: path.slice(`/api/v1/portal/subscriptions/${subId}`.length), method: r.method(), ifMatch: r.headers()['if-match'],
        idempotencyKey: r.headers()['idempotency-key'], body: r.postDataJSON() as unknown,
      });
    }
  });
  return sent;
}
