import { describe, expect, it } from 'vitest';
import { quoteOf, type ChargeLine } from './pricing.ts';

const line = (cents: number, taxable = true): ChargeLine => ({
  kind: 'add_on', description: 'x', amountMicros: BigInt(cents) * 10_000n, costMicros: 0n, taxable, priceId: 'prc_x', quantity: 1,
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
