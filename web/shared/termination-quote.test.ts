import { describe, expect, it } from 'vitest';
import { quoteSentence, type TerminationQuote } from './termination-quote.ts';
describe('quoteSentence', () => {
  const q = (over: Partial<TerminationQuote> = {}): TerminationQuote => ({
    subscriptionId: 'sub_0000000000test', version: 3, currency: 'SGD', outcome: 'refund', invoiceNumber: null,
    refund: { rule: 'full', months: null, price: '30.00', tax: '2.70', total: '32.70', withheld: '0.00' }, ...over,
  });

  it('says the refund quoted, why, and its tax', () => {
    expect(quoteSentence(q())).toBe('You get SGD 32.70 back to your points, in full (tax SGD 2.70 included).');
    expect(quoteSentence(q({ refund: { rule: 'whole_months', months: 7, price: '70.00', tax: '0.00', total: '70.00', withheld: '0.00' } })))
      .toBe('You get SGD 70.00 back to your points, for 7 whole months left.');
    expect(quoteSentence(q({ refund: { rule: 'whole_months', months: 1, price: '10.00', tax: '0.90', total: '10.90', withheld: '0.00' } })))
      .toContain('for 1 whole month left');
  });

  it('says what credit notes already gave back, and a refund they took whole', () => {
    expect(quoteSentence(q({ refund: { rule: 'full', months: null, price: '20.83', tax: '1.87', total: '22.70', withheld: '10.00' } })))
      .toBe('You get SGD 22.70 back to your points, in full, less SGD 10.00 already credited to you (tax SGD 1.87 included).');
    expect(quoteSentence(q({ refund: { rule: 'full', months: null, price: '0.00', tax: '0.00', total: '0.00', withheld: '32.70' } })))
      .toBe('Nothing more is refunded: what it would give back was already credited to you.');
  });

  it('names the invoice a pending purchase voids, and says when nothing comes back', () => {
    expect(quoteSentence(q({ outcome: 'void_invoice', refund: null, invoiceNumber: 'PUR-000123' }))).toBe('Its unpaid invoice PUR-000123 is voided: nothing is owed and nothing is refunded.');
    expect(quoteSentence(q({ outcome: 'nothing', refund: null }))).toBe('Nothing is refunded.');
  });

  it('speaks of the customer to staff', () => {
    expect(quoteSentence(q(), 'customer')).toBe('The customer gets SGD 32.70 back to its points, in full (tax SGD 2.70 included).');
    expect(quoteSentence(q({ refund: { rule: 'full', months: null, price: '0.00', tax: '0.00', total: '0.00', withheld: '32.70' } }), 'customer'))
      .toBe('Nothing more is refunded: what it would give back was already credited to it.');
  });
});
