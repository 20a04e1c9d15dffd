import { normaliseCardNumber } from './card-numbers.ts';

/**
 * The sandbox's test cards (docs/test-cards.md). A test card NUMBER is turned into its token at the edge (the
 * browser's card form, via `sandboxTokenForCardNumber`); only the token travels to the server. The numbers are the
 * well-known Stripe test numbers, with the outcome each has in Stripe's test mode where it maps cleanly.
 * Pure data and functions: importable by the web app.
 */
export type SandboxOutcome = 'success' | 'declined' | 'insufficient_funds' | 'delayed' | 'delayed_insufficient_funds';

export interface SandboxTestCard {
  token: string;
  /** What a charge on this card does. */
  outcome: SandboxOutcome;
  /** The test number a person types in the UI. Only this table holds it: never sent, stored or logged. */
  number: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  description: string;
}

export const SANDBOX_TEST_CARDS: readonly SandboxTestCard[] = [
  {
    token: 'tok_sandbox_success', outcome: 'success', number: '4242424242424242', brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034,
    description: 'Succeeds at once.',
  },
  {
    token: 'tok_sandbox_declined', outcome: 'declined', number: '4000000000000002', brand: 'visa', last4: '0002', expMonth: 12, expYear: 2034,
    description: 'Declined (generic_decline).',
  },
  {
    token: 'tok_sandbox_insufficient_funds', outcome: 'insufficient_funds', number: '4000000000009995', brand: 'visa', last4: '9995', expMonth: 12, expYear: 2034,
    description: 'Declined for insufficient funds.',
  },
  {
    token: 'tok_sandbox_delayed', outcome: 'delayed', number: '4000000000003220', brand: 'visa', last4: '3220', expMonth: 12, expYear: 2034,
    description: 'Pending at first (as a card waiting for 3-D Secure), then succeeds after the settle delay: a charge.succeeded event.',
  },
  {
    token: 'tok_sandbox_delayed_insufficient_funds', outcome: 'delayed_insufficient_funds', number: '4000008260003178', brand: 'visa', last4: '3178', expMonth: 12, expYear: 2034,
    description: 'Pending at first, then fails for insufficient funds after the settle delay: a charge.failed event.',
  },
];

export function sandboxCardByToken(token: string): SandboxTestCard | undefined {
  return SANDBOX_TEST_CARDS.find((c) => c.token === token);
}

/**
 * The edge: a typed test card number -> its sandbox token, or null when it is not one of the test cards
 * (the sandbox accepts no other card). Spaces and dashes between digits are allowed.
 */
export function sandboxTokenForCardNumber(typed: string): string | null {
  const digits = normaliseCardNumber(typed);
  if (digits === null) return null;
  return SANDBOX_TEST_CARDS.find((c) => c.number === digits)?.token ?? null;
}
