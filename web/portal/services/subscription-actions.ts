import { formatDate } from '../../shared/format.ts';
import { formatMoney, toMicros } from '../../shared/money.ts';
import type { PortalSubscription } from './types.ts';

/** The organisation's status as the session gives it (ADR 0038: what each lets it do to its subscriptions). */
export type AccountStatus = 'active' | 'suspended' | 'closed';

export interface OfferedActions {
  /**
   * The auto-renew switch of a subscription that can still renew (active, or waiting for its first payment); null for the
   * others (an expired or terminated one renews nothing). `canChange` is false when the only change left is one the API
   * refuses: turning it on for a closed organisation (409), with `why` to say so.
   */
  autoRenew: { on: boolean; canChange: boolean; why: string | null } | null;
  terminate: boolean;
  reactivate: boolean;
}

/**
 * What an owner or admin is offered on one subscription, the way the API would answer it (a member or guest is offered
 * nothing: the routes are for owners and admins). Turning auto-renew off and terminating stay open to a closed or
 * suspended organisation; turning auto-renew on is refused a closed one only, and reactivation (a sale) both (ADR 0038).
 * Reactivation is offered up to the last day the list gives (`reactivatableUntil`, a UTC day, compared with `today`).
 */
export function offeredActions(s: PortalSubscription, account: AccountStatus, today: string): OfferedActions {
  const renews = s.status === 'active' || s.status === 'pending_payment';
  const closed = account === 'closed';
  return {
    autoRenew: renews
      ? { on: s.autoRenew, canChange: s.autoRenew || !closed, why: !s.autoRenew && closed ? 'The account is closed: its subscriptions no longer renew.' : null }
      : null,
    terminate: s.status === 'active' || s.status === 'pending_payment' || s.status === 'expired',
    reactivate: s.status === 'expired' && account === 'active' && s.reactivatableUntil !== null && today <= s.reactivatableUntil,
  };
}

/**
 * What terminating does, said before it is done: the rule in words, beside the amount the server quotes for today
 * (`quoteSentence`; the refund is the server's to compute, ADR 0010).
 */
export function terminationTerms(s: PortalSubscription): string[] {
  if (s.status === 'pending_payment') {
    return ['It is cancelled now: its unpaid Purchase invoice is voided, so nothing is owed and nothing is refunded.'];
  }
  if (s.status === 'expired') {
    return [
      `It expired on ${formatDate(s.currentPeriodEnd)}; terminating it ends it for good, so it can no longer be reactivated.`,
      'Its period is over: nothing is refunded.',
    ];
  }
  const refund = s.cycle === 'monthly'
    ? 'Within 14 days of its activation, last renewal or reactivation, what was paid for the current period (price, activation fee and tax) is refunded in full to your points. After that nothing is refunded: a monthly period has no whole month left.'
    : 'Within 14 days of its activation, last renewal or reactivation, what was paid for the current period (price, activation fee and tax) is refunded in full to your points. After that, the whole months left until it would have expired are refunded (their price and its tax; activation fees are not).';
  return [
    `It ends now, ${s.currentPeriodEnd ? `before its period ends on ${formatDate(s.currentPeriodEnd)}, ` : ''}and can no longer be renewed or reactivated.`,
    refund,
    'What it gives back is worked out as of now (above), and then shows in your points’ transactions.',
  ];
}

/** What termination did, from the subscription the API answered (`after`) and its status before (`before`). */
export function terminationOutcome(before: PortalSubscription['status'], after: PortalSubscription): string {
  const total = after.refund ? toMicros(after.refund.total) : null;
  if (after.refund && total !== null && total > 0n) {
    const tax = toMicros(after.refund.tax);
    return `${formatMoney(after.refund.total, after.currency)} was refunded to your points${tax !== null && tax > 0n ? ` (tax ${formatMoney(after.refund.tax, after.currency)} included)` : ''}.`;
  }
  if (before === 'pending_payment') return 'Its unpaid invoice was voided: nothing is owed.';
  if (before === 'expired') return 'Its period had ended: nothing was refunded.';
  return 'Nothing was refunded.';
}

/** Today as a UTC day (`YYYY-MM-DD`), the days the API speaks in. */
export function utcToday(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}
