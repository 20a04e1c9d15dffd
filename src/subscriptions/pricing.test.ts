import { describe, expect, it } from 'vitest';
import { invoiceUnits, quoteOf, type ChargeLine } from './pricing.ts';

const line = (cents: number, taxable = true): ChargeLine => ({
  kind: 'add_on', description: 'x', amountMicros: BigInt(cents) * 10_000n, costMicros: 0n, taxable, taxCategory: taxable ? 'standard' : 'exempt',
  priceId: 'prc_x', productId: 'prd_x', variantId: 'var_x', quantity: 1, unitPriceMicros: BigInt(cents) * 10_000n,
});

describe('quoteOf', () => {
  it('taxes once and spreads the tax so the line shares add up to it, none negative (four lines of 0.06 at 9%: tax 0.02)', () => {
    const q = quoteOf('SGD', [line(6), line(6), line(6), line(6)], 900);
    expect(q.taxMicros).toBe(20_000n);
    expect(q.lineTaxMicros.reduce((a, b) => a + b, 0n)).toBe(20_000n);
    expect(q.lineTaxMicros.every((t) => t >= 0n && t % 10_000n === 0n)).toBe(true);
  });

  it('leaves untaxed lines at zero and gives the taxed ones all of the tax', () => {
    const q = quoteOf('SGD', [line(50_00), line(10_00, false), line(3_33)], 900);
    expect(q.taxMicros).toBe(4_800_000n);
    expect(q.lineTaxMicros[1]).toBe(0n);
    expect(q.lineTaxMicros[0]! + q.lineTaxMicros[2]!).toBe(4_800_000n);
    expect(q.totalMicros).toBe(63_330_000n + 4_800_000n);
  });
});

describe('invoiceUnits: what an invoice line shows, unit x quantity exactly its gross', () => {
  const units = (amount: bigint, quantity: number, unitPrice: bigint, discount = 0n): ChargeLine => ({
    kind: 'add_on', description: 'x', amountMicros: amount - discount, ...(discount > 0n ? { discountMicros: discount, discountId: 'dsc_x' } : {}), costMicros: 0n,
    taxable: true, taxCategory: 'standard', priceId: 'prc_x', productId: 'prd_x', variantId: 'var_x', quantity, unitPriceMicros: unitPrice,
  });

  it('a full period: the units at the catalog price, a discount left to its own column', () => {
    expect(invoiceUnits(units(30_000_000n, 3, 10_000_000n))).toEqual({ quantity: 3, unitAmountMicros: 10_000_000n });
    expect(invoiceUnits(units(30_000_000n, 3, 10_000_000n, 3_000_000n))).toEqual({ quantity: 3, unitAmountMicros: 10_000_000n });
  });

  it('pro rata: the units at the pro-rated unit price when it divides exactly (to the micro), else 1 at the whole amount', () => {
    // 3 x 10.00 for 15 of 30 days = 15.00: 3 at 5.00.
    expect(invoiceUnits(units(15_000_000n, 3, 10_000_000n))).toEqual({ quantity: 3, unitAmountMicros: 5_000_000n });
    // 2 x 10.00 for 15 of 29 days = 10.34 (rounded once): 2 at 5.17.
    expect(invoiceUnits(units(10_340_000n, 2, 10_000_000n))).toEqual({ quantity: 2, unitAmountMicros: 5_170_000n });
    // 3 x 10.00 for 10 of 31 days = 9.68: no unit price x 3 gives it.
    expect(invoiceUnits(units(9_680_000n, 3, 10_000_000n))).toEqual({ quantity: 1, unitAmountMicros: 9_680_000n });
    for (const [amount, q] of [[9_680_000n, 3], [10_340_000n, 2], [1_010_000n, 7]] as const) {
      const u = invoiceUnits(units(amount, q, 10_000_000n));
      expect(u.unitAmountMicros * BigInt(u.quantity)).toBe(amount);
    }
  });
});
