import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../platform/database.ts';
import { inScope } from '../../platform/database.ts';
import { newId } from '../../platform/ids.ts';
import { newPriceId, newProductId, newVariantId } from '../../products/catalog.repo.ts';
import { creditWallet } from '../../wallet/charge-wallet.ts';
import type { Gateway } from '../../gateway/gateway.ts';
import { newSavedCardId } from '../../topup/ids.ts';
import { addMonthsClamped } from '../periods.ts';

/**
 * Test and benchmark fixtures for the renewal run, written straight in SQL through the OWNER connection (past row-level
 * security), as a purchase would have left them: catalog prices, customers with an owner, active subscriptions on an
 * anchor, points. Money still moves only through the ledger (creditWallet), so the books balance.
 */
const rnd = (n = 8) => randomBytes(n).toString('hex');

export interface PriceFixture {
  productId: string;
  variantId: string;
  priceId: string;
}

export async function createPrice(
  owner: Db,
  input: { partnerId: string; name?: string; currency?: string; cycle?: 'monthly' | 'yearly'; priceMicros: bigint; costMicros: bigint; taxCategory?: 'standard' | 'zero_rated' | 'exempt' },
): Promise<PriceFixture> {
  const productId = newProductId();
  const variantId = newVariantId();
  const priceId = newPriceId();
  const name = input.name ?? `Product ${rnd(3)}`;
  await owner.insertInto('products').values({
    id: productId, partnerId: input.partnerId, sku: `SKU-${rnd(6)}`, name, description: null, type: 'app_licence', taxCategory: input.taxCategory ?? 'standard',
    archivedAt: null, updatedAt: new Date(),
  }).execute();
  await owner.insertInto('productVariants').values({ id: variantId, partnerId: input.partnerId, productId, name: 'Standard', archivedAt: null }).execute();
  await owner.insertInto('productPrices').values({
    id: priceId, partnerId: input.partnerId, variantId, cycle: input.cycle ?? 'monthly', currency: input.currency ?? 'SGD',
    priceMicros: input.priceMicros, costMicros: input.costMicros, activationFeeMicros: 0n, archivedAt: null, updatedAt: new Date(),
  }).execute();
  return { productId, variantId, priceId };
}

/** A customer organisation with an active owner (who receives the notices). */
export async function createCustomer(owner: Db, input: { partnerId: string; currency?: string; name?: string }): Promise<{ customerId: string; ownerEmail: string; ownerId: string }> {
  const customerId = newId('cus');
  const ownerId = newId('usr');
  const ownerEmail = `owner-${rnd(5)}@renewals.test`;
  await owner.insertInto('customers').values({ id: customerId, partnerId: input.partnerId, name: input.name ?? `Renewals ${rnd(3)}`, currency: input.currency ?? 'SGD' }).execute();
  await owner.insertInto('users').values({
    id: ownerId, kind: 'customer', partnerId: input.partnerId, customerId, customerRole: 'owner', email: ownerEmail, name: 'Owner',
    passwordHash: null, emailVerifiedAt: new Date(), lockedUntil: null, lastLoginAt: null, updatedAt: new Date(),
  }).execute();
  return { customerId, ownerEmail, ownerId };
}

/** Give a customer points (Dr bank / Cr points:{c}), through the ledger. */
export async function givePoints(app: Db, input: { partnerId: string; customerId: string; currency?: string; micros: bigint }): Promise<void> {
  const currency = input.currency ?? 'SGD';
  await inScope(app, { kind: 'partner', partnerId: input.partnerId }, (trx) => creditWallet(trx, {
    wallet: { partnerId: input.partnerId, customerId: input.customerId, currency },
    amountMicros: input.micros,
    entry: { kind: 'points_issued', causeType: 'test', causeId: `fixture_${rnd()}`, description: 'Fixture points', auditEventId: null },
    counterPostings: [{ code: 'bank', amountMicros: input.micros }],
  }));
}

export interface SubscriptionFixture {
  partnerId: string;
  customerId: string;
  price: PriceFixture;
  currency?: string;
  cycle?: 'monthly' | 'yearly';
  quantity?: number;
  /** UTC midnight. */
  anchorAt: Date;
  /** UTC midnight on the anchor: the expiry. */
  periodStart: Date;
  periodEnd: Date;
  autoRenew?: boolean;
  renewByCard?: boolean;
}

/** An active subscription, as a paid purchase leaves it. */
export async function createSubscription(owner: Db, input: SubscriptionFixture): Promise<string> {
  const id = newId('sub');
  await owner.insertInto('subscriptions').values({
    id, partnerId: input.partnerId, customerId: input.customerId, productId: input.price.productId, variantId: input.price.variantId,
    priceId: input.price.priceId, currency: input.currency ?? 'SGD', cycle: input.cycle ?? 'monthly', quantity: input.quantity ?? 1,
    status: 'active', autoRenew: input.autoRenew ?? true, renewByCard: input.renewByCard ?? false,
    anchorAt: input.anchorAt, currentPeriodStart: input.periodStart, currentPeriodEnd: input.periodEnd, activatedAt: input.periodStart,
    createdAt: input.periodStart, updatedAt: input.periodStart,
  }).execute();
  return id;
}

/** An add-on on a subscription (quantity, and a pending lower quantity for the next renewal). */
export async function createAddOn(owner: Db, input: { partnerId: string; customerId: string; subscriptionId: string; price: PriceFixture; quantity: number; pendingQuantity?: number | null; at: Date }): Promise<string> {
  const id = `sao_${rnd()}`;
  await owner.insertInto('subscriptionAddOns').values({
    id, partnerId: input.partnerId, customerId: input.customerId, subscriptionId: input.subscriptionId, productId: input.price.productId,
    variantId: input.price.variantId, priceId: input.price.priceId, quantity: input.quantity, pendingQuantity: input.pendingQuantity ?? null,
    createdAt: input.at, updatedAt: input.at,
  }).execute();
  return id;
}

/** The partner's tax rate (basis points) on `standard` products. */
export async function setTaxRate(owner: Db, partnerId: string, bps: number): Promise<void> {
  await sql`update partner_settings set tax_rate_bps = ${bps} where partner_id = ${partnerId}`.execute(owner);
}

/** Usable points of a customer (owner connection), as micros. */
export async function usableMicros(owner: Db, partnerId: string, customerId: string, currency = 'SGD'): Promise<bigint> {
  const { rows } = await sql<{ usable: string }>`
    select (-a.balance_micros - w.reserved_micros + w.credit_limit_micros)::text as usable
    from wallets w join ledger_accounts a on a.id = w.points_account_id
    where w.partner_id = ${partnerId} and w.customer_id = ${customerId} and w.currency = ${currency}`.execute(owner);
  return rows[0] ? BigInt(rows[0].usable) : 0n;
}

export const utcMidnight = (iso: string): Date => new Date(`${iso}T00:00:00.000Z`);

/** A card saved at the gateway for a customer (as the portal's "save this card" leaves it). */
export async function saveCard(owner: Db, gateway: Gateway, input: { partnerId: string; customerId: string; cardToken: string }): Promise<string> {
  const { customerRef } = await gateway.createCustomer({ reference: input.customerId, idempotencyKey: `fixture-customer-${input.customerId}` });
  const saved = await gateway.saveCard({ customerRef, cardToken: input.cardToken, idempotencyKey: `fixture-card-${rnd().replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]!)}` }); // no digits: a random digit run can pass for a card number and be refused
  if (saved.status !== 'saved') throw new Error(`card not saved: ${saved.failureReason}`);
  const id = newSavedCardId();
  await owner.insertInto('savedCards').values({
    id, partnerId: input.partnerId, customerId: input.customerId, gateway: gateway.name, gatewayCustomerRef: customerRef, methodRef: saved.methodRef,
    brand: saved.brand, last4: saved.last4, expMonth: saved.expMonth, expYear: saved.expYear, createdBy: null, removedAt: null,
  }).execute();
  return id;
}

/** An anchor and a period start for a monthly period ending at `end` (UTC midnight), whatever its day of month (31 Mar: anchor 31 Jan). */
export function monthlyPeriodEndingAt(end: Date): { anchorAt: Date; periodStart: Date } {
  for (let n = 1; n <= 12; n++) {
    const anchorAt = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - n, end.getUTCDate()));
    if (anchorAt.getUTCDate() === end.getUTCDate()) return { anchorAt, periodStart: addMonthsClamped(anchorAt, n - 1) };
  }
  throw new Error(`no anchor for ${end.toISOString()}`);
}
