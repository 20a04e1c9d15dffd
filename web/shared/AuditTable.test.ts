import { describe, expect, it } from 'vitest';
import { summaryValue } from './AuditTable.tsx';

describe('a changed value in an audit event’s summary line', () => {
  it('lists a list’s items in words, never as JSON', () => {
    expect(summaryValue(['Sales', 'Support'])).toBe('Sales, Support');
    expect(summaryValue(['finance', 'invoice', 'customer'])).toBe('finance, invoice, customer');
    expect(summaryValue([])).toBe('(none)');
  });

  it('words the other values as the event’s details do', () => {
    expect(summaryValue('Front desk')).toBe('Front desk');
    expect(summaryValue(50)).toBe('50');
    expect(summaryValue(true)).toBe('Yes');
    expect(summaryValue(null)).toBe('—');
    expect(summaryValue(undefined)).toBe('—');
    expect(summaryValue({ amount: '12.50', currency: 'SGD' })).toBe('Amount: 12.50, Currency: SGD');
    expect(summaryValue([{ day: 'mon' }, { day: 'tue' }])).toBe('Day: mon, Day: tue');
  });
});
