import { lastDayOf } from '../../src/invoices/period-days.ts';

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' });

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

const calendarDay = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });

/**
 * A date: a calendar day (`2026-12-01`: a period's end, a policy's effective date) is shown as that day wherever the
 * reader is — parsed, it is midnight UTC, which west of UTC falls on the day before; a timestamp is shown as the
 * reader's local day.
 */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return /^\d{4}-\d{2}-\d{2}$/.test(iso) ? calendarDay.format(d) : dateOnly.format(d);
}

/**
 * A period as people read it, first and last day: the API gives its end as the day after (`2026-11-01` to `2026-12-01`
 * is November), and "1 Nov 2026 – 30 Nov 2026" is shown, as the PDF prints it. Calendar days only (`YYYY-MM-DD`).
 */
export function formatPeriod(start: string | null | undefined, endExclusive: string | null | undefined): string {
  if (!start || !endExclusive) return '—';
  return `${formatDate(start)} – ${formatDate(lastDayOf(endExclusive) ?? endExclusive)}`;
}

const timeOnly = new Intl.DateTimeFormat('en-GB', { timeStyle: 'medium' });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : timeOnly.format(d);
}

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

export function formatRelative(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const seconds = Math.round((d.getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  if (abs < 86400 * 30) return rtf.format(Math.round(seconds / 86400), 'day');
  return formatDate(iso);
}

export function titleCase(s: string): string {
  return s.replaceAll('_', ' ').replace(/^\w/, (c) => c.toUpperCase());
}

/** An audit action's code as words, where no catalogue names it: `auth.signed_in` -> "Auth signed in". */
export function humanAction(action: string): string {
  return titleCase(action.replaceAll('.', ' ').trim());
}
