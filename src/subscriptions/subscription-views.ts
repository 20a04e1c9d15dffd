import { z } from 'zod';
import { formatDecimal } from '../money/money.ts';
import type { Trx } from '../platform/database.ts';
import { marginPercentOf } from '../products/catalog.repo.ts';
import { currencyOf, type SubscriptionRow } from './pricing.ts';
import { discountMicros } from '../discounts/discount-rules.ts';
import { discountsFor, type DiscountRequest } from '../discounts/discounts.repo.ts';
import { addDays, isoDay, reactivationDeadline, renewalDueAt } from './periods.ts';

/**
 * What the API shows of a subscription (docs/contracts/catalog-subscriptions-api.md). Staff see renewal cost and margin;
 * the portal view leaves cost and margin out. Renewal price/cost are today's catalog prices x the quantities the next
 * renewal charges (add-ons at their pending quantity). Period dates are UTC days (`YYYY-MM-DD`); the expiry is
 * `currentPeriodEnd`, the next renewal 7 days before it.
 */
const day = z.string().describe('A UTC day, YYYY-MM-DD');

export const addOnViewSchema = z.object({
  id: z.string(),
  productId: z.string(),
  productName: z.string(),
  variantId: z.string(),
  variantName: z.string(),
  priceId: z.string(),
  quantity: z.number().int(),
  pendingQuantity: z.number().int().nullable().describe('What the next renewal changes the quantity to (lower; 0 removes the add-on); null: no change'),
  renewalPrice: z.string().describe('Per period, at the quantity the next renewal charges, after its discount'),
  renewalCost: z.string(),
  renewalDiscount: z.string().describe('The Discount app\'s discount on the next period (pre-tax), already taken off renewalPrice'),
});

export const subscriptionViewSchema = z.object({
  id: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  productId: z.string(),
  productName: z.string(),
  sku: z.string(),
  productType: z.string(),
  variantId: z.string(),
  variantName: z.string(),
  priceId: z.string(),
  cycle: z.enum(['monthly', 'yearly']),
  currency: z.string(),
  quantity: z.number().int(),
  status: z.enum(['pending_payment', 'active', 'expired', 'terminated']),
  autoRenew: z.boolean(),
  renewByCard: z.boolean(),
  startedAt: z.string().nullable().describe('When it was activated (RFC 3339); null while pending payment'),
  currentPeriodStart: day.nullable(),
  currentPeriodEnd: day.nullable().describe('The expiry'),
  nextRenewalAt: day.nullable().describe('7 days before the expiry, while active and auto-renewing'),
  renewalPrice: z.string().describe('Pre-tax price of the next period: main price x quantity + add-ons, less the discounts in force on its first day'),
  renewalDiscount: z.string().describe('The discounts taken off renewalPrice (Discount app; docs/adr/0016)'),
  discount: z.object({ id: z.string(), name: z.string() }).nullable().describe('The discount on the main line of the next period, if any'),
  renewalCost: z.string(),
  margin: z.string().describe('renewalPrice - renewalCost'),
  marginPercent: z.string().nullable().describe('margin / renewal price x 100, one decimal; null when the price is 0'),
  addOns: z.array(addOnViewSchema),
  lastRenewalFailure: z.object({ at: z.string(), reason: z.string() }).nullable(),
  pendingInvoiceId: z.string().nullable().describe('The unpaid Purchase invoice a pending_payment subscription waits on'),
  expiredAt: z.string().nullable(),
  reactivatableUntil: day.nullable().describe('Last day an expired subscription can be reactivated'),
  terminatedAt: z.string().nullable(),
  terminationReason: z.string().nullable(),
  refund: z.object({ price: z.string(), tax: z.string(), total: z.string() }).nullable().describe('What termination refunded into points'),
  createdAt: z.string(),
  version: z.number().int().describe('Bumped by every change to the subscription; its ETag ("v<version>") is what an update\'s If-Match names'),
});
export type SubscriptionView = z.infer<typeof subscriptionViewSchema>;

export const portalAddOnViewSchema = addOnViewSchema.omit({ renewalCost: true });
export const portalSubscriptionViewSchema = subscriptionViewSchema
  .omit({ renewalCost: true, margin: true, marginPercent: true, addOns: true })
  .extend({ addOns: z.array(portalAddOnViewSchema) });
export type PortalSubscriptionView = z.infer<typeof portalSubscriptionViewSchema>;

export const historyItemSchema = z.object({
  id: z.string(),
  kind: z.string().describe('purchased, activated, renewed, renewal_failed, add_on_added, quantity_changed, expired, reactivated, terminated, ...'),
  at: z.string(),
  amount: z.string().nullable().describe('Charged (positive) or refunded (negative), tax included'),
  invoiceId: z.string().nullable(),
  invoiceNumber: z.string().nullable(),
  detail: z.string().nullable(),
});
export const subscriptionDetailSchema = subscriptionViewSchema.extend({ history: z.array(historyItemSchema) });
export const portalSubscriptionDetailSchema = portalSubscriptionViewSchema.extend({ history: z.array(historyItemSchema) });

export const invoiceSummarySchema = z.object({
  id: z.string(),
  number: z.string(),
  type: z.literal('purchase'),
  status: z.enum(['paid', 'awaiting_payment']),
  currency: z.string(),
  subtotal: z.string(),
  tax: z.string(),
  total: z.string(),
  amountDue: z.string(),
  dueAt: z.string().nullable(),
});
export type InvoiceSummary = z.infer<typeof invoiceSummarySchema>;

/** Everything a view needs, read in three queries for a whole page. */
export async function subscriptionViews(trx: Trx, partnerId: string, rows: readonly SubscriptionRow[]): Promise<SubscriptionView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const info = await trx
    .selectFrom('subscriptions as s')
    .innerJoin('customers as c', (j) => j.onRef('c.id', '=', 's.customerId').onRef('c.partnerId', '=', 's.partnerId'))
    .innerJoin('productPrices as pr', (j) => j.onRef('pr.id', '=', 's.priceId').onRef('pr.partnerId', '=', 's.partnerId'))
    .innerJoin('productVariants as v', (j) => j.onRef('v.id', '=', 's.variantId').onRef('v.partnerId', '=', 's.partnerId'))
    .innerJoin('products as p', (j) => j.onRef('p.id', '=', 's.productId').onRef('p.partnerId', '=', 's.partnerId'))
    .select(['s.id', 'c.name as customerName', 'p.name as productName', 'p.sku', 'p.type as productType', 'v.name as variantName', 'pr.priceMicros', 'pr.costMicros'])
    .where('s.partnerId', '=', partnerId).where('s.id', 'in', ids)
    .execute();
  const byId = new Map(info.map((i) => [i.id, i]));
  const addOns = await trx
    .selectFrom('subscriptionAddOns as a')
    .innerJoin('productPrices as pr', (j) => j.onRef('pr.id', '=', 'a.priceId').onRef('pr.partnerId', '=', 'a.partnerId'))
    .innerJoin('productVariants as v', (j) => j.onRef('v.id', '=', 'a.variantId').onRef('v.partnerId', '=', 'a.partnerId'))
    .innerJoin('products as p', (j) => j.onRef('p.id', '=', 'a.productId').onRef('p.partnerId', '=', 'a.partnerId'))
    .select(['a.id', 'a.subscriptionId', 'a.productId', 'a.variantId', 'a.priceId', 'a.quantity', 'a.pendingQuantity', 'p.name as productName', 'v.name as variantName', 'pr.priceMicros', 'pr.costMicros'])
    .where('a.partnerId', '=', partnerId).where('a.subscriptionId', 'in', ids).where('a.removedAt', 'is', null)
    .orderBy('a.createdAt').orderBy('a.id')
    .execute();
  // The discounts of the next period, judged on its first day (the expiry), as the renewal will (src/discounts).
  const dayOf = (s: SubscriptionRow) => (s.currentPeriodEnd ?? s.createdAt).toISOString().slice(0, 10);
  const requests: DiscountRequest[] = [];
  for (const s of rows) {
    requests.push({ partnerId, customerId: s.customerId, priceId: s.priceId, day: dayOf(s) });
    for (const a of addOns) if (a.subscriptionId === s.id) requests.push({ partnerId, customerId: s.customerId, priceId: a.priceId, day: dayOf(s) });
  }
  const found = await discountsFor(trx, requests);
  let at = 0;
  return rows.map((s) => {
    const currency = currencyOf(s.currency);
    const fmt = (m: bigint) => formatDecimal(m, currency);
    const i = byId.get(s.id)!;
    const mainTerms = found[at++] ?? null;
    const mainGross = BigInt(i.priceMicros) * BigInt(s.quantity);
    let discount = mainTerms ? discountMicros(mainTerms, mainGross, s.quantity, currency) : 0n;
    let price = mainGross - discount;
    let cost = BigInt(i.costMicros) * BigInt(s.quantity);
    const mine = addOns.filter((a) => a.subscriptionId === s.id).map((a) => {
      const quantity = a.pendingQuantity ?? a.quantity;
      const units = BigInt(quantity);
      const terms = found[at++] ?? null;
      const gross = BigInt(a.priceMicros) * units;
      const aDiscount = terms ? discountMicros(terms, gross, quantity, currency) : 0n;
      const aPrice = gross - aDiscount;
      const aCost = BigInt(a.costMicros) * units;
      price += aPrice;
      discount += aDiscount;
      cost += aCost;
      return {
        id: a.id, productId: a.productId, productName: a.productName, variantId: a.variantId, variantName: a.variantName, priceId: a.priceId,
        quantity: a.quantity, pendingQuantity: a.pendingQuantity, renewalPrice: fmt(aPrice), renewalCost: fmt(aCost), renewalDiscount: fmt(aDiscount),
      };
    });
    const live = s.status === 'active';
    const refunded = s.refundPriceMicros !== null && s.refundTaxMicros !== null;
    return {
      id: s.id, customerId: s.customerId, customerName: i.customerName, productId: s.productId, productName: i.productName, sku: i.sku,
      productType: i.productType, variantId: s.variantId, variantName: i.variantName, priceId: s.priceId, cycle: s.cycle, currency: s.currency,
      quantity: s.quantity, status: s.status, autoRenew: s.autoRenew, renewByCard: s.renewByCard,
      startedAt: s.activatedAt?.toISOString() ?? null,
      currentPeriodStart: s.currentPeriodStart ? isoDay(s.currentPeriodStart) : null,
      currentPeriodEnd: s.currentPeriodEnd ? isoDay(s.currentPeriodEnd) : null,
      nextRenewalAt: live && s.autoRenew && s.currentPeriodEnd ? isoDay(renewalDueAt(s.currentPeriodEnd)) : null,
      renewalPrice: fmt(price), renewalDiscount: fmt(discount), discount: mainTerms ? { id: mainTerms.id, name: mainTerms.name } : null,
      renewalCost: fmt(cost), margin: fmt(price - cost), marginPercent: marginPercentOf(price, cost),
      addOns: mine,
      lastRenewalFailure: s.renewalFailedAt && s.renewalFailureReason ? { at: s.renewalFailedAt.toISOString(), reason: s.renewalFailureReason } : null,
      pendingInvoiceId: s.status === 'pending_payment' ? s.pendingInvoiceId : null,
      expiredAt: s.expiredAt?.toISOString() ?? null,
      reactivatableUntil: s.status === 'expired' && s.currentPeriodEnd ? isoDay(addDays(reactivationDeadline(s.currentPeriodEnd), -1)) : null,
      terminatedAt: s.terminatedAt?.toISOString() ?? null,
      terminationReason: s.terminationReason,
      refund: refunded
        ? { price: fmt(BigInt(s.refundPriceMicros!)), tax: fmt(BigInt(s.refundTaxMicros!)), total: fmt(BigInt(s.refundPriceMicros!) + BigInt(s.refundTaxMicros!)) }
        : null,
      createdAt: s.createdAt.toISOString(),
      version: s.version,
    };
  });
}

/** The portal's view: no cost, no margin. */
export function toPortalView(v: SubscriptionView): PortalSubscriptionView {
  const { renewalCost: _c, margin: _m, marginPercent: _p, addOns, ...rest } = v;
  return { ...rest, addOns: addOns.map(({ renewalCost: _ac, ...a }) => a) };
}

/**
 * What members and guests read of a subscription (they read the organisation's subscriptions, but do not see its
 * credits: domain.md): no points given back by a termination (`refund`, the history's negative amounts and the
 * termination's "... back to points"), and a failed renewal's reason without the points the organisation could use
 * ("Not enough points: 30.00 SGD needed" without ", 12.00 SGD usable").
 */
export function withoutCompanyCredits<T extends PortalSubscriptionView & { history?: z.infer<typeof historyItemSchema>[] }>(v: T): T {
  return {
    ...v,
    refund: null,
    lastRenewalFailure: v.lastRenewalFailure ? { ...v.lastRenewalFailure, reason: withoutUsablePoints(v.lastRenewalFailure.reason) } : null,
    ...(v.history ? { history: v.history.map(historyWithoutCredits) } : {}),
  };
}

function historyWithoutCredits(h: z.infer<typeof historyItemSchema>): z.infer<typeof historyItemSchema> {
  const amount = h.amount !== null && h.amount.startsWith('-') ? null : h.amount;
  // A termination's detail is its reason, then what it gave back in parentheses (terminate-subscription.ts): the reason only.
  const reasonOnly = h.kind === 'terminated' && h.detail !== null && h.detail.endsWith(')') && h.detail.lastIndexOf(' (') >= 0
    ? h.detail.slice(0, h.detail.lastIndexOf(' ('))
    : h.detail === null ? null : withoutUsablePoints(h.detail);
  // Any other word of points ("paid from points", "points fell short, waiting on invoice ..."): the event without its detail.
  const detail = reasonOnly !== null && /\bpoints?\b/i.test(reasonOnly) && !/^Not enough points: [^,()]* needed$/.test(reasonOnly) ? null : reasonOnly;
  return { ...h, amount, detail };
}

/** A renewal failure's text (renew-groups.ts `shortReason`, also inside an expiry's detail) without the usable points. */
export function withoutUsablePoints(text: string): string {
  return text.replace(/(Not enough points: [^,()]* needed), [^,()]* usable/g, '$1');
}

export async function subscriptionHistory(trx: Trx, sub: SubscriptionRow): Promise<z.infer<typeof historyItemSchema>[]> {
  const currency = currencyOf(sub.currency);
  const rows = await trx
    .selectFrom('subscriptionEvents as e')
    .leftJoin('invoices as i', (j) => j.onRef('i.id', '=', 'e.invoiceId').onRef('i.partnerId', '=', 'e.partnerId'))
    .select(['e.id', 'e.kind', 'e.occurredAt', 'e.amountMicros', 'e.invoiceId', 'i.number as invoiceNumber', 'e.detail'])
    .where('e.partnerId', '=', sub.partnerId).where('e.subscriptionId', '=', sub.id)
    .orderBy('e.id', 'desc')
    .limit(500)
    .execute();
  return rows.map((r) => ({
    id: `sev_${r.id}`, kind: r.kind, at: r.occurredAt.toISOString(),
    amount: r.amountMicros === null ? null : formatDecimal(BigInt(r.amountMicros), currency),
    invoiceId: r.invoiceId, invoiceNumber: r.invoiceNumber, detail: r.detail,
  }));
}

export function invoiceSummary(
  invoice: { id: string; number: string; subtotalMicros: bigint; taxMicros: bigint; totalMicros: bigint; dueAt?: Date },
  status: 'paid' | 'awaiting_payment', currencyCode: string,
): InvoiceSummary {
  const currency = currencyOf(currencyCode);
  return {
    id: invoice.id, number: invoice.number, type: 'purchase', status, currency: currencyCode,
    subtotal: formatDecimal(invoice.subtotalMicros, currency), tax: formatDecimal(invoice.taxMicros, currency), total: formatDecimal(invoice.totalMicros, currency),
    amountDue: formatDecimal(status === 'paid' ? 0n : invoice.totalMicros, currency), dueAt: invoice.dueAt?.toISOString() ?? null,
  };
}
