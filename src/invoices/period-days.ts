/**
 * A period's last day. Periods are stored and sent as [start, end): a month is `2026-11-01` to `2026-12-01`, and people
 * read it as 1 to 30 November. The screen and the PDF both show the last day from here. No dependencies: the web app
 * imports it too.
 */
export function lastDayOf(endExclusive: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(endExclusive)) return null;
  const day = new Date(`${endExclusive}T00:00:00Z`);
  if (Number.isNaN(day.getTime())) return null;
  day.setUTCDate(day.getUTCDate() - 1);
  return day.toISOString().slice(0, 10);
}
