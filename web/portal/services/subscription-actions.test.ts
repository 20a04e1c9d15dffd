import { describe, expect, it } from 'vitest';
import { cardState, offeredActions, terminationOutcome, terminationTerms, utcToday } from './subscription-actions.ts';
import type { PortalSubscription } from './types.ts';

const sub = (over: Partial<PortalSubscription> = {}): PortalSubscription => ({
  id: 'sub_0000000000test', priceId: 'prc_0000000000main', productName: 'Phone Number', variantName: 'Singapore local', cycle: 'monthly', currency: 'SGD', quantity: 1,
  status: 'active', autoRenew: true, renewByCard: false, currentPeriodStart: '2026-12-01', currentPeriodEnd: '2027-01-01', nextRenewalAt: '2026-12-25',
  renewalPrice: '10.00', reactivatableUntil: null, refund: null, addOns: [], version: 3, ...over,
});
const TODAY = '2026-12-07';

describe('offeredActions', () => {
  it('offers an active organisation auto-renew both ways, and terminating', () => {
    expect(offeredActions(sub(), 'active', TODAY)).toEqual({
      autoRenew: { on: true, canChange: true, why: null }, renewByCard: { on: false, canChange: true, needsCard: false, why: null },
      terminate: true, reactivate: false, addOns: { add: true, change: 'any' },
    });
    expect(offeredActions(sub({ autoRenew: false }), 'active', TODAY).autoRenew).toEqual({ on: false, canChange: true, why: null });
    expect(offeredActions(sub({ status: 'pending_payment' }), 'active', TODAY)).toMatchObject({
      autoRenew: { on: true, canChange: true }, renewByCard: { on: false, canChange: true }, terminate: true, reactivate: false, addOns: { add: false, change: null },
    });
  });

  it('lets a closed organisation turn auto-renew off and terminate, but not turn it on (the API answers 409)', () => {
    expect(offeredActions(sub({ autoRenew: true }), 'closed', TODAY)).toMatchObject({ autoRenew: { on: true, canChange: true, why: null }, terminate: true, reactivate: false });
    const off = offeredActions(sub({ autoRenew: false }), 'closed', TODAY);
    expect(off.autoRenew).toEqual({ on: false, canChange: false, why: 'The account is closed: its subscriptions no longer renew.' });
    expect(off.terminate).toBe(true);
  });

  it('lets a suspended organisation turn auto-renew on (suspension changes no subscription, ADR 0038)', () => {
    expect(offeredActions(sub({ autoRenew: false }), 'suspended', TODAY).autoRenew).toEqual({ on: false, canChange: true, why: null });
  });

  it('offers reactivation of an expired subscription to an active organisation up to its last day, and no auto-renew switch', () => {
    const expired = sub({ status: 'expired', currentPeriodEnd: '2026-12-01', reactivatableUntil: '2026-12-28' });
    expect(offeredActions(expired, 'active', TODAY)).toEqual({ autoRenew: null, renewByCard: null, terminate: true, reactivate: true, addOns: { add: false, change: null } });
    expect(offeredActions(expired, 'active', '2026-12-28').reactivate).toBe(true);
    expect(offeredActions(expired, 'active', '2026-12-29').reactivate).toBe(false);
    expect(offeredActions(sub({ status: 'expired', reactivatableUntil: null }), 'active', TODAY).reactivate).toBe(false);
  });

  it('offers no reactivation to a suspended or closed organisation (a sale: 409), which can still terminate', () => {
    const expired = sub({ status: 'expired', currentPeriodEnd: '2026-12-01', reactivatableUntil: '2026-12-28' });
    for (const account of ['suspended', 'closed'] as const) {
      expect(offeredActions(expired, account, TODAY)).toEqual({ autoRenew: null, renewByCard: null, terminate: true, reactivate: false, addOns: { add: false, change: null } });
    }
  });

  it('offers nothing on a terminated subscription', () => {
    expect(offeredActions(sub({ status: 'terminated' }), 'active', TODAY)).toEqual({
      autoRenew: null, renewByCard: null, terminate: false, reactivate: false, addOns: { add: false, change: null },
    });
  });

  it('offers renewal by card on when a usable card is saved or the page cannot tell, and says a card is needed when there is none', () => {
    expect(offeredActions(sub(), 'active', TODAY, 'usable').renewByCard).toEqual({ on: false, canChange: true, needsCard: false, why: null });
    expect(offeredActions(sub(), 'active', TODAY, 'unknown').renewByCard).toEqual({ on: false, canChange: true, needsCard: false, why: null });
    expect(offeredActions(sub(), 'active', TODAY, 'none').renewByCard).toEqual({ on: false, canChange: false, needsCard: true, why: 'Renewal by card needs a saved card.' });
    // On already: it can always be turned off, card or none.
    expect(offeredActions(sub({ renewByCard: true }), 'active', TODAY, 'none').renewByCard).toEqual({ on: true, canChange: true, needsCard: false, why: null });
  });

  it('lets a closed organisation turn renewal by card off, not on (as auto-renew); a suspended one both ways', () => {
    expect(offeredActions(sub({ renewByCard: true }), 'closed', TODAY, 'usable').renewByCard).toEqual({ on: true, canChange: true, needsCard: false, why: null });
    expect(offeredActions(sub(), 'closed', TODAY, 'usable').renewByCard)
      .toEqual({ on: false, canChange: false, needsCard: false, why: 'The account is closed: its subscriptions no longer renew.' });
    expect(offeredActions(sub(), 'closed', TODAY, 'none').renewByCard).toMatchObject({ canChange: false, needsCard: false });
    expect(offeredActions(sub(), 'suspended', TODAY, 'usable').renewByCard).toMatchObject({ on: false, canChange: true });
  });

  it('offers adding add-ons to an active organisation only, and lowering them to a suspended or closed one, inside the period', () => {
    expect(offeredActions(sub(), 'active', TODAY).addOns).toEqual({ add: true, change: 'any' });
    expect(offeredActions(sub(), 'suspended', TODAY).addOns).toEqual({ add: false, change: 'lower' });
    expect(offeredActions(sub(), 'closed', TODAY).addOns).toEqual({ add: false, change: 'lower' });
    // Its period ended today, the expiry job not run yet: the API refuses add-on changes (409).
    expect(offeredActions(sub({ currentPeriodEnd: TODAY }), 'active', TODAY).addOns).toEqual({ add: false, change: null });
    expect(offeredActions(sub({ currentPeriodEnd: '2026-12-08' }), 'active', TODAY).addOns).toEqual({ add: true, change: 'any' });
  });
});

describe('cardState', () => {
  it('counts a card usable through its expiry month (UTC), as the API does', () => {
    expect(cardState([{ expMonth: 12, expYear: 2026 }], TODAY)).toBe('usable');
    expect(cardState([{ expMonth: 11, expYear: 2026 }], TODAY)).toBe('none');
    expect(cardState([{ expMonth: 11, expYear: 2026 }, { expMonth: 1, expYear: 2027 }], TODAY)).toBe('usable');
    expect(cardState([{ expMonth: 12, expYear: 2025 }], TODAY)).toBe('none');
    expect(cardState([], TODAY)).toBe('none');
  });

  it('is unknown when the cards could not be read', () => {
    expect(cardState(null, TODAY)).toBe('unknown');
  });
});

describe('terminationTerms', () => {
  it('states the refund rule of a monthly subscription in words: in full within 14 days, then nothing', () => {
    const terms = terminationTerms(sub()).join(' ');
    expect(terms).toContain('It ends now, before its period ends on 1 Jan 2027');
    expect(terms).toContain('Within 14 days of its activation, last renewal or reactivation');
    expect(terms).toContain('refunded in full to your points');
    expect(terms).toContain('After that nothing is refunded');
    expect(terms).not.toMatch(/SGD/);
  });

  it('states the whole-months part of the rule for a yearly subscription', () => {
    const terms = terminationTerms(sub({ cycle: 'yearly' })).join(' ');
    expect(terms).toContain('the whole months left until it would have expired are refunded');
    expect(terms).toContain('activation fees are not');
  });

  it('says a pending subscription is cancelled with its invoice voided, and an expired one refunds nothing', () => {
    expect(terminationTerms(sub({ status: 'pending_payment' })).join(' ')).toContain('unpaid Purchase invoice is voided');
    const expired = terminationTerms(sub({ status: 'expired', currentPeriodEnd: '2026-12-01' })).join(' ');
    expect(expired).toContain('It expired on 1 Dec 2026');
    expect(expired).toContain('can no longer be reactivated');
    expect(expired).toContain('nothing is refunded');
  });
});

describe('terminationOutcome', () => {
  const terminated = (refund: PortalSubscription['refund']) => sub({ status: 'terminated', refund });

  it('names the refund the API answered, with its tax', () => {
    expect(terminationOutcome('active', terminated({ price: '10.00', tax: '0.90', total: '10.90' }))).toBe('SGD 10.90 was refunded to your points (tax SGD 0.90 included).');
    expect(terminationOutcome('active', terminated({ price: '1200.00', tax: '0.00', total: '1200.00' }))).toBe('SGD 1,200.00 was refunded to your points.');
  });

  it('says when nothing was refunded, and why where the status before tells', () => {
    expect(terminationOutcome('active', terminated({ price: '0.00', tax: '0.00', total: '0.00' }))).toBe('Nothing was refunded.');
    expect(terminationOutcome('pending_payment', terminated(null))).toBe('Its unpaid invoice was voided: nothing is owed.');
    expect(terminationOutcome('expired', terminated(null))).toBe('Its period had ended: nothing was refunded.');
  });
});

describe('utcToday', () => {
  it('is the UTC day, as the API gives reactivatableUntil', () => {
    expect(utcToday(new Date('2026-12-07T23:30:00-05:00'))).toBe('2026-12-08');
  });
});
