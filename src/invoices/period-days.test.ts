import { describe, expect, it } from 'vitest';
import { lastDayOf } from './period-days.ts';

describe('lastDayOf', () => {
  it('is the day before the end, over month, year and leap-day ends', () => {
    expect(lastDayOf('2026-12-01')).toBe('2026-11-30');
    expect(lastDayOf('2027-01-01')).toBe('2026-12-31');
    expect(lastDayOf('2028-03-01')).toBe('2028-02-29');
    expect(lastDayOf('2027-03-01')).toBe('2027-02-28');
  });

  it('is null for what is not a calendar day', () => {
    expect(lastDayOf('soon')).toBeNull();
    expect(lastDayOf('2026-12-01T00:00:00Z')).toBeNull();
    expect(lastDayOf('2026-13-45')).toBeNull();
  });
});
