import { describe, expect, it } from 'vitest';
import { pointsAvailableNote } from './invoice-types.ts';

const sgd = (pointsAvailable: string, pointsBalance: string, pointsOnHold = '0.00') => ({ currency: 'SGD', pointsAvailable, pointsBalance, pointsOnHold });

describe('the pay dialog says why fewer points can pay than the customer has', () => {
  it('sub-cent points: invoices are paid in whole cents', () => {
    expect(pointsAvailableNote(sgd('47.07', '47.0788'))).toBe('SGD 47.07 of your SGD 47.0788 points can pay this invoice (invoices are paid in whole cents).');
  });

  it('a hold, and both', () => {
    expect(pointsAvailableNote(sgd('40.00', '47.00', '7.00'))).toBe('SGD 40.00 of your SGD 47.00 points can pay this invoice (SGD 7.00 is on hold).');
    expect(pointsAvailableNote(sgd('40.07', '47.0788', '7.00'))).toBe('SGD 40.07 of your SGD 47.0788 points can pay this invoice (SGD 7.00 is on hold; invoices are paid in whole cents).');
    expect(pointsAvailableNote(sgd('0.00', '5.00', '5.00'))).toBe('SGD 0.00 of your SGD 5.00 points can pay this invoice (SGD 5.00 is on hold).');
  });

  it('nothing to say when all of them can pay, or there are none', () => {
    expect(pointsAvailableNote(sgd('30.00', '30.00'))).toBeNull();
    expect(pointsAvailableNote(sgd('0.00', '0.00'))).toBeNull();
    expect(pointsAvailableNote(sgd('0.00', '-3.20'))).toBeNull();
  });

  it('a currency without cents says its own whole units', () => {
    expect(pointsAvailableNote({ currency: 'VND', pointsAvailable: '50000', pointsBalance: '50000.25', pointsOnHold: '0' }))
      .toBe('VND 50,000 of your VND 50,000.25 points can pay this invoice (invoices are paid in whole VND).');
  });
});
