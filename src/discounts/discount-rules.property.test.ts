import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isWholeMinorUnits, microsPerMinorUnit, type Currency } from '../money/money.ts';
import { chooseDiscount, covers, discountMicros, inForce, specificity, type DiscountTerms, type LineScope } from './discount-rules.ts';
import type { DiscountScope } from './discounts.db-types.ts';

/**
 * Property tests of the precedence rule and the discount amount (issue 8 §5): over random sets of discounts (random targets,
 * scopes, rates and periods, never two of the same target and scope on a common day, as the database guarantees) and random
 * purchase days, the chosen discount is the most specific one in force that covers the line, and the discounted price is
 * never negative.
 */
const CUSTOMERS = ['cus_a', 'cus_b'];
const TYPES = ['service', 'app_licence'] as const;
// A small catalog: 2 types x 2 products x 2 variants x 2 prices.
const CATALOG: LineScope[] = TYPES.flatMap((type) => [1, 2].flatMap((p) => [1, 2].flatMap((v) => [1, 2].map((c) => ({
  productType: type, productId: `prd_${type}${p}`, variantId: `var_${type}${p}${v}`, priceId: `prc_${type}${p}${v}${c}`,
})))));
const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);

const discountArb = fc.record({
  customer: fc.option(fc.constantFrom(...CUSTOMERS), { nil: null }),
  scope: fc.constantFrom<DiscountScope>('product_type', 'product', 'variant', 'price'),
  line: fc.constantFrom(...CATALOG),
  fixed: fc.boolean(),
  bps: fc.integer({ min: 1, max: 10_000 }),
  amountCents: fc.integer({ min: 1, max: 100_000 }),
  start: fc.integer({ min: 0, max: 60 }),
  length: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }),
});

type RawDiscount = typeof discountArb extends fc.Arbitrary<infer T> ? T : never;

function termsOf(r: RawDiscount, i: number): DiscountTerms {
  const fixed = r.fixed && r.scope === 'price';
  return {
    id: `dsc_${i}`, name: `d${i}`, customerId: r.customer, scope: r.scope, productType: r.line.productType,
    productId: r.scope === 'product_type' ? null : r.line.productId,
    variantId: r.scope === 'variant' || r.scope === 'price' ? r.line.variantId : null,
    priceId: r.scope === 'price' ? r.line.priceId : null,
    kind: fixed ? 'fixed' : 'percent', percentBps: fixed ? null : r.bps, amountMicros: fixed ? BigInt(r.amountCents) * 10_000n : null, currency: fixed ? 'SGD' : null,
    startsOn: day(r.start), endsOn: r.length === null ? null : day(r.start + r.length),
  };
}

const sameKey = (a: DiscountTerms, b: DiscountTerms) => a.customerId === b.customerId && a.scope === b.scope
  && (a.priceId ?? a.variantId ?? a.productId ?? a.productType) === (b.priceId ?? b.variantId ?? b.productId ?? b.productType);
const overlap = (a: DiscountTerms, b: DiscountTerms) => a.startsOn <= (b.endsOn ?? '9999-12-31') && b.startsOn <= (a.endsOn ?? '9999-12-31');

/** Keep the first of any two with the same target and scope on a common day (what the exclusion constraint does). */
function admissible(all: DiscountTerms[]): DiscountTerms[] {
  const kept: DiscountTerms[] = [];
  for (const d of all) if (!kept.some((k) => sameKey(k, d) && overlap(k, d))) kept.push(d);
  return kept;
}

describe('discount precedence (property)', () => {
  it('the chosen discount is the most specific in force that covers the line; none when none does', () => {
    fc.assert(fc.property(
      fc.array(discountArb, { maxLength: 30 }), fc.constantFrom(...CUSTOMERS), fc.constantFrom(...CATALOG), fc.integer({ min: 0, max: 120 }),
      (raw, customerId, line, n) => {
        const discounts = admissible(raw.map(termsOf));
        const today = day(n);
        const chosen = chooseDiscount(discounts, customerId, line, today);
        const applicable = discounts.filter((d) => covers(d, customerId, line) && inForce(d, today));
        if (applicable.length === 0) {
          expect(chosen).toBeNull();
          return;
        }
        expect(chosen).not.toBeNull();
        expect(applicable).toContain(chosen);
        for (const d of applicable) {
          expect(specificity(d)).toBeLessThanOrEqual(specificity(chosen!));
          if (d !== chosen) expect(specificity(d)).toBeLessThan(specificity(chosen!)); // unique winner
        }
        // One customer's discount beats any discount for every customer.
        if (applicable.some((d) => d.customerId === customerId)) expect(chosen!.customerId).toBe(customerId);
        // Never another customer's.
        expect(chosen!.customerId === null || chosen!.customerId === customerId).toBe(true);
      },
    ), { numRuns: 2000 });
  });

  it('the discounted price is never negative, never above the gross, always whole minor units', () => {
    fc.assert(fc.property(
      discountArb, fc.constantFrom<Currency>('SGD', 'VND', 'USD', 'JPY'), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 31 }), fc.integer({ min: 0, max: 31 }),
      (r, currency, unitMinor, quantity, days, remaining) => {
        const terms = termsOf({ ...r, scope: 'price' }, 0);
        const unit = microsPerMinorUnit(currency);
        const gross = BigInt(unitMinor) * unit * BigInt(quantity);
        const fraction: [number, number] = [Math.min(remaining, days), days];
        for (const f of [[1, 1] as const, fraction]) {
          const d = discountMicros(terms, gross, quantity, currency, f);
          expect(d).toBeGreaterThanOrEqual(0n);
          expect(d).toBeLessThanOrEqual(gross);
          expect(gross - d).toBeGreaterThanOrEqual(0n);
          expect(isWholeMinorUnits(d, currency)).toBe(true);
        }
        // 100% off is the whole gross, exactly.
        expect(discountMicros({ kind: 'percent', percentBps: 10_000, amountMicros: null }, gross, quantity, currency)).toBe(gross);
      },
    ), { numRuns: 2000 });
  });
});
