import { describe, expect, it } from 'vitest';
import { refundBadge } from './refund-badge.ts';

const paid = (amountPaid: string, amountRefunded: string, amountCreditedToPoints: string, currency = 'SGD') =>
  refundBadge({ currency, amountPaid, amountRefunded, amountCreditedToPoints });

describe('the refund badge of an invoice credit notes gave money back on', () => {
  it('says nothing when nothing went back', () => {
    expect(paid('54.50', '0.00', '0.00')).toBeNull();
    expect(paid('0.00', '0.00', '0.00')).toBeNull();
  });

  it('says Refunded when everything paid went back, by refund, to points, or both', () => {
    expect(paid('40.00', '40.00', '0.00')).toEqual({ label: 'Refunded', title: '40.00 SGD refunded' });
    expect(paid('30.00', '0.00', '30.00')).toEqual({ label: 'Refunded', title: '30.00 SGD to points' });
    expect(paid('23.15', '18.15', '5.00')).toEqual({ label: 'Refunded', title: '18.15 SGD refunded, 5.00 SGD to points' });
  });

  it('says Partly refunded when less than was paid went back, to the micro', () => {
    expect(paid('50.00', '18.15', '5.00')).toEqual({ label: 'Partly refunded', title: '18.15 SGD refunded, 5.00 SGD to points' });
    expect(paid('40.00', '0.00', '15.00')).toEqual({ label: 'Partly refunded', title: '15.00 SGD to points' });
    expect(paid('0.30', '0.10', '0.19')?.label).toBe('Partly refunded');
    // 0.1 + 0.2 is 0.3 exactly here (never floating point).
    expect(paid('0.30', '0.10', '0.20')?.label).toBe('Refunded');
  });

  it('reads a currency without decimals as it comes', () => {
    expect(paid('500000', '500000', '0', 'VND')).toEqual({ label: 'Refunded', title: '500000 VND refunded' });
    expect(paid('500000', '0', '120000', 'VND')).toEqual({ label: 'Partly refunded', title: '120000 VND to points' });
  });
});
