import { isApiError } from './api.ts';

/**
 * Why a card payment (a top-up, an invoice payment) failed, as a sentence for the customer. The API records a failure
 * code and the gateway's reason (src/gateway/card-failure.ts, src/topup, docs/test-cards.md): the reason is often a code
 * of the gateway's (`generic_decline`, Stripe's `expired_card`), sometimes Folio's own sentence (an auto top-up below
 * the minimum). A known code is said in words, a sentence is shown as it is, and an unknown code is never shown raw.
 */
const DECLINED = 'The card was declined.';
const NO_FUNDS = 'The card has insufficient funds.';
const NOT_THROUGH = 'The card payment did not go through.';
const GATEWAY = 'The card gateway could not take the payment.';

const TEXTS: Record<string, string> = {
  // The gateways' reasons (the sandbox's and Stripe's decline codes).
  generic_decline: DECLINED,
  card_declined: DECLINED,
  do_not_honor: DECLINED,
  lost_card: DECLINED,
  stolen_card: DECLINED,
  pickup_card: DECLINED,
  fraudulent: DECLINED,
  insufficient_funds: NO_FUNDS,
  expired_card: 'The card has expired.',
  incorrect_cvc: 'The card’s security code was wrong.',
  invalid_cvc: 'The card’s security code was wrong.',
  incorrect_number: 'The card number was wrong.',
  card_not_supported: 'The card does not support this payment.',
  currency_not_supported: 'The card does not support this currency.',
  card_velocity_exceeded: 'The card has reached its limit.',
  withdrawal_count_limit_exceeded: 'The card has reached its limit.',
  authentication_required: 'The bank asked for a confirmation that was not completed.',
  processing_error: 'The card could not be processed. Try again.',
  canceled: 'The payment was cancelled.',
  payment_failed: NOT_THROUGH,
  // Folio's failure codes.
  declined: DECLINED,
  invalid_card: 'The card was not accepted.',
  card_not_found: 'The saved card was not found.',
  not_received: 'The payment never reached the card gateway.',
  amount_refused: 'The card gateway does not accept this amount.',
  gateway_conflict: GATEWAY,
  gateway_error: GATEWAY,
  no_saved_card: 'The saved card for auto top-up is no longer available.',
  below_minimum: 'The auto top-up amount is below the minimum top-up.',
};

/** Folio's codes whose recorded reason is an internal message: their own sentence is shown instead. */
const CODE_FIRST = new Set(['invalid_card', 'card_not_found', 'not_received', 'amount_refused', 'gateway_conflict', 'gateway_error']);

const isCode = (s: string) => /^[a-z0-9_.-]+$/i.test(s);

function asSentence(s: string): string {
  const t = s.trim();
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

/** A failed card payment's reason in words: `("declined", "generic_decline")` -> "The card was declined." */
export function cardFailureText(code: string | null | undefined, reason?: string | null): string {
  const r = reason?.trim() ?? '';
  if (code && CODE_FIRST.has(code)) return TEXTS[code] ?? NOT_THROUGH;
  if (r && TEXTS[r]) return TEXTS[r];
  if (r && !isCode(r)) return asSentence(r);
  if (code && TEXTS[code]) return TEXTS[code];
  return NOT_THROUGH;
}

/** The failure code a refused card payment's problem stands for (src/gateway/card-failure.ts). */
function failureCodeOfProblem(code: string): string | null {
  switch (code) {
    case 'card_declined': return 'declined';
    case 'insufficient_funds': return 'insufficient_funds';
    case 'validation_failed': return 'invalid_card';
    default: return null;
  }
}

/**
 * What a refused card payment adds to its title ("Your card was declined"): the reason in words when it says more than
 * the title (an expired card), else null. Never the problem's detail, which names the recorded attempt by its id.
 */
export function cardRefusalReason(e: unknown): string | null {
  if (!isApiError(e)) return null;
  const text = cardFailureText(failureCodeOfProblem(e.code), e.errors[0]?.message);
  return text === DECLINED || text === NO_FUNDS || text === NOT_THROUGH ? null : text;
}
