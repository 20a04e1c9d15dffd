import { describe, expect, it } from 'vitest';
import { invoiceTotalsRows, pointsAvailableNote, taxLabel } from './invoice-types.ts';

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

describe('an invoice\'s totals, as its PDF words and orders them', () => {
  const lines = [{ taxRateBps: 900 }, { taxRateBps: 900 }];
  const shown = (rows: ReturnType<typeof invoiceTotalsRows>) => rows.map((r) => `${r.label} ${r.value}`);

  it('with a discount: before discounts, the discount, then the subtotal it leaves (the discount read once)', () => {
    expect(shown(invoiceTotalsRows({ currency: 'SGD', subtotal: '21.60', discount: '2.40', tax: '1.94', total: '23.54', lines }))).toEqual([
      'Before discounts SGD 24.00', 'Discount −SGD 2.40', 'Subtotal (excl. tax) SGD 21.60', 'Tax 9% SGD 1.94', 'Total SGD 23.54',
    ]);
  });

  it('without one: the subtotal, tax and total only', () => {
    expect(shown(invoiceTotalsRows({ currency: 'VND', subtotal: '100000', discount: '0', tax: '9000', total: '109000', lines }))).toEqual([
      'Subtotal (excl. tax) VND 100,000', 'Tax 9% VND 9,000', 'Total VND 109,000',
    ]);
  });

  it('names the tax rate only when every taxed line has the same one', () => {
    expect(taxLabel([{ taxRateBps: 825 }, { taxRateBps: 0 }])).toBe('Tax 8.25%');
    expect(taxLabel([{ taxRateBps: 900 }, { taxRateBps: 700 }])).toBe('Tax');
    expect(taxLabel([])).toBe('Tax');
  });
});
