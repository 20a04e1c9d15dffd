import assert from 'node:assert/strict';
import type { Selectable } from 'kysely';
import { applyBps, isCurrency, roundToMinorUnit, type Currency } from '../money/money.ts';
import type { Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { findPriceWithProduct, type SellablePrice } from '../products/sellable-price.ts';
import type { TaxCategory } from '../products/catalog.db-types.ts';
import { spreadTax } from '../invoices/invoice-totals.ts';
import type { SubscriptionAddOnsTable, SubscriptionsTable } from './subscriptions.db-types.ts';
import { discountMicros, type DiscountTerms } from '../discounts/discount-rules.ts';
import { discountsFor } from '../discounts/discounts.repo.ts';

/**
 * What a subscription charge is made of, and its tax (docs/adr/0008: tax at consumption; docs/adr/0001: one rounding).
 * - A charge is lines of pre-tax whole minor units: the subscription (price x quantity), its add-ons, an activation fee.
 * - Tax is the partner's `tax_rate_bps` on the lines of `standard` products, computed ONCE on their sum (applyBps),
 *   then spread over those lines for the invoice (largest remainder, `spreadTax`), so
 *   the invoice's tax is exactly the one rounded figure.
 * - Pro rata (add-on units added mid-period) is `unit price x units x days remaining / days in period`, rounded once.
 */
export type SubscriptionRow = Selectable<SubscriptionsTable>;
export type AddOnRow = Selectable<SubscriptionAddOnsTable>;

export type ChargeLineKind = 'subscription' | 'add_on' | 'activation_fee';

export interface ChargeLine {
  kind: ChargeLineKind;
  description: string;
  /** Pre-tax, whole minor units, >= 0: the net, after `discountMicros`. */
  amountMicros: bigint;
  /** The Discount app's discount on this line (src/discounts), whole minor units; gross = amountMicros + discountMicros. */
  discountMicros?: bigint;
  discountId?: string;
  /** A pro-rata line's share of a period: [days remaining, days in period] (a fixed discount is pro-rated alike). */
  proRata?: readonly [number, number];
  /** What the platform charges the partner for this line (0 for fees). */
  costMicros: bigint;
  /** The product's tax category is `standard`. */
  taxable: boolean;
  /** The product's tax category (`taxable` is `standard`); the invoice line carries it. */
  taxCategory: TaxCategory;
  /** Which catalog price, and the add-on row when it is one. */
  priceId: string;
  /** The product and variant of that price (the invoice line names them). */
  productId: string;
  variantId: string;
  addOnId?: string;
  /** Units (of the price; 1 for an activation fee). */
  quantity: number;
  /** The catalog price of one unit for one full period (the activation fee for a fee line), pre-tax, before any discount. */
  unitPriceMicros: bigint;
}

export interface ChargeQuote {
  currency: Currency;
  lines: ChargeLine[];
  /** Tax of each line, same order; sums to taxMicros. */
  lineTaxMicros: bigint[];
  /** Subscription + add-on lines (pre-tax). */
  priceMicros: bigint;
  /** Discounts on the subscription and add-on lines (pre-tax), already taken off priceMicros. */
  discountMicros: bigint;
  activationFeeMicros: bigint;
  costMicros: bigint;
  taxRateBps: number;
  taxMicros: bigint;
  totalMicros: bigint;
}

export function currencyOf(code: string): Currency {
  assert(isCurrency(code), `unsupported currency ${code}`);
  return code;
}

/** The partner's tax rate on `standard` products, in basis points. */
export async function partnerTaxRateBps(trx: Trx, partnerId: string): Promise<number> {
  const row = await trx.selectFrom('partnerSettings').select('taxRateBps').where('partnerId', '=', partnerId).executeTakeFirst();
  return row?.taxRateBps ?? 0;
}

/** Sum the lines, tax once, spread the tax over the taxable lines. */
export function quoteOf(currency: Currency, lines: readonly ChargeLine[], taxRateBps: number): ChargeQuote {
  let price = 0n;
  let fee = 0n;
  let cost = 0n;
  let taxable = 0n;
  let discount = 0n;
  for (const l of lines) {
    assert(l.amountMicros >= 0n && l.costMicros >= 0n && (l.discountMicros ?? 0n) >= 0n, 'charge lines are not negative');
    assert(l.taxable === (l.taxCategory === 'standard'), 'a line is taxable when its product is standard-rated');
    discount += l.discountMicros ?? 0n;
    if (l.kind === 'activation_fee') fee += l.amountMicros;
    else price += l.amountMicros;
    cost += l.costMicros;
    if (l.taxable) taxable += l.amountMicros;
  }
  const tax = applyBps(taxable, taxRateBps, currency);
  // Spread by largest remainder (src/invoices/invoice-totals.ts): the shares add up to the one rounded tax, none negative.
  const lineTax = spreadTax(currency, tax, lines.map((l) => (l.taxable ? l.amountMicros : 0n)));
  return { currency, lines: [...lines], lineTaxMicros: lineTax, priceMicros: price, discountMicros: discount, activationFeeMicros: fee, costMicros: cost, taxRateBps, taxMicros: tax, totalMicros: price + fee + tax };
}

/**
 * The quantity and unit price an invoice line shows for a charge line, with unit x quantity EXACTLY the line's gross (its
 * amount before the Discount app's discount; an issued line never rounds, src/invoices/issue-paid-invoice.ts):
 * - a full period or an activation fee: the units at the catalog unit price (gross = price x units by construction);
 * - a pro-rata add-on (gross = price x units x days left / days in period, rounded once): the units at the pro-rated unit
 *   price when the gross divides by the units exactly (in micros: the unit price may carry up to 6 decimals, as the Invoice
 *   app's do); otherwise quantity 1 at the whole gross, since no unit price times the units gives it — the description
 *   still says how many units and how many days (proRataLine), so nothing is lost.
 */
export function invoiceUnits(line: ChargeLine): { quantity: number; unitAmountMicros: bigint } {
  const gross = line.amountMicros + (line.discountMicros ?? 0n);
  const units = BigInt(line.quantity);
  assert(Number.isSafeInteger(line.quantity) && line.quantity > 0, 'units are positive whole numbers');
  if (line.unitPriceMicros * units === gross) return { quantity: line.quantity, unitAmountMicros: line.unitPriceMicros };
  if (gross % units === 0n) return { quantity: line.quantity, unitAmountMicros: gross / units };
  return { quantity: 1, unitAmountMicros: gross };
}

export function lineDescription(p: SellablePrice, quantity: number, suffix = ''): string {
  const what = `${p.product.name} — ${p.variant.name} (${p.price.cycle})`;
  return `${what}${quantity > 1 ? ` x ${quantity}` : ''}${suffix}`;
}

/** What every line of a catalog price carries: its price, product and variant, and the product's tax category. */
function catalogFacts(p: SellablePrice): Pick<ChargeLine, 'taxable' | 'taxCategory' | 'priceId' | 'productId' | 'variantId'> {
  return {
    taxable: p.product.taxCategory === 'standard', taxCategory: p.product.taxCategory, priceId: p.price.id, productId: p.product.id, variantId: p.variant.id,
  };
}

/** The line of `units` of a catalog price for one full period. */
export function periodLine(kind: 'subscription' | 'add_on', p: SellablePrice, units: number, addOnId?: string): ChargeLine {
  return {
    kind, description: lineDescription(p, units), amountMicros: BigInt(p.price.priceMicros) * BigInt(units),
    costMicros: BigInt(p.price.costMicros) * BigInt(units), ...catalogFacts(p),
    ...(addOnId ? { addOnId } : {}), quantity: units, unitPriceMicros: BigInt(p.price.priceMicros),
  };
}

export function activationFeeLine(p: SellablePrice): ChargeLine | null {
  const fee = BigInt(p.price.activationFeeMicros);
  if (fee === 0n) return null;
  return {
    kind: 'activation_fee', description: `Activation fee: ${p.product.name} — ${p.variant.name}`, amountMicros: fee, costMicros: 0n,
    ...catalogFacts(p), quantity: 1, unitPriceMicros: fee,
  };
}

/** `units` of a price from `from` to the period end, pro rata by days, each amount rounded once. */
export function proRataLine(p: SellablePrice, units: number, daysRemaining: number, daysInPeriod: number, addOnId: string): ChargeLine {
  assert(daysRemaining > 0 && daysInPeriod > 0 && daysRemaining <= daysInPeriod, 'pro rata within the period');
  const currency = currencyOf(p.price.currency);
  const full = BigInt(p.price.priceMicros) * BigInt(units);
  const fullCost = BigInt(p.price.costMicros) * BigInt(units);
  return {
    kind: 'add_on',
    description: `${lineDescription(p, units)}, ${daysRemaining} of ${daysInPeriod} days`,
    amountMicros: roundToMinorUnit(full, currency, BigInt(daysRemaining), BigInt(daysInPeriod)),
    costMicros: roundToMinorUnit(fullCost, currency, BigInt(daysRemaining), BigInt(daysInPeriod)),
    ...catalogFacts(p), addOnId, quantity: units, unitPriceMicros: BigInt(p.price.priceMicros), proRata: [daysRemaining, daysInPeriod],
  };
}

/** A line less its discount (none: the line as it is). Activation fees are never discounted (a discount is on the price). */
export function discountedLine(line: ChargeLine, terms: DiscountTerms | null, currency: Currency): ChargeLine {
  if (terms === null || line.kind === 'activation_fee') return line;
  assert(line.discountMicros === undefined, 'a line is discounted once');
  const d = discountMicros(terms, line.amountMicros, line.quantity, currency, line.proRata);
  if (d === 0n) return line;
  return { ...line, amountMicros: line.amountMicros - d, discountMicros: d, discountId: terms.id };
}

/**
 * THE place a Discount-app discount enters a price (docs/adr/0016): each subscription and add-on line gets the most specific
 * discount in force for the customer on `day` (the purchase day; for a renewal, the first day of the period it pays for).
 * Purchases, add-ons, renewals, reactivations and the renewal price the views show all go through here (the renewal job
 * through `discountsFor` and `discountedLine`, set-based).
 */
export async function withDiscounts(
  trx: Trx, who: { partnerId: string; customerId: string; day: Date }, currency: Currency, lines: readonly ChargeLine[],
): Promise<ChargeLine[]> {
  const day = who.day.toISOString().slice(0, 10);
  const discountable = lines.filter((l) => l.kind !== 'activation_fee');
  const found = await discountsFor(trx, discountable.map((l) => ({ partnerId: who.partnerId, customerId: who.customerId, priceId: l.priceId, day })));
  const byLine = new Map(discountable.map((l, i) => [l, found[i] ?? null]));
  return lines.map((l) => discountedLine(l, byLine.get(l) ?? null, currency));
}

export interface RenewalPricing {
  main: SellablePrice;
  addOns: { row: AddOnRow; price: SellablePrice; renewalQuantity: number }[];
  /** The lines a renewal of the next period charges (add-ons at their pending quantity; none at 0). */
  lines: ChargeLine[];
  /** After discounts. */
  priceMicros: bigint;
  discountMicros: bigint;
  costMicros: bigint;
}

/**
 * What the next period of a subscription costs at today's catalog prices: the main price x quantity and each add-on at
 * the quantity it renews with (`pending_quantity` when set). Archived prices still renew (archiving stops new sales only).
 * For views and for the renewal job.
 */
export async function renewalPricing(trx: Trx, sub: SubscriptionRow, addOnRows?: readonly AddOnRow[], day?: Date): Promise<RenewalPricing> {
  const main = await findPriceWithProduct(trx, sub.partnerId, sub.priceId);
  const rows = addOnRows ?? await trx.selectFrom('subscriptionAddOns').selectAll()
    .where('partnerId', '=', sub.partnerId).where('subscriptionId', '=', sub.id).where('removedAt', 'is', null).orderBy('createdAt').orderBy('id').execute();
  const addOns = [];
  for (const row of rows) {
    if (row.removedAt) continue;
    addOns.push({ row, price: await findPriceWithProduct(trx, sub.partnerId, row.priceId), renewalQuantity: row.pendingQuantity ?? row.quantity });
  }
  const full = [periodLine('subscription', main, sub.quantity)];
  for (const a of addOns) if (a.renewalQuantity > 0) full.push(periodLine('add_on', a.price, a.renewalQuantity, a.row.id));
  // Discounts are judged on the first day of the period the renewal pays for (or the day given: a reactivation's).
  const on = day ?? sub.currentPeriodEnd ?? sub.createdAt;
  const lines = await withDiscounts(trx, { partnerId: sub.partnerId, customerId: sub.customerId, day: on }, currencyOf(sub.currency), full);
  return {
    main, addOns, lines,
    priceMicros: lines.reduce((s, l) => s + l.amountMicros, 0n),
    discountMicros: lines.reduce((s, l) => s + (l.discountMicros ?? 0n), 0n),
    costMicros: lines.reduce((s, l) => s + l.costMicros, 0n),
  };
}


/** The subscription's price must be in the customer's currency. */
export function assertCustomerCurrency(priceCurrency: string, customerCurrency: string): void {
  if (priceCurrency !== customerCurrency) {
    throw new DomainError('currency_mismatch', `This price is in ${priceCurrency}, but the customer pays in ${customerCurrency}: choose a ${customerCurrency} price`,
      [{ path: 'priceId', message: `a price in ${customerCurrency} is needed, not ${priceCurrency}` }]);
  }
}
