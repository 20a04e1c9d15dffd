import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyBps, formatDecimal, moneyText, parseAmount, parseDecimal, roundToMinorUnit, CURRENCIES, CURRENCY_CODES, type Currency } from './money.ts';
import { DomainError } from '../platform/errors.ts';

describe('money', () => {
  it('parses decimal strings exactly into micros', () => {
    expect(parseDecimal('12.50', 'SGD')).toBe(12_500_000n);
    expect(parseDecimal('-0.20544', 'SGD', 6)).toBe(-205_440n);
    expect(parseDecimal('300000', 'VND')).toBe(300_000_000_000n);
  });

  it('refuses more decimals than allowed, floats in disguise and junk', () => {
    expect(parseDecimal('0.205', 'SGD')).toBeNull();
    expect(parseDecimal('1.5', 'VND')).toBeNull();
    expect(parseDecimal('1.0000001', 'SGD', 6)).toBeNull();
    for (const bad of ['', '1e3', '0x10', '1,000', ' . ', 'NaN', '--1', '1.', '.5', '1234567890123456']) {
      expect(parseDecimal(bad, 'SGD'), bad).toBeNull();
    }
  });

  it('is strict: no surrounding whitespace, sign "+", exponent, bare point or negative zero; negatives otherwise kept for the caller to judge', () => {
    for (const bad of [' 12.50', '12.50 ', '\t12.50', '12.50\n', '-0', '-0.00', '-0.000000', '+5', '1e3', '.5', '5.', '- 5', '−5']) {
      expect(parseDecimal(bad, 'SGD', 6), JSON.stringify(bad)).toBeNull();
      expect(() => parseAmount(bad, 'SGD', 'lines.2.amount'), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'validation_failed', errors: [expect.objectContaining({ path: 'lines.2.amount' })] }));
    }
    expect(parseDecimal('-0.00', 'SGD')).toBeNull();
    expect(parseDecimal('12.5', 'SGD')).toBe(12_500_000n);
    expect(parseDecimal('0.20544', 'SGD', 6)).toBe(205_440n);
    expect(parseDecimal('-3.00', 'SGD')).toBe(-3_000_000n);
    expect(parseDecimal('0', 'SGD')).toBe(0n);
    expect(parseDecimal('0.00', 'SGD')).toBe(0n);
    expect(parseDecimal('-0.01', 'SGD')).toBe(-10_000n);
    expect(parseDecimal('-0.000001', 'SGD', 6)).toBe(-1n);
  });

  it('names what is wrong with a refused amount: a number with too many decimals or digits is a rule (422), anything else is not a decimal (400)', () => {
    const refusalOf = (value: string, currency: Currency = 'SGD') => {
      try {
        parseAmount(value, currency, 'amount');
      } catch (err) {
        expect(err).toBeInstanceOf(DomainError);
        return { status: (err as DomainError).status, code: (err as DomainError).code, errors: (err as DomainError).errors };
      }
      throw new Error(`${value} was taken`);
    };
    const rule = (message: string) => ({ status: 422, code: 'rule_violation', errors: [{ path: 'amount', message }] });
    const malformed = (decimals: number) => ({ status: 400, code: 'validation_failed', errors: [{ path: 'amount', message: `a decimal string with at most ${decimals} decimals` }] });
    expect(parseAmount('999999999999999.99', 'SGD', 'amount')).toBe(999_999_999_999_999_990_000n);
    for (const large of ['1234567890123456', '99999999999999999999', '-1234567890123456.5', '1234567890123456.00']) {
      expect(refusalOf(large), large).toEqual(rule('too large: at most 15 digits before the decimal point'));
    }
    // Too many decimals says so, however many digits come before them: a number, against the currency's rule.
    for (const over of ['1234567890123456.001', '0.205', '-0.205', '12.5000000']) {
      expect(refusalOf(over), over).toEqual(rule('at most 2 decimals for SGD'));
    }
    // Junk is not a decimal string at all (nor is negative zero, however written).
    for (const bad of ['1e3', 'ten', '1.', '.5', '+1', '1,000', ' 1', '-0', '-0.000']) {
      expect(refusalOf(bad), bad).toEqual(malformed(2));
    }
    expect(refusalOf('1234567890123456', 'VND')).toEqual(rule('too large: at most 15 digits before the decimal point'));
    expect(refusalOf('12.5', 'VND')).toEqual(rule('no decimals for VND'));
    // Six decimals where a context allows them (rates, call charges): the seventh is the rule's.
    expect(() => parseAmount('0.1234567', 'SGD', 'rate', 6)).toThrow(expect.objectContaining({ code: 'rule_violation', errors: [{ path: 'rate', message: 'at most 6 decimals' }] }));
    expect(() => parseAmount('0.12x', 'SGD', 'rate', 6)).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });

  it('formats micros back to the string it came from', () => {
    expect(formatDecimal(12_500_000n, 'SGD')).toBe('12.50');
    expect(formatDecimal(-205_440n, 'SGD', 6)).toBe('-0.205440');
    expect(formatDecimal(-205_440n, 'SGD')).toBe('-0.20544');
    expect(formatDecimal(300_000_000_000n, 'VND')).toBe('300000');
  });

  it('writes amounts for people with every significant decimal and the currency', () => {
    expect(moneyText(12_500_000n, 'SGD')).toBe('12.50 SGD');
    expect(moneyText(-205_440n, 'SGD')).toBe('-0.20544 SGD');
    expect(moneyText(300_000_000_000n, 'VND')).toBe('300000 VND');
    // A code the platform does not know keeps what is stored, with two decimals at least.
    expect(moneyText(1_234_567n, 'XTS')).toBe('1.234567 XTS');
    expect(moneyText(5_000_000n, 'XTS')).toBe('5.00 XTS');
  });

  it('formats any amount, currency and number of decimals as the plain string algorithm does', () => {
    // The straightforward version (string slices and a regex), kept here as the oracle for the faster one.
    const reference = (micros: bigint, decimals: number): string => {
      const negative = micros < 0n;
      const abs = negative ? -micros : micros;
      const fraction = (abs % 1_000_000n).toString().padStart(6, '0');
      if (fraction.slice(decimals).replace(/0+$/, '') !== '') return `${negative ? '-' : ''}${abs / 1_000_000n}.${fraction.replace(/0+$/, '')}`;
      return `${negative ? '-' : ''}${abs / 1_000_000n}${decimals > 0 ? `.${fraction.slice(0, decimals)}` : ''}`;
    };
    const amounts = fc.oneof(
      fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
      fc.bigInt({ min: -(10n ** 7n), max: 10n ** 7n }),
      fc.tuple(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.constantFrom(1n, 10n, 100n, 1_000n, 10_000n, 100_000n, 1_000_000n)).map(([n, m]) => n * m),
    );
    fc.assert(
      fc.property(amounts, fc.constantFrom(...CURRENCY_CODES), fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }), (micros, currency, decimals) => {
        const places = decimals ?? CURRENCIES[currency];
        expect(formatDecimal(micros, currency, decimals)).toBe(reference(micros, places));
      }),
      { numRuns: 2_000 },
    );
  });

  it('round-trips any amount at six decimals', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), (micros) => {
        expect(parseDecimal(formatDecimal(micros, 'SGD', 6), 'SGD', 6)).toBe(micros);
      }),
    );
  });

  it('rounds half away from zero to the minor unit, in one place', () => {
    expect(roundToMinorUnit(1_005_000n, 'SGD')).toBe(1_010_000n);
    expect(roundToMinorUnit(1_004_999n, 'SGD')).toBe(1_000_000n);
    expect(roundToMinorUnit(-1_005_000n, 'SGD')).toBe(-1_010_000n);
    expect(roundToMinorUnit(500_000n, 'VND')).toBe(1_000_000n);
    expect(applyBps(50_000_000n, 900, 'SGD')).toBe(4_500_000n); // 9% GST on 50.00
    expect(applyBps(10_050_000n, 900, 'SGD')).toBe(900_000n); // 0.9045 -> 0.90
    expect(applyBps(10_060_000n, 900, 'SGD')).toBe(910_000n); // 0.9054 -> 0.91
  });

  it('rounding is within half a minor unit and idempotent', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.constantFrom<Currency>(...CURRENCY_CODES), (micros, currency) => {
        const r = roundToMinorUnit(micros, currency);
        const unit = 10n ** BigInt(6 - (currency === 'VND' || currency === 'JPY' || currency === 'KRW' ? 0 : 2));
        const diff = r > micros ? r - micros : micros - r;
        expect(diff * 2n <= unit).toBe(true);
        expect(roundToMinorUnit(r, currency)).toBe(r);
      }),
    );
  });
});
