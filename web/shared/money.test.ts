import { describe, expect, it } from 'vitest';
import { currencyDecimals, sumsByCurrency } from './money.ts';

describe('headline sums', () => {
  const row = (amount: string, currency: string) => ({ amount, currency });
  const same = (r: { amount: string; currency: string }) => r;

  it('adds exactly per currency, in alphabetical order, with the minor unit of each', () => {
    // 0.1 + 0.2 as floats would be 0.30000000000000004; as micros it is 0.30.
    expect(sumsByCurrency([row('0.10', 'SGD'), row('0.20', 'SGD'), row('1234.5', 'SGD')], same)).toBe('SGD 1,234.80');
    expect(sumsByCurrency([row('20.00', 'MYR'), row('300000', 'VND'), row('1.00', 'AUD'), row('5.25', 'MYR')], same)).toBe('AUD 1.00 · MYR 25.25 · VND 300,000');
    // A sub-cent part is kept, never dropped.
    expect(sumsByCurrency([row('0.205', 'SGD')], same)).toBe('SGD 0.205');
  });

  it('says None when there is nothing to add (not a 0.00 of no currency)', () => {
    expect(sumsByCurrency([], same)).toBe('None');
  });

  it('takes each currency\'s minor unit from the server\'s table', () => {
    expect(['VND', 'JPY', 'KRW', 'SGD', 'MYR', 'XYZ'].map(currencyDecimals)).toEqual([0, 0, 0, 2, 2, 2]);
  });
});
