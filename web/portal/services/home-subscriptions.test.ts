import { describe, expect, it } from 'vitest';
import { homeSubscriptions } from './home-subscriptions.ts';
import type { PortalSubscription } from './types.ts';

let n = 0;
const sub = (status: PortalSubscription['status'], currentPeriodEnd: string | null = '2027-01-07'): PortalSubscription => ({
  id: `sub_${String(++n).padStart(4, '0')}`, priceId: 'prc_number_monthly', productName: 'Phone Number', variantName: 'Singapore local', cycle: 'monthly',
  currency: 'SGD', status, currentPeriodEnd, addOns: [], version: 1, quantity: 1, autoRenew: true, renewByCard: false, currentPeriodStart: null,
  nextRenewalAt: null, renewalPrice: '5.00', reactivatableUntil: null, refund: null,
});

describe('what Home\'s Subscriptions card says', () => {
  it('"No subscriptions yet." only when the organisation never had one', () => {
    expect(homeSubscriptions([], false, 4)).toEqual({ kind: 'never' });
  });

  it('with only terminated ones: no active subscription, and how many ended (never "yet")', () => {
    expect(homeSubscriptions([sub('terminated')], false, 4)).toEqual({ kind: 'allEnded', title: 'No active subscriptions', ended: '1 subscription ended.' });
    expect(homeSubscriptions([sub('terminated'), sub('terminated'), sub('terminated')], false, 4))
      .toEqual({ kind: 'allEnded', title: 'No active subscriptions', ended: '3 subscriptions ended.' });
  });

  it('when the page read had more after it, says only what it saw: older ones may still run', () => {
    const page = Array.from({ length: 200 }, () => sub('terminated'));
    expect(homeSubscriptions(page, true, 4))
      .toEqual({ kind: 'allEnded', title: 'No active subscriptions among the latest 200', ended: '200+ subscriptions ended.' });
  });

  it('lists those that have not ended (active, expired, waiting for payment), soonest expiry first, at most `limit`', () => {
    const ended = sub('terminated', '2026-01-01');
    const later = sub('active', '2027-03-01');
    const expired = sub('expired', '2026-12-01');
    const soon = sub('active', '2027-01-07');
    const pending = sub('pending_payment', null);
    const got = homeSubscriptions([ended, later, expired, soon, pending], false, 3);
    expect(got).toEqual({ kind: 'list', shown: [pending, expired, soon] });
    expect(homeSubscriptions([ended, later], true, 4)).toEqual({ kind: 'list', shown: [later] });
  });
});
