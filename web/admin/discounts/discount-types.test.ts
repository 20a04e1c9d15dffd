import { describe, expect, it } from 'vitest';
import { periodOf, rateOf } from './discount-types.ts';
import { historyLine } from './DiscountDetailPage.tsx';

describe('a discount’s period', () => {
  it('is written with its days as every other date of the app, not as the API’s ISO days', () => {
    expect(periodOf({ startsOn: '2026-12-07', endsOn: null })).toBe('From 7 Dec 2026, unlimited');
    expect(periodOf({ startsOn: '2026-12-07', endsOn: '2027-01-31' })).toBe('7 Dec 2026 – 31 Jan 2027');
  });
});

describe('a discount’s rate', () => {
  it('is a percentage, or an amount written as money is elsewhere', () => {
    expect(rateOf({ percentOff: '10', amountOff: null })).toBe('10% off');
    expect(rateOf({ percentOff: null, amountOff: { amount: '1500.00', currency: 'SGD' } })).toBe('SGD 1,500.00 off');
    expect(rateOf({ percentOff: null, amountOff: null })).toBe('—');
  });
});

describe('a line of a discount’s history', () => {
  it('names the field in words and writes its days and values as the page does', () => {
    expect(historyLine('startsOn', { after: '2026-12-07' })).toBe('Starts on: 7 Dec 2026');
    expect(historyLine('endsOn', { before: null, after: '2027-01-31' })).toBe('Ends on: unlimited → 31 Jan 2027');
    expect(historyLine('percentOff', { after: '10' })).toBe('Percent off: 10');
    expect(historyLine('name', { before: 'Old', after: 'New' })).toBe('Name: Old → New');
  });
});
