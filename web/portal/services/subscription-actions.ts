import { formatDate } from '../../shared/format.ts';
import { formatMoney, toMicros } from '../../shared/money.ts';
import { addOnActions } from '../../shared/add-ons.ts';
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
  /**
   * The renewal-by-card switch, for the same subscriptions as auto-renew. Turning it off is always offered; turning it on
   * is not to a closed organisation (as auto-renew), nor while the organisation is known to have no usable saved card
   * (`needsCard`: the API would answer 422 `saved_card_required`; the switch says where to save one instead).
   */
  renewByCard: { on: boolean; canChange: boolean; needsCard: boolean; why: string | null } | null;
  terminate: boolean;
  reactivate: boolean;
  /**
   * Add-ons of an active subscription inside its period: `add` one (a sale: an active organisation only), and change
   * their quantities: `any`, or `lower` only for a suspended or closed organisation (more units are a sale), null when
   * the subscription takes no add-on changes.
   */
  addOns: { add: boolean; change: 'any' | 'lower' | null };
}

/** Whether the organisation has a saved card renewal by card can use: `unknown` when the page cannot tell (Points hidden). */
export type CardState = 'usable' | 'none' | 'unknown';

/** Saved cards as `GET /api/v1/portal/saved-cards` lists them (those of the partner's gateway, not removed). */
export interface SavedCardSummary {
  expMonth: number;
  expYear: number;
}

/**
 * Whether one of the saved cards can pay a renewal: not expired, its expiry month this month or later (the rule of
 * update-subscription.ts, in UTC months). `null` cards (not read) are `unknown`.
 */
export function cardState(cards: readonly SavedCardSummary[] | null, today: string): CardState {
  if (cards === null) return 'unknown';
  const month = Number(today.slice(0, 4)) * 12 + Number(today.slice(5, 7));
  return cards.some((c) => c.expYear * 12 + c.expMonth >= month) ? 'usable' : 'none';
}

/**
 * What an owner or admin is offered on one subscription, the way the API would answer it (a member or guest is offered
 * nothing: the routes are for owners and admins). Turning auto-renew off and terminating stay open to a closed or
 * suspended organisation; turning auto-renew on is refused a closed one only, and reactivation (a sale) both (ADR 0038).
 * Reactivation is offered up to the last day the list gives (`reactivatableUntil`, a UTC day, compared with `today`).
 */
export function offeredActions(s: PortalSubscription, account: AccountStatus, today: string, card: CardState = 'unknown'): OfferedActions {
  const renews = s.status === 'active' || s.status === 'pending_payment';
  const closed = account === 'closed';
  const closedWhy = 'The account is closed: its subscriptions no longer renew.';
  const needsCard = !s.renewByCard && !closed && card === 'none';
  return {
    autoRenew: renews
      ? { on: s.autoRenew, canChange: s.autoRenew || !closed, why: !s.autoRenew && closed ? closedWhy : null }
      : null,
    renewByCard: renews
      ? {
        on: s.renewByCard, canChange: s.renewByCard || (!closed && !needsCard), needsCard,
        why: s.renewByCard ? null : closed ? closedWhy : needsCard ? 'Renewal by card needs a saved card.' : null,
      }
      : null,
    terminate: s.status === 'active' || s.status === 'pending_payment' || s.status === 'expired',
    reactivate: s.status === 'expired' && account === 'active' && s.reactivatableUntil !== null && today <= s.reactivatableUntil,
    addOns: addOnActions(s, account, today),
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
