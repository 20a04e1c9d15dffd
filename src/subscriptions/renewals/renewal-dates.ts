import { addDays, periodAfter, REACTIVATION_DAYS, RENEWAL_LEAD_DAYS } from '../periods.ts';
import type { BillingCycle } from '../../products/catalog.db-types.ts';

/**
 * Dates of the renewal run, on the subscriptions' own period rules (src/subscriptions/periods.ts: whole UTC days, periods
 * on the anchor):
 * - a subscription renews RENEWAL_LEAD_DAYS (7) before its expiry (`current_period_end`);
 * - the "renewal coming" notice goes out NOTICE_LEAD_DAYS (7) before that renewal;
 * - an expired subscription can be reactivated for REACTIVATION_DAYS (28) after its expiry, and is terminated automatically
 *   on the next day (day 29).
 */
export { addDays, REACTIVATION_DAYS, RENEWAL_LEAD_DAYS };
export const NOTICE_LEAD_DAYS = 7;

/** YYYY-MM-DD (UTC). */
export const utcDate = (at: Date): string => at.toISOString().slice(0, 10);

/** The period after the one ending at `currentEnd`, on the anchor. */
export function nextPeriod(anchor: Date, currentEnd: Date, cycle: string): { start: Date; end: Date } {
  return periodAfter(anchor, cycle as BillingCycle, currentEnd);
}
