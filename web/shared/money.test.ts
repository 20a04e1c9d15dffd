import { describe, expect, it } from 'vitest';
import { amountInputProblem, commonDecimals, currencyDecimals, decimalsProblem, padDecimals, sumsByCurrency } from './money.ts';

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

describe('an amount typed to be charged', () => {
  it('is a positive amount with at most the currency\'s decimals', () => {
    expect(amountInputProblem('10.00', 'SGD')).toBeNull();
    expect(amountInputProblem(' 25 ', 'SGD')).toBeNull();
    expect(amountInputProblem('50000', 'VND')).toBeNull();
  });

  it('names more decimals than the currency has (never rounded into a total)', () => {
    expect(amountInputProblem('10.001', 'SGD')).toBe('At most 2 decimals for SGD');
    expect(amountInputProblem('10.0000001', 'SGD')).toBe('At most 2 decimals for SGD');
    expect(amountInputProblem('50000.5', 'VND')).toBe('Whole VND only, no decimals');
    // While typing, only that is said: "10." and "0" are on their way to an amount.
    expect(decimalsProblem('10.001', 'SGD')).toBe('At most 2 decimals for SGD');
    for (const typing of ['10.', '0', '10.00', '', 'abc']) expect(decimalsProblem(typing, 'SGD')).toBeNull();
  });

  it('asks for an amount when there is none, it is not a number, or it is not more than zero', () => {
    for (const bad of ['', 'abc', '1,000', '0', '0.00', '-5']) expect(amountInputProblem(bad, 'SGD')).toBe('Enter an amount, for example 50.00');
    expect(amountInputProblem('', 'SGD', '10.00')).toBe('Enter an amount, for example 10.00');
  });
});

describe('padDecimals and commonDecimals', () => {
  it('pads with zeros, never drops a digit', () => {
    expect(padDecimals('-0.327', 4)).toBe('-0.3270');
    expect(padDecimals('-0.0654', 4)).toBe('-0.0654');
    expect(padDecimals('18', 2)).toBe('18.00');
    expect(padDecimals('0.123456', 2)).toBe('0.123456');
    expect(padDecimals('1.50', 1)).toBe('1.50');
    expect(padDecimals('n/a', 2)).toBe('n/a');
  });
  it('takes the most decimals of the amounts, at least the currency minor unit', () => {
    expect(commonDecimals(['202.07', '0.791', '201.279'], 'SGD')).toBe(3);
    expect(commonDecimals(['40.50', '18.00'], 'SGD')).toBe(2);
    expect(commonDecimals(['18000'], 'VND')).toBe(0);
    expect(commonDecimals([], 'SGD')).toBe(2);
  });
});
