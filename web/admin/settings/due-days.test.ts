import { describe, expect, it } from 'vitest';
import { dueDaysProblem } from './InvoicingSettings.tsx';

describe('due days', () => {
  it('takes a whole number from 0 to 365', () => {
    expect(dueDaysProblem(0)).toBeNull();
    expect(dueDaysProblem(30)).toBeNull();
    expect(dueDaysProblem(365)).toBeNull();
  });
  it('says what is wrong, never corrects it', () => {
    expect(dueDaysProblem(-1)).toBe('0 to 365 days');
    expect(dueDaysProblem(100000)).toBe('0 to 365 days');
    expect(dueDaysProblem('')).toBe('Enter the number of days, 0 to 365');
    expect(dueDaysProblem('-')).toBe('A whole number of days, 0 to 365');
  });
});
