import assert from 'node:assert/strict';
import type { BillingCycle } from '../products/catalog.db-types.ts';

/**
 * Subscription periods, in whole UTC days (migration 0021). A period is [start, end): `end` is the expiry, a UTC midnight.
 * Periods follow the anchor: period k = [anchor + k cycles, anchor + (k+1) cycles), the anchor's day of month clamped to
 * the month's length (anchor 31 Jan: 28 Feb, 31 Mar, 30 Apr ...), so a short month never shifts later periods.
 */
export const DAY_MS = 86_400_000;
/** Renewal runs this many days before expiry; the "next renewal" date shown. */
export const RENEWAL_LEAD_DAYS = 7;
/** An expired subscription can be reactivated until this many days after its expiry; on the next day it is terminated. */
export const REACTIVATION_DAYS = 28;
/** Termination within this many days of activation or of the last renewal refunds in full. */
export const FULL_REFUND_DAYS = 14;

export function monthsPerCycle(cycle: BillingCycle): number {
  return cycle === 'yearly' ? 12 : 1;
}

/** The UTC midnight starting the day of `at`. */
export function utcMidnight(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}

/** Whole days from `from` to `to` (both UTC midnights). */
export function daysBetween(from: Date, to: Date): number {
  const ms = to.getTime() - from.getTime();
  assert(ms % DAY_MS === 0, 'days between two UTC midnights');
  return ms / DAY_MS;
}

/** `day` + `months` calendar months, keeping `day`'s day of month (or the last day of a shorter month). */
export function addMonthsClamped(day: Date, months: number, dayOfMonth = day.getUTCDate()): Date {
  const y = day.getUTCFullYear();
  const m = day.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m, Math.min(dayOfMonth, lastDay)));
}

/** The k-th period boundary from the anchor (k = 0 is the anchor itself). */
export function anchorPoint(anchor: Date, cycle: BillingCycle, k: number): Date {
  return addMonthsClamped(anchor, k * monthsPerCycle(cycle), anchor.getUTCDate());
}

/** The index k of a boundary that lies on the anchor (asserted). */
export function boundaryIndex(anchor: Date, cycle: BillingCycle, boundary: Date): number {
  const months = (boundary.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (boundary.getUTCMonth() - anchor.getUTCMonth());
  const k = Math.round(months / monthsPerCycle(cycle));
  assert(anchorPoint(anchor, cycle, k).getTime() === boundary.getTime(), `${boundary.toISOString()} is not on the anchor ${anchor.toISOString()}`);
  return k;
}

export interface Period {
  start: Date;
  end: Date;
}

/** The first period of a subscription activated at `at`: it anchors on that UTC day. */
export function firstPeriod(at: Date, cycle: BillingCycle): Period & { anchor: Date } {
  const anchor = utcMidnight(at);
  return { anchor, start: anchor, end: anchorPoint(anchor, cycle, 1) };
}

/** The period that starts where `previousEnd` (a boundary on the anchor) ends: a renewal's or a reactivation's. */
export function periodAfter(anchor: Date, cycle: BillingCycle, previousEnd: Date): Period {
  const k = boundaryIndex(anchor, cycle, previousEnd);
  return { start: previousEnd, end: anchorPoint(anchor, cycle, k + 1) };
}

/** When the renewal of a period ending at `end` runs (and the "next renewal" date shown). */
export function renewalDueAt(end: Date): Date {
  return addDays(end, -RENEWAL_LEAD_DAYS);
}

/** The last moment an expired subscription can still be reactivated: the end of day 28 after expiry. */
export function reactivationDeadline(expiry: Date): Date {
  return addDays(expiry, REACTIVATION_DAYS);
}

/** Whole calendar months from the day `from` to `to` (day of month kept, clamped): 15 Mar -> 10 Jan = 9. */
export function wholeMonthsBetween(from: Date, to: Date): number {
  if (to <= from) return 0;
  let months = (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + (to.getUTCMonth() - from.getUTCMonth());
  while (months > 0 && addMonthsClamped(from, months) > to) months -= 1;
  return Math.max(0, months);
}

/** `YYYY-MM-DD` of a UTC midnight. */
export function isoDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}
