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

/** True for a real calendar date written `YYYY-MM-DD` (2026-02-30 is not one). */
export function isIsoDay(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return utcDay(d) === value;
}

/** The day `days` after `day` (negative: before). */
export function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return utcDay(d);
}
