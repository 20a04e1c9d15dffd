import { describe, expect, it } from 'vitest';
import { PURCHASE_MAX_QUANTITY, PURCHASE_MIN_QUANTITY, quantityProblem, validQuantity } from './quantity.ts';

describe('a typed quantity', () => {
  it('from min to max, whole, has no problem', () => {
    for (const ok of [1, 2, 1000, '7', ' 12 ']) expect(quantityProblem(ok, 1, 1000)).toBeNull();
    expect(validQuantity(1000, 1, 1000)).toBe(1000);
    expect(validQuantity('7', 1, 1000)).toBe(7);
  });

  it('is never taken as 1 when empty, zero or negative: each is named', () => {
    expect(quantityProblem('', 1, 1000)).toBe('Enter a quantity of at least 1');
    expect(quantityProblem('  ', 1, 1000)).toBe('Enter a quantity of at least 1');
    expect(quantityProblem(0, 1, 1000)).toBe('At least 1');
    expect(quantityProblem(-3, 1, 1000)).toBe('At least 1');
    expect(validQuantity('', 1, 1000)).toBeNull();
    expect(validQuantity(0, 1, 1000)).toBeNull();
  });

  it('names a quantity above the maximum, and one that is not whole', () => {
    expect(quantityProblem(1001, 1, 1000)).toBe('At most 1000');
    expect(quantityProblem('99999999999999999999', 1, 1000)).toBe('At most 1000');
    expect(quantityProblem(2.5, 1, 1000)).toBe('Enter a whole number');
    expect(quantityProblem('1.', 1, 1000)).toBeNull(); // NumberInput's text while typing "1.5": still 1
    expect(quantityProblem('-', 1, 1000)).toBe('Enter a whole number');
    expect(quantityProblem('abc', 1, 1000)).toBe('Enter a whole number');
  });
});

describe('a purchase\'s quantity', () => {
  it('takes what the API takes, 1 to 10,000 (src/subscriptions/subscriptions.routes.ts), and names anything beyond', () => {
    expect([PURCHASE_MIN_QUANTITY, PURCHASE_MAX_QUANTITY]).toEqual([1, 10_000]);
    for (const ok of [1, 1000, 1001, 9999, 10_000, '10000']) expect(quantityProblem(ok, PURCHASE_MIN_QUANTITY, PURCHASE_MAX_QUANTITY)).toBeNull();
    expect(quantityProblem(10_001, PURCHASE_MIN_QUANTITY, PURCHASE_MAX_QUANTITY)).toBe('At most 10000');
    expect(quantityProblem(0, PURCHASE_MIN_QUANTITY, PURCHASE_MAX_QUANTITY)).toBe('At least 1');
  });
});
