import { describe, expect, it } from 'vitest';
import {
  ADD_ON_ENDED_TEXT, addOnActions, addOnChoices, addOnHasText, addOnQuantityText, addOnQuoteText, addOnRowText, addOnsEnded, addOnShortfallText, addOnTerms, chargedText, latestCharge, lowerOnlyText,
  noChoicesText, quantityChange, unsaidChargeText, type AddOnCatalogProduct, type AddOnQuote, type AddOnSubscription, type AddOnView,
} from './add-ons.ts';

const sub = (over: Partial<AddOnSubscription> = {}): AddOnSubscription => ({
  id: 'sub_0000000000test', priceId: 'prc_number_monthly', productName: 'Phone Number', variantName: 'Singapore local', cycle: 'monthly', currency: 'SGD',
  status: 'active', currentPeriodEnd: '2027-01-07', addOns: [], version: 1, ...over,
});
const addOn = (over: Partial<AddOnView> = {}): AddOnView => ({
  id: 'sad_0000000000test', productName: 'Teams App Licence', variantName: 'Per user', priceId: 'prc_teams_monthly', quantity: 2, pendingQuantity: null,
  renewalPrice: '16.00', ...over,
});

const price = (priceId: string, cycle: 'monthly' | 'yearly', amount: string, activationFee = '0.00', currency = 'SGD') => ({ priceId, cycle, currency, price: amount, activationFee });
const CATALOG: AddOnCatalogProduct[] = [
  { name: 'Phone Number', variants: [
    { name: 'Singapore local', prices: [price('prc_number_monthly', 'monthly', '5.00'), price('prc_number_yearly', 'yearly', '50.00')] },
  ] },
  { name: 'Teams App Licence', variants: [
    { name: 'Per user', prices: [price('prc_teams_monthly', 'monthly', '8.00'), price('prc_teams_yearly', 'yearly', '80.00')] },
  ] },
  { name: 'Call-centre Wallboard', variants: [
    { name: 'Standard', prices: [price('prc_board_monthly', 'monthly', '45.00', '50.00'), price('prc_board_myr', 'monthly', '150.00', '0.00', 'MYR')] },
  ] },
];

describe('addOnChoices', () => {
  it('offers the catalog prices of the subscription\'s cycle and currency, leaving out its own price', () => {
    expect(addOnChoices(CATALOG, sub()).map((c) => c.priceId)).toEqual(['prc_teams_monthly', 'prc_board_monthly']);
    expect(addOnChoices(CATALOG, sub({ cycle: 'yearly', priceId: 'prc_number_yearly' })).map((c) => c.priceId)).toEqual(['prc_teams_yearly']);
  });

  it('leaves out what is already an add-on of it (its quantity is changed instead)', () => {
    expect(addOnChoices(CATALOG, sub({ addOns: [addOn()] })).map((c) => c.priceId)).toEqual(['prc_board_monthly']);
  });

  it('labels each with its catalog price per period', () => {
    expect(addOnChoices(CATALOG, sub())[1]).toEqual({
      priceId: 'prc_board_monthly', productName: 'Call-centre Wallboard', variantName: 'Standard', cycle: 'monthly', currency: 'SGD', price: '45.00',
      activationFee: '50.00', label: 'Call-centre Wallboard · Standard · SGD 45.00 / month',
    });
  });
});

describe('addOnTerms', () => {
  it('states the pro rata rule to the expiry with the catalog\'s price, and the activation fee when there is one, computing nothing', () => {
    const [teams, board] = addOnChoices(CATALOG, sub());
    expect(addOnTerms(sub(), teams!)).toBe(
      'Charged now from your points: SGD 8.00 per unit per month, pro rata to 7 Jan 2027, plus tax, less any discount you have. From then on it renews with the subscription.',
    );
    expect(addOnTerms(sub(), board!)).toContain('pro rata to 7 Jan 2027, plus a one-time activation fee of SGD 50.00, plus tax');
  });
});

describe('addOnQuantityText', () => {
  it('shows the quantity, and a lower one planned for the renewal', () => {
    expect(addOnQuantityText(sub(), addOn())).toBe('× 2');
    expect(addOnQuantityText(sub(), addOn({ pendingQuantity: 1 }))).toBe('× 2, 1 from 7 Jan 2027');
    expect(addOnQuantityText(sub(), addOn({ pendingQuantity: 0 }))).toBe('× 2, removed on 7 Jan 2027');
  });

  it('of a terminated subscription, what it had: no lower quantity planned for a renewal that will not come', () => {
    expect(addOnQuantityText(sub({ status: 'terminated' }), addOn({ pendingQuantity: 0 }))).toBe('× 2');
    expect(addOnQuantityText(sub({ status: 'terminated' }), addOn({ pendingQuantity: 1 }))).toBe('× 2');
  });
});

describe('an add-on\'s row', () => {
  it('is live while its subscription can still renew: its quantity and its renewal price per period', () => {
    for (const status of ['active', 'expired', 'pending_payment'] as const) {
      expect(addOnsEnded(sub({ status }))).toBe(false);
      expect(addOnRowText(sub({ status }), addOn({ pendingQuantity: 1 }))).toEqual({ ended: false, quantity: '+ Teams App Licence · Per user × 2, 1 from 7 Jan 2027', after: 'SGD 16.00 / month' });
    }
  });

  it('ended with a terminated subscription: what it had, with no price, said so (and the API takes no change to it)', () => {
    const s = sub({ status: 'terminated' });
    expect(addOnsEnded(s)).toBe(true);
    expect(addOnRowText(s, addOn({ pendingQuantity: 0 }))).toEqual({ ended: true, quantity: '+ Teams App Licence · Per user × 2', after: ADD_ON_ENDED_TEXT });
    expect(ADD_ON_ENDED_TEXT).toBe('Ended with the subscription');
    expect(addOnActions(s, 'active', '2026-12-01')).toEqual({ add: false, change: null });
  });
});

describe('quantityChange', () => {
  it('charges more units now, pro rata, without the activation fee again', () => {
    expect(quantityChange(sub(), addOn(), 3)).toEqual({ kind: 'raise', text: '1 more unit is charged now from your points, pro rata to 7 Jan 2027, plus tax (no activation fee again).' });
    expect(quantityChange(sub(), addOn(), 5).text).toMatch(/^3 more units are charged now/);
  });

  it('lowers or removes at the next renewal, refunding nothing', () => {
    expect(quantityChange(sub(), addOn(), 1)).toEqual({ kind: 'lower', text: 'It goes down to 1 at the next renewal, on 7 Jan 2027. Nothing is refunded: the 2 you have stay until then.' });
    expect(quantityChange(sub(), addOn(), 0)).toEqual({ kind: 'remove', text: 'It is removed at the next renewal, on 7 Jan 2027. Nothing is refunded: the 2 you have stay until then.' });
  });

  it('cancels a planned decrease at the current quantity, and is no change otherwise', () => {
    expect(quantityChange(sub(), addOn({ pendingQuantity: 1 }), 2)).toEqual({ kind: 'cancel', text: 'The change planned for 7 Jan 2027 (to 1) is cancelled: it stays at 2.' });
    expect(quantityChange(sub(), addOn(), 2)).toEqual({ kind: 'none', text: 'It is at 2 already.' });
  });
});

describe('latestCharge', () => {
  it('is the newest history item of the kind, when it carries an amount', () => {
    const history = [
      { kind: 'quantity_changed', amount: null, invoiceNumber: null },
      { kind: 'add_on_added', amount: '17.44', invoiceNumber: 'P-000042' },
      { kind: 'add_on_added', amount: '9.00', invoiceNumber: 'P-000041' },
    ];
    expect(latestCharge(history, 'add_on_added')).toEqual({ kind: 'add_on_added', amount: '17.44', invoiceNumber: 'P-000042' });
    // The newest change of that kind charged nothing (a lower quantity): no charge to tell, not an older one.
    expect(latestCharge(history, 'quantity_changed')).toBeNull();
    expect(latestCharge([], 'add_on_added')).toBeNull();
  });
});

describe('chargedText', () => {
  it('names the amount the server charged and its invoice', () => {
    expect(chargedText({ kind: 'add_on_added', amount: '17.44', invoiceNumber: 'P-000042' }, 'SGD'))
      .toBe('SGD 17.44 was charged from your points (tax included); its Purchase invoice P-000042 is under Invoices.');
    expect(chargedText({ kind: 'quantity_changed', amount: '1234.50', invoiceNumber: null }, 'SGD')).toBe('SGD 1,234.50 was charged from your points (tax included).');
  });
});

const quote = (over: Partial<AddOnQuote> = {}): AddOnQuote => ({
  version: 3, currency: 'SGD', outcome: 'charge_now', units: 2, until: '2027-01-07', daysCharged: 15, daysInPeriod: 31, price: '7.74', discount: '0.00',
  activationFee: '0.00', tax: '0.70', total: '8.44', usable: '100.00', coveredByPoints: true, ...over,
});

describe('addOnQuoteText', () => {
  it('says the server\'s total and what makes it: the days charged, a discount, an activation fee, the tax', () => {
    expect(addOnQuoteText(quote())).toBe('SGD 8.44 is charged now from your points: SGD 7.74 for 15 of 31 days, to 7 Jan 2027, tax SGD 0.70.');
    expect(addOnQuoteText(quote({ discount: '1.00', activationFee: '50.00', total: '61.30' })))
      .toBe('SGD 61.30 is charged now from your points: SGD 7.74 for 15 of 31 days, to 7 Jan 2027, less a discount of SGD 1.00, a one-time activation fee of SGD 50.00, tax SGD 0.70.');
  });

  it('says nothing of an amount when nothing is charged now (the rule says when it changes)', () => {
    expect(addOnQuoteText(quote({ outcome: 'at_renewal', units: 0, daysCharged: null, daysInPeriod: null, total: '0.00' }))).toBeNull();
    expect(addOnQuoteText(quote({ outcome: 'no_change', units: 0, total: '0.00' }))).toBeNull();
  });
});

describe('addOnShortfallText', () => {
  it('names the usable points and the total when they do not cover it, and nothing when they do', () => {
    expect(addOnShortfallText(quote({ usable: '7.30', total: '61.30', coveredByPoints: false }))).toBe('Your usable points (SGD 7.30) do not cover the SGD 61.30 it costs now.');
    expect(addOnShortfallText(quote())).toBeNull();
  });
});

describe('to staff, about the customer', () => {
  it('says the rule and the quote as charged from the customer\'s points, and whose discount', () => {
    const [teams] = addOnChoices(CATALOG, sub());
    expect(addOnTerms(sub(), teams!, 'customer')).toBe(
      'Charged now from the customer\'s points: SGD 8.00 per unit per month, pro rata to 7 Jan 2027, plus tax, less any discount the customer has. From then on it renews with the subscription.',
    );
    expect(addOnQuoteText(quote(), 'customer')).toBe('SGD 8.44 is charged now from the customer\'s points: SGD 7.74 for 15 of 31 days, to 7 Jan 2027, tax SGD 0.70.');
    expect(addOnQuoteText(quote({ outcome: 'at_renewal', total: '0.00' }), 'customer')).toBeNull();
  });

  it('names the customer\'s usable points when they fall short', () => {
    expect(addOnShortfallText(quote({ usable: '7.30', total: '61.30', coveredByPoints: false }), 'customer'))
      .toBe('The customer\'s usable points (SGD 7.30) do not cover the SGD 61.30 it costs now.');
    expect(addOnShortfallText(quote(), 'customer')).toBeNull();
  });

  it('says a quantity change as the customer\'s', () => {
    expect(quantityChange(sub(), addOn(), 3, 'customer').text).toBe('1 more unit is charged now from the customer\'s points, pro rata to 7 Jan 2027, plus tax (no activation fee again).');
    expect(quantityChange(sub(), addOn(), 1, 'customer').text).toBe('It goes down to 1 at the next renewal, on 7 Jan 2027. Nothing is refunded: the 2 the customer has stay until then.');
    expect(quantityChange(sub(), addOn({ pendingQuantity: 1 }), 2, 'customer').text).toBe('The change planned for 7 Jan 2027 (to 1) is cancelled: it stays at 2.');
    expect(addOnHasText(addOn({ pendingQuantity: 1 }), 'customer')).toBe('The customer has 2 (1 from the next renewal).');
    expect(lowerOnlyText('customer')).toBe('The customer is not active: the quantity can only be lowered.');
  });

  it('names the charge and its invoice without pointing into the portal', () => {
    expect(chargedText({ kind: 'add_on_added', amount: '17.44', invoiceNumber: 'P-000042' }, 'SGD', 'customer'))
      .toBe('SGD 17.44 was charged from the customer\'s points (tax included), on Purchase invoice P-000042.');
    expect(chargedText({ kind: 'quantity_changed', amount: '9.00', invoiceNumber: null }, 'SGD', 'customer')).toBe('SGD 9.00 was charged from the customer\'s points (tax included).');
    expect(unsaidChargeText('customer')).toBe('It was charged from the customer\'s points: see its Transactions tab.');
    expect(noChoicesText(sub(), 'customer')).toBe('Nothing can be added: the catalog has no other monthly plan in SGD, or it is on this subscription already.');
  });
});

describe('to the customer in the portal', () => {
  it('keeps the portal\'s own words for what the dialogs say beside the sentences above', () => {
    expect(addOnHasText(addOn())).toBe('You have 2.');
    expect(addOnHasText(addOn({ pendingQuantity: 0 }), 'you')).toBe('You have 2 (0 from the next renewal).');
    expect(lowerOnlyText()).toBe('Your account is not active: the quantity can only be lowered.');
    expect(unsaidChargeText()).toBe('It was charged from your points: see the transactions under Points.');
    expect(noChoicesText(sub({ cycle: 'yearly' }))).toBe('Nothing can be added: your provider sells no other yearly plan in SGD, or it is on this subscription already.');
  });
});

describe('addOnActions', () => {
  const TODAY = '2026-12-07';
  it('adds to an active customer only, and lowers for a suspended or closed one, inside the period', () => {
    expect(addOnActions(sub(), 'active', TODAY)).toEqual({ add: true, change: 'any' });
    expect(addOnActions(sub(), 'suspended', TODAY)).toEqual({ add: false, change: 'lower' });
    expect(addOnActions(sub(), 'closed', TODAY)).toEqual({ add: false, change: 'lower' });
  });

  it('offers nothing once the period has ended, or on a subscription that is not active', () => {
    expect(addOnActions(sub({ currentPeriodEnd: TODAY }), 'active', TODAY)).toEqual({ add: false, change: null });
    expect(addOnActions(sub({ status: 'expired' }), 'active', TODAY)).toEqual({ add: false, change: null });
    expect(addOnActions(sub({ status: 'pending_payment', currentPeriodEnd: null }), 'active', TODAY)).toEqual({ add: false, change: null });
  });
});
