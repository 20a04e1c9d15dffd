import assert from 'node:assert/strict';
import { applyBps, roundToMinorUnit, type Currency } from '../money/money.ts';
import type { ProductType } from '../products/catalog.db-types.ts';
import type { DiscountKind, DiscountScope } from './discounts.db-types.ts';

/**
 * The rules of the Discount app, pure (docs/adr/0016-discount-precedence.md):
 * - a discount COVERS a charge line when its target is the line's customer (or every customer) and its scope contains the
 *   line's catalog price (the product type, the product, the variant or the price itself);
 * - it is IN FORCE on a UTC day from `startsOn` to `endsOn`, both inclusive (`endsOn` null: unlimited);
 * - of the discounts covering a line and in force on the day of the purchase or renewal, the MOST SPECIFIC wins:
 *   the target first (one customer beats every customer), then the scope (billing cycle > variant > product > product type);
 *   discounts never add up. Two of the same target and scope are never in force on the same day (database exclusion), so
 *   the winner is always unique;
 * - the amount: percent of the line's pre-tax gross (applyBps, rounded once), or a fixed amount per unit (pro rata on a
 *   pro-rata line, rounded once), never more than the gross: a price never goes negative.
 */
export interface DiscountTerms {
  id: string;
  name: string;
  customerId: string | null;
  scope: DiscountScope;
  productType: ProductType;
  productId: string | null;
  variantId: string | null;
  priceId: string | null;
  kind: DiscountKind;
  percentBps: number | null;
  /** Fixed: per unit, micros of `currency`. */
  amountMicros: bigint | null;
  currency: string | null;
  /** UTC days, YYYY-MM-DD, both inclusive. */
  startsOn: string;
  endsOn: string | null;
}

/** Where a charge line sits in the catalog. */
export interface LineScope {
  productType: ProductType;
  productId: string;
  variantId: string;
  priceId: string;
}

export const SCOPE_RANK: Record<DiscountScope, number> = { product_type: 0, product: 1, variant: 2, price: 3 };

/** Higher is more specific: customer-specific discounts (4..7) above every-customer ones (0..3), then the scope. */
export function specificity(d: Pick<DiscountTerms, 'customerId' | 'scope'>): number {
  return (d.customerId !== null ? 4 : 0) + SCOPE_RANK[d.scope];
}

export function covers(d: DiscountTerms, customerId: string, line: LineScope): boolean {
  if (d.customerId !== null && d.customerId !== customerId) return false;
  if (d.productType !== line.productType) return false;
  if (d.scope === 'product_type') return true;
  if (d.productId !== line.productId) return false;
  if (d.scope === 'product') return true;
  if (d.variantId !== line.variantId) return false;
  if (d.scope === 'variant') return true;
  return d.priceId === line.priceId;
}

/** In force on `day` (YYYY-MM-DD; ISO days compare as strings). */
export function inForce(d: Pick<DiscountTerms, 'startsOn' | 'endsOn'>, day: string): boolean {
  return d.startsOn <= day && (d.endsOn === null || day <= d.endsOn);
}

/** The discount that applies to a line on a day, or null. */
export function chooseDiscount(candidates: readonly DiscountTerms[], customerId: string, line: LineScope, day: string): DiscountTerms | null {
  let best: DiscountTerms | null = null;
  for (const d of candidates) {
    if (!covers(d, customerId, line) || !inForce(d, day)) continue;
    if (best === null || specificity(d) > specificity(best)) best = d;
    else assert(specificity(d) !== specificity(best), `discounts ${best.id} and ${d.id} overlap at the same specificity`);
  }
  return best;
}

/**
 * The discount on a line of `quantity` units whose pre-tax gross is `grossMicros` (whole minor units), for a full period, or
 * `fraction` of one (a pro-rata add-on: [days remaining, days in period]). Never negative, never above the gross.
 */
export function discountMicros(
  terms: Pick<DiscountTerms, 'kind' | 'percentBps' | 'amountMicros'>, grossMicros: bigint, quantity: number, currency: Currency,
  fraction: readonly [number, number] = [1, 1],
): bigint {
  assert(grossMicros >= 0n, 'a gross is not negative');
  let d: bigint;
  if (terms.kind === 'percent') {
    assert(terms.percentBps !== null && terms.percentBps > 0 && terms.percentBps <= 10_000, 'percent within 0-100%');
    d = applyBps(grossMicros, terms.percentBps, currency);
  } else {
    assert(terms.amountMicros !== null && terms.amountMicros > 0n, 'a fixed amount is positive');
    d = roundToMinorUnit(terms.amountMicros * BigInt(quantity), currency, BigInt(fraction[0]), BigInt(fraction[1]));
  }
  return d > grossMicros ? grossMicros : d;
}
