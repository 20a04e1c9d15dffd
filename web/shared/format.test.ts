import { afterAll, describe, expect, it } from 'vitest';

// The reader is in New York (UTC-5 in December): the formatters take the time zone when the module loads.
const zoneBefore = process.env.TZ;
process.env.TZ = 'America/New_York';
const { formatDate, formatDateTime, formatPeriod } = await import('./format.ts');
afterAll(() => {
  if (zoneBefore === undefined) delete process.env.TZ;
  else process.env.TZ = zoneBefore;
});

describe('formatDate', () => {
  it('shows a calendar day as that day, west of UTC too', () => {
    expect(formatDate('2026-12-01')).toBe('1 Dec 2026');
    expect(formatDate('2027-01-31')).toBe('31 Jan 2027');
  });

  it('shows a timestamp as the reader’s local day', () => {
    // 03:00 UTC on 1 December is still 30 November, 22:00, in New York.
    expect(formatDate('2026-12-01T03:00:00.000Z')).toBe('30 Nov 2026');
    expect(formatDateTime('2026-12-01T03:00:00.000Z')).toBe('30 Nov 2026, 22:00');
  });

  it('leaves what is not a date as it is, and shows a dash for nothing', () => {
    expect(formatDate('not a date')).toBe('not a date');
    expect(formatDate(null)).toBe('—');
    expect(formatDate(undefined)).toBe('—');
  });
});

describe('formatPeriod', () => {
  it('shows a period by its first and last day (the API gives the day after the last), west of UTC too', () => {
    expect(formatPeriod('2026-11-01', '2026-12-01')).toBe('1 Nov 2026 – 30 Nov 2026');
    expect(formatPeriod('2028-02-01', '2028-03-01')).toBe('1 Feb 2028 – 29 Feb 2028');
    expect(formatPeriod('2026-12-01', '2027-01-01')).toBe('1 Dec 2026 – 31 Dec 2026');
  });

  it('shows a dash without both ends, and an end that is not a calendar day as it is', () => {
    expect(formatPeriod(null, '2026-12-01')).toBe('—');
    expect(formatPeriod('2026-11-01', null)).toBe('—');
    expect(formatPeriod('2026-11-01', 'soon')).toBe('1 Nov 2026 – soon');
  });
});
