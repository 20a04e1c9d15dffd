import { afterAll, describe, expect, it } from 'vitest';

// The reader is in New York (UTC-5 in December): the formatters take the time zone when the module loads.
const zoneBefore = process.env.TZ;
process.env.TZ = 'America/New_York';
const { formatDate, formatDateTime } = await import('./format.ts');
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
