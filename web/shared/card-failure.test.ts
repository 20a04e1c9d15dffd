import { describe, expect, it } from 'vitest';
import { ApiError } from './api.ts';
import { cardFailureText, cardRefusalReason } from './card-failure.ts';

describe('why a card payment failed, in words', () => {
  it('says the sandbox\'s and Stripe\'s codes as sentences, never raw', () => {
    expect(cardFailureText('declined', 'generic_decline')).toBe('The card was declined.');
    expect(cardFailureText('insufficient_funds', 'insufficient_funds')).toBe('The card has insufficient funds.');
    expect(cardFailureText('declined', 'expired_card')).toBe('The card has expired.');
    expect(cardFailureText('declined', 'some_new_code')).toBe('The card was declined.');
    expect(cardFailureText(null, 'some_new_code')).toBe('The card payment did not go through.');
    expect(cardFailureText(null, 'generic_decline')).toBe('The card was declined.');
  });

  it('shows a reason that is already a sentence, capitalised and ended', () => {
    expect(cardFailureText('below_minimum', 'the auto top-up amount is below the minimum top-up of 20.00 SGD now in force'))
      .toBe('The auto top-up amount is below the minimum top-up of 20.00 SGD now in force.');
  });

  it('says Folio\'s own codes in its words, not the internal message recorded with them', () => {
    expect(cardFailureText('gateway_error', 'connect ECONNREFUSED 127.0.0.1:443')).toBe('The card gateway could not take the payment.');
    expect(cardFailureText('amount_refused', 'the amount is outside what the gateway accepts for SGD (amount_too_large)')).toBe('The card gateway does not accept this amount.');
    expect(cardFailureText('no_saved_card', null)).toBe('The saved card for auto top-up is no longer available.');
    expect(cardFailureText(undefined, undefined)).toBe('The card payment did not go through.');
  });
});

describe('what a refused card payment adds to its title', () => {
  const refusal = (code: string, reason: string) => new ApiError(422, code, `The card was declined (${reason}). Top-up top_01abc was recorded as failed; nothing was charged.`, [{ path: 'cardToken', message: reason }]);

  it('nothing when the title says it all, and never the detail with its id', () => {
    expect(cardRefusalReason(refusal('card_declined', 'generic_decline'))).toBeNull();
    expect(cardRefusalReason(refusal('insufficient_funds', 'insufficient_funds'))).toBeNull();
    expect(cardRefusalReason(new ApiError(422, 'card_declined', 'Payment pa_01 was recorded as failed'))).toBeNull();
    expect(cardRefusalReason(new TypeError('Failed to fetch'))).toBeNull();
  });

  it('the reason when it says more', () => {
    expect(cardRefusalReason(refusal('card_declined', 'expired_card'))).toBe('The card has expired.');
    expect(cardRefusalReason(refusal('card_declined', 'authentication_required'))).toBe('The bank asked for a confirmation that was not completed.');
  });
});
