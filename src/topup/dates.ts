/**
 * Calendar days in Folio's top-up rules are UTC days (`YYYY-MM-DD`): when a policy version takes effect, the day an
 * automatic top-up was made for. Partners have no time zone setting yet; when they do, these are the places to use it.
 * Date columns are read as text (`col::text`) so that no local-midnight Date ever stands for a day.
 */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC day of an instant. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * True for a real calendar date written `YYYY-MM-DD`, years 0001-9999 (2026-02-30 is not one, nor 0000-01-01: PostgreSQL
 * has no year 0). Read as an ISO text: `Date.UTC` takes the years 0-99 for 1900-1999.
 */
export function isIsoDay(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m || m[1] === '0000') return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && utcDay(d) === value;
}

/** The day `days` after `day` (negative: before). */
export function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return utcDay(d);
}
