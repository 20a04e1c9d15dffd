import { describe, expect, it } from 'vitest';
import { auditValueLabel } from './value-labels.ts';

describe('audit values in the words of the forms', () => {
  it('labels a credit note’s reason, outcome, refund method and mode', () => {
    const label = auditValueLabel('credit_note.issued')!;
    expect(label('reason', 'service_issue')).toBe('Service issue');
    expect(label('outcome', 'reduce_due')).toBe('Reduce the amount due');
    expect(label('refundMethod', 'bank_transfer')).toBe('Bank transfer (recorded)');
    expect(label('mode', 'amount')).toBe('Custom amount');
    expect(label('total', '38.15')).toBeUndefined();
  });
  it('keeps a voided credit note’s typed reason as it is', () => {
    expect(auditValueLabel('credit_note.voided')!('reason', 'other')).toBeUndefined();
  });
  it('labels payment methods and statuses, and refunds of points', () => {
    expect(auditValueLabel('payment.recorded')!('method', 'giro')).toBe('GIRO');
    expect(auditValueLabel('payment.reversed')!('status', 'reversed')).toBe('Reversed');
    expect(auditValueLabel('points.taken_back')!('refundMethod', 'cheque')).toBe('Refunded by cheque');
  });
  it('leaves other events alone', () => {
    expect(auditValueLabel('customer.updated')).toBeUndefined();
  });
});
