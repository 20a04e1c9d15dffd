import { describe, expect, it } from 'vitest';
import { discountMessage } from './discount-messages.ts';

describe('discount messages in words', () => {
  it('names fields by their labels and days as people read them', () => {
    expect(discountMessage('not before startsOn (2027-02-01)')).toBe('Not before the start date (1 Feb 2027)');
    expect(discountMessage('not before today (2026-11-30)')).toBe('Not before today (30 Nov 2026)');
    expect(discountMessage(undefined)).toBeUndefined();
  });
});
