import { roundToMinorUnit, type Currency } from '../money/money.ts';
import type { BillingCycle } from '../products/catalog.db-types.ts';
import { addDays, daysBetween, FULL_REFUND_DAYS, monthsPerCycle, utcMidnight, wholeMonthsBetween } from './periods.ts';

/**
 * The refund of a subscription terminated on request (docs/adr/0010-subscription-refunds.md), as a pure function.
 * The charges considered are those of the CURRENT period: its period charge (purchase, renewal or reactivation) and the
 * pro rata add-on charges made during it.
 * - `full`: within 14 days of activation or of the last renewal (or reactivation): everything those charges took back
 *   into points — price, activation fee, tax; the whole cost goes back to the partner.
 * - `whole_months`: later: the remaining WHOLE months of the period, from today (or the period start if later) to the
 *   expiry, of the price part only (no activation fee): each charge refunds `its full-period price x months / months in
 *   the cycle` (a pro rata add-on charge counts at its full-period equivalent, never more than it took), summed exactly and
 *   rounded once. Tax is refunded in proportion (tax x refunded price / charged price incl. fees, rounded once), and so is
 *   the cost (cost x refunded price / charged price, rounded once). A monthly period has no whole month left after 14 days.
 */
export interface PeriodCharge {
  kind: 'purchase' | 'renewal' | 'reactivation' | 'add_on';
  periodStart: Date;
  periodEnd: Date;
  priceMicros: bigint;
  activationFeeMicros: bigint;
  taxMicros: bigint;
  costMicros: bigint;
}

export interface Refund {
  rule: 'full' | 'whole_months';
  /** Whole months refunded (rule whole_months). */
  months: number;
  priceMicros: bigint;
  taxMicros: bigint;
  costMicros: bigint;
}

interface Fraction {
  n: bigint;
  d: bigint;
}

function add(a: Fraction, b: Fraction): Fraction {
  return { n: a.n * b.d + b.n * a.d, d: a.d * b.d };
}

export function computeRefund(input: {
  currency: Currency;
  cycle: BillingCycle;
  now: Date;
  periodStart: Date;
  periodEnd: Date;
  /** Activation, the last renewal or the reactivation, whichever is latest. */
  lastChargedAt: Date;
  charges: readonly PeriodCharge[];
}): Refund {
  const charged = {
    price: input.charges.reduce((s, c) => s + c.priceMicros, 0n),
    fee: input.charges.reduce((s, c) => s + c.activationFeeMicros, 0n),
    tax: input.charges.reduce((s, c) => s + c.taxMicros, 0n),
    cost: input.charges.reduce((s, c) => s + c.costMicros, 0n),
  };
  if (input.now < addDays(input.lastChargedAt, FULL_REFUND_DAYS)) {
    return { rule: 'full', months: 0, priceMicros: charged.price + charged.fee, taxMicros: charged.tax, costMicros: charged.cost };
  }
  const today = utcMidnight(input.now);
  const from = today > input.periodStart ? today : input.periodStart;
  const months = wholeMonthsBetween(from, input.periodEnd);
  const cycleMonths = BigInt(monthsPerCycle(input.cycle));
  const daysInPeriod = BigInt(daysBetween(input.periodStart, input.periodEnd));
  let exact: Fraction = { n: 0n, d: 1n };
  for (const c of input.charges) {
    if (c.priceMicros === 0n || months === 0) continue;
    const covered = BigInt(daysBetween(c.periodStart, c.periodEnd));
    // Full-period equivalent x months / cycle months = price x daysInPeriod x months / (covered x cycle months), capped at the price.
    let term: Fraction = { n: c.priceMicros * daysInPeriod * BigInt(months), d: covered * cycleMonths };
    if (term.n > c.priceMicros * term.d) term = { n: c.priceMicros, d: 1n };
    exact = add(exact, term);
  }
  const price = roundToMinorUnit(exact.n, input.currency, 1n, exact.d);
  const taxBase = charged.price + charged.fee;
  const tax = taxBase === 0n ? 0n : roundToMinorUnit(charged.tax, input.currency, price, taxBase);
  const cost = charged.price === 0n ? 0n : roundToMinorUnit(charged.cost, input.currency, price, charged.price);
  return { rule: 'whole_months', months, priceMicros: price, taxMicros: tax, costMicros: cost };
}
