import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatDecimal, MICROS_PER_UNIT, microsPerMinorUnit, parseDecimal, type Currency } from '../money/money.ts';
import { computeInvoiceTotals, displayQuantity, lineGrossMicros, parseQuantity, spreadTax, taxRateBpsFor, type TotalsLineInput } from './invoice-totals.ts';

const sgd = (s: string) => parseDecimal(s, 'SGD', 6)!;
const vnd = (s: string) => parseDecimal(s, 'VND', 6)!;
const line = (quantity: string, unit: bigint, discount = 0n, taxCategory: TotalsLineInput['taxCategory'] = 'standard'): TotalsLineInput =>
  ({ quantity, unitAmountMicros: unit, discountMicros: discount, taxCategory });
const show = (m: bigint, c: Currency = 'SGD') => formatDecimal(m, c);

describe('line gross: unit price x quantity, rounded once', () => {
  it('rounds awkward quantities and six-decimal prices half away from zero, once', () => {
    expect(show(lineGrossMicros('SGD', '1.5', sgd('12.345')))).toBe('18.52'); // 18.5175
    expect(show(lineGrossMicros('SGD', '0.333', sgd('10')))).toBe('3.33'); // 3.33
    expect(show(lineGrossMicros('SGD', '0.333', sgd('0.015')))).toBe('0.00'); // 0.004995
    expect(show(lineGrossMicros('SGD', '7', sgd('0.205445')))).toBe('1.44'); // 1.438115
    expect(show(lineGrossMicros('SGD', '0.000001', sgd('5000')))).toBe('0.01'); // 0.005 -> half up
    expect(show(lineGrossMicros('SGD', '0.000001', sgd('4999.99')))).toBe('0.00'); // 0.00499999
    expect(show(lineGrossMicros('SGD', '3', sgd('0.335')))).toBe('1.01'); // 1.005 exactly -> 1.01
    expect(show(lineGrossMicros('VND', '1.5', vnd('33333')), 'VND')).toBe('50000'); // 49999.5 -> 50000
    expect(show(lineGrossMicros('VND', '0.333', vnd('1000')), 'VND')).toBe('333');
    expect(show(lineGrossMicros('SGD', '1000000', sgd('999999.999999')))).toBe('999999999999.00');
  });

  it('never rounds per unit then multiplies (which would drift)', () => {
    // 0.005 x 3: per-unit rounding would give 0.01 x 3 = 0.03; exact is 0.015 -> 0.02.
    expect(show(lineGrossMicros('SGD', '3', sgd('0.005')))).toBe('0.02');
  });

  it('quantities: parsed to millionths, shown without trailing zeros', () => {
    expect(parseQuantity('1')).toBe(1_000_000n);
    expect(parseQuantity('0.000001')).toBe(1n);
    expect(parseQuantity('1.0000001')).toBeNull();
    expect(parseQuantity('-1')).toBeNull();
    expect(parseQuantity('1e3')).toBeNull();
    expect(displayQuantity('1.500000')).toBe('1.5');
    expect(displayQuantity('2.000000')).toBe('2');
    expect(displayQuantity('0.000001')).toBe('0.000001');
    expect(displayQuantity('1000000')).toBe('1000000');
  });
});

describe('invoice totals', () => {
  it('9% GST on one line: the worked example of the contract', () => {
    const t = computeInvoiceTotals('SGD', [line('1', sgd('50.00'))], 900);
    expect([show(t.subtotalMicros), show(t.taxMicros), show(t.totalMicros)]).toEqual(['50.00', '4.50', '54.50']);
    expect(t.lines[0]!.taxRateBps).toBe(900);
    expect(show(t.lines[0]!.taxMicros)).toBe('4.50');
  });

  it('tax is rounded once on the invoice, not per line, and spread so the lines add up', () => {
    // Three lines of 0.05 at 9%: per line 0.0045 -> 0.00 each (0.00 total); once on 0.15 -> 0.0135 -> 0.01.
    const t = computeInvoiceTotals('SGD', [line('1', sgd('0.05')), line('1', sgd('0.05')), line('1', sgd('0.05'))], 900);
    expect(show(t.taxMicros)).toBe('0.01');
    expect(t.lines.map((l) => show(l.taxMicros))).toEqual(['0.01', '0.00', '0.00']);
    expect(show(t.totalMicros)).toBe('0.16');
  });

  it('a mix of awkward quantities, discounts and tax categories', () => {
    const t = computeInvoiceTotals('SGD', [
      line('1.5', sgd('12.345'), sgd('0.52')), // gross 18.52, net 18.00
      line('0.333', sgd('10'), 0n, 'zero_rated'), // 3.33, no tax
      line('7', sgd('0.205445')), // 1.44
      line('2', sgd('100'), sgd('200'), 'standard'), // 200.00 fully discounted: net 0
      line('1', sgd('9.99'), 0n, 'exempt'),
    ], 825);
    expect(t.lines.map((l) => show(l.grossMicros))).toEqual(['18.52', '3.33', '1.44', '200.00', '9.99']);
    expect(t.lines.map((l) => show(l.amountMicros))).toEqual(['18.00', '3.33', '1.44', '0.00', '9.99']);
    expect(t.lines.map((l) => l.taxRateBps)).toEqual([825, 0, 825, 825, 0]);
    expect(show(t.grossMicros)).toBe('233.28');
    expect(show(t.discountMicros)).toBe('200.52');
    expect(show(t.subtotalMicros)).toBe('32.76');
    expect(show(t.taxableMicros)).toBe('19.44');
    expect(show(t.taxMicros)).toBe('1.60'); // 19.44 x 8.25% = 1.6038
    expect(t.lines.map((l) => show(l.taxMicros))).toEqual(['1.48', '0.00', '0.12', '0.00', '0.00']);
    expect(show(t.totalMicros)).toBe('34.36');
  });

  it('rates of 0, 1 basis point, 7%, 99.99% and 100%', () => {
    const lines = [line('3', sgd('33.33')), line('0.5', sgd('0.07'))]; // 99.99 + 0.04 (0.035 -> 0.04)
    const tax = (bps: number) => show(computeInvoiceTotals('SGD', lines, bps).taxMicros);
    expect(tax(0)).toBe('0.00');
    expect(tax(1)).toBe('0.01'); // 0.010003
    expect(tax(700)).toBe('7.00'); // 7.0021
    expect(tax(9999)).toBe('100.02'); // 100.019997
    expect(tax(10000)).toBe('100.03');
  });

  it('VND has no minor unit: every figure is whole dong', () => {
    const t = computeInvoiceTotals('VND', [line('1.5', vnd('33333')), line('0.333', vnd('1001')), line('7', vnd('12345.678901'))], 1000);
    expect(t.lines.map((l) => show(l.grossMicros, 'VND'))).toEqual(['50000', '333', '86420']);
    expect(show(t.taxMicros, 'VND')).toBe('13675'); // 136753 x 10% = 13675.3
    expect(t.lines.reduce((s, l) => s + l.taxMicros, 0n)).toBe(t.taxMicros);
    for (const l of t.lines) expect(l.taxMicros % MICROS_PER_UNIT).toBe(0n);
  });

  it('many equal small lines: the leftover units go one each, never negative (largest remainder)', () => {
    // Five lines of 1.00 at 0.6%: tax 0.03; exact shares 0.006 each. Rounding each share would give 0.01 x 4 = 0.04 > 0.03.
    const t = computeInvoiceTotals('SGD', Array.from({ length: 5 }, () => line('1', sgd('1.00'))), 60);
    expect(show(t.taxMicros)).toBe('0.03');
    expect(t.lines.map((l) => show(l.taxMicros))).toEqual(['0.01', '0.01', '0.01', '0.00', '0.00']);
    const many = computeInvoiceTotals('SGD', Array.from({ length: 200 }, (_, i) => line(i % 3 === 0 ? '0.333' : '1.5', sgd('0.07'))), 900);
    expect(many.lines.reduce((s, l) => s + l.taxMicros, 0n)).toBe(many.taxMicros);
    expect(many.lines.every((l) => l.taxMicros >= 0n)).toBe(true);
  });

  it('the larger line wins a tie of remainders', () => {
    expect(spreadTax('SGD', sgd('0.01'), [sgd('1'), sgd('3')]).map((m) => show(m))).toEqual(['0.00', '0.01']);
    expect(spreadTax('SGD', sgd('0.01'), [sgd('2'), sgd('2')]).map((m) => show(m))).toEqual(['0.01', '0.00']);
    expect(spreadTax('SGD', 0n, [0n, 0n])).toEqual([0n, 0n]);
  });

  it('a Top-up invoice carries no tax (a deposit)', () => {
    expect(taxRateBpsFor('top_up', 900)).toBe(0);
    expect(taxRateBpsFor('purchase', 900)).toBe(900);
    const t = computeInvoiceTotals('SGD', [line('1', sgd('100'))], taxRateBpsFor('top_up', 900));
    expect([show(t.taxMicros), show(t.totalMicros), t.lines[0]!.taxRateBps]).toEqual(['0.00', '100.00', 0]);
  });

  it('refuses what the use cases must have rejected first', () => {
    expect(() => computeInvoiceTotals('SGD', [line('0', sgd('1'))], 900)).toThrow();
    expect(() => computeInvoiceTotals('SGD', [line('1', sgd('1'), sgd('1.01'))], 900)).toThrow();
    expect(() => computeInvoiceTotals('SGD', [line('1', sgd('1'), sgd('0.001'))], 900)).toThrow();
    expect(() => computeInvoiceTotals('SGD', [line('1', -1n)], 900)).toThrow();
    expect(() => computeInvoiceTotals('SGD', [line('1', sgd('1'))], 10_001)).toThrow();
  });
});

describe('invoice totals, property-based', () => {
  const currencies: Currency[] = ['SGD', 'VND', 'USD', 'JPY'];
  const quantity = fc.oneof(
    fc.constantFrom('1', '0.333', '1.5', '7', '0.000001', '3', '1000000'),
    fc.bigInt({ min: 1n, max: 10_000_000_000n }).map((m) => `${m / 1_000_000n}.${(m % 1_000_000n).toString().padStart(6, '0')}`),
  );
  const arbitraryInvoice = fc.record({
    currency: fc.constantFrom(...currencies),
    rate: fc.oneof(fc.constantFrom(900, 700, 825, 1, 9999, 0, 10_000), fc.integer({ min: 0, max: 10_000 })),
    lines: fc.array(fc.record({
      quantity,
      unit: fc.bigInt({ min: 0n, max: 100_000_000_000n }),
      discountShare: fc.integer({ min: 0, max: 100 }),
      taxCategory: fc.constantFrom<TotalsLineInput['taxCategory']>('standard', 'standard', 'zero_rated', 'exempt'),
    }), { minLength: 1, maxLength: 40 }),
  });

  it('line taxes sum to the tax; total = subtotal + tax; whole minor units; tax within half a unit of rate x taxable', () => {
    fc.assert(fc.property(arbitraryInvoice, ({ currency, rate, lines }) => {
      const unit = microsPerMinorUnit(currency);
      const inputs = lines.map((l) => {
        const gross = lineGrossMicros(currency, l.quantity, l.unit);
        const discount = ((gross * BigInt(l.discountShare)) / 100n / unit) * unit;
        return line(l.quantity, l.unit, discount, l.taxCategory);
      });
      const t = computeInvoiceTotals(currency, inputs, rate);
      expect(t.lines.reduce((s, l) => s + l.taxMicros, 0n)).toBe(t.taxMicros);
      expect(t.totalMicros).toBe(t.subtotalMicros + t.taxMicros);
      expect(t.subtotalMicros).toBe(t.lines.reduce((s, l) => s + l.amountMicros, 0n));
      expect(t.grossMicros - t.discountMicros).toBe(t.subtotalMicros);
      for (const figure of [t.subtotalMicros, t.taxMicros, t.totalMicros, t.discountMicros, ...t.lines.flatMap((l) => [l.grossMicros, l.amountMicros, l.taxMicros, l.discountMicros])]) {
        expect(figure % unit).toBe(0n);
        expect(figure >= 0n).toBe(true);
      }
      // |tax x 10000 - taxable x rate| <= half a minor unit x 10000
      const diff = t.taxMicros * 10_000n - t.taxableMicros * BigInt(rate);
      expect((diff < 0n ? -diff : diff) * 2n <= unit * 10_000n).toBe(true);
      // each line's tax is within one minor unit of its exact share; untaxed lines carry none
      for (const l of t.lines) {
        if (l.taxCategory !== 'standard' || t.taxableMicros === 0n) {
          expect(l.taxMicros).toBe(0n);
          continue;
        }
        const exactTimesBase = t.taxMicros * l.amountMicros;
        const gap = l.taxMicros * t.taxableMicros - exactTimesBase;
        expect((gap < 0n ? -gap : gap) < unit * t.taxableMicros).toBe(true);
      }
    }), { numRuns: 2000 });
  });
});
