import { DomainError } from '../platform/errors.ts';

/**
 * The answer for a card payment that failed (a top-up, an invoice payment): the card's refusal as a 422 naming the card
 * field, with what was recorded (`recorded`, e.g. "Nothing was charged and no points were added."; never an internal id: the customer reads it).
 * `failureCode` is what the attempt recorded: `insufficient_funds`, `invalid_card`, `card_not_found`, `not_received` (the
 * request never reached the gateway), or a decline.
 */
export function cardFailureError(failureCode: string | null, failureReason: string | null, field: string, recorded: string): DomainError {
  const reason = failureReason ?? failureCode ?? 'failed';
  const errors = [{ path: field, message: reason }];
  switch (failureCode) {
    case 'insufficient_funds':
      return new DomainError('insufficient_funds', `The card has insufficient funds. ${recorded}`, errors);
    case 'invalid_card':
      return new DomainError('validation_failed', `The card was not accepted (${reason}). ${recorded}`, errors);
    case 'card_not_found':
      return new DomainError('not_found', `The card was not found at the gateway. ${recorded}`);
    case 'not_received':
      // Failed by the worker that settles lost answers (settle-stale-pay-attempts.ts): the request never reached the gateway.
      // The code stays card_declined (a final refusal for the portal), the words say what happened.
      return new DomainError('card_declined', `The payment never reached the card gateway, so the card was not charged: pay again. ${recorded}`, errors);
    default:
      return new DomainError('card_declined', `The card was declined (${reason}). ${recorded}`, errors);
  }
}

/** The failure code an attempt records when the gateway refused the call itself (a DomainError from the adapter). */
export function failureCodeOfGatewayError(errorCode: string): string {
  switch (errorCode) {
    case 'validation_failed': return 'invalid_card';
    case 'not_found': return 'card_not_found';
    case 'rule_violation': return 'amount_refused';
    case 'idempotency_key_reused': return 'gateway_conflict';
    default: return 'gateway_error';
  }
}
