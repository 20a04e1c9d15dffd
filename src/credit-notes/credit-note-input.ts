import { z } from 'zod';
import { formatDecimal, parseAmount } from '../money/money.ts';
import { DomainError, type FieldError } from '../platform/errors.ts';
import { idOf } from '../platform/schemas.ts';
import { computeCredit, type ComputedCredit, type CreditRequest } from './credit-note-math.ts';
import { notCreditableReason, outcomeLimits, type InvoiceCreditFacts } from './credit-note-views.ts';
import {
  CREDIT_NOTE_MODES, CREDIT_NOTE_OUTCOMES, CREDIT_NOTE_REASONS, REFUND_METHODS,
  type CreditNoteMode, type CreditNoteOutcome, type RefundMethod, type StoredCreditLine,
} from './credit-notes.db-types.ts';

/** At most this many lines chosen in one credit note. */
export const MAX_CREDIT_LINES = 200;

export const creditLinesBody = z.array(z.strictObject({
  position: z.number().int().min(1).max(100_000).describe('the invoice line, by its position (1 = first)'),
  quantity: z.string().max(30).optional().describe('quantity to credit (at most what is left of the line), decimal, up to 6 decimals'),
  amount: z.string().max(40).optional().describe('net amount to credit, before tax (at most what is left of the line)'),
})).min(1).max(MAX_CREDIT_LINES);

export const outcomeFields = {
  outcome: z.enum(CREDIT_NOTE_OUTCOMES).optional()
    .describe('reduce_due: lower what the invoice still asks for; points: credit the customer\'s points; refund: give money back (refundMethod)'),
  refundMethod: z.enum(REFUND_METHODS).optional().describe('with outcome refund: card (through the gateway, to the invoice\'s card payments), bank_transfer or cheque (recorded)'),
  refundReference: z.string().trim().min(1).max(200).optional().describe('bank transfer or cheque reference of a recorded refund'),
};

export const createCreditNoteBody = z.strictObject({
  invoiceId: idOf('inv'),
  mode: z.enum(CREDIT_NOTE_MODES).describe('whole: what is left of every line; lines: chosen lines; amount: a custom amount including tax'),
  lines: creditLinesBody.optional(),
  amount: z.string().max(40).optional().describe('mode amount: the amount to credit, tax included'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as SGD').optional().describe('when given, must be the invoice\'s currency (422 currency_mismatch)'),
  reason: z.enum(CREDIT_NOTE_REASONS),
  memo: z.string().trim().min(1).max(2000).optional(),
  ...outcomeFields,
  issue: z.boolean().optional().describe('issue at once (needs an outcome)'),
});
export type CreateCreditNoteInput = z.infer<typeof createCreditNoteBody>;

export interface OutcomeChoice {
  outcome: CreditNoteOutcome | null;
  refundMethod: RefundMethod | null;
  refundReference: string | null;
}

/** The outcome fields hang together: a refund names its method, only a refund has one, a reference only for bank and cheque. */
export function checkOutcomeChoice(choice: OutcomeChoice, required: boolean): void {
  const errors: FieldError[] = [];
  if (required && choice.outcome === null) errors.push({ path: 'outcome', message: 'choose reduce_due, points or refund to issue' });
  if (choice.outcome === 'refund' && choice.refundMethod === null) errors.push({ path: 'refundMethod', message: 'a refund is by card, bank_transfer or cheque' });
  if (choice.outcome !== 'refund' && choice.refundMethod !== null) errors.push({ path: 'refundMethod', message: 'only with outcome refund' });
  if (choice.refundReference !== null && (choice.outcome !== 'refund' || choice.refundMethod === 'card')) {
    errors.push({ path: 'refundReference', message: 'only for a refund by bank_transfer or cheque' });
  }
  if (errors.length > 0) throw new DomainError('validation_failed', 'The outcome is incomplete or inconsistent', errors);
}

/** The invoice takes a credit note at all (issued Purchase or Monthly, not void), in the right currency. */
export function checkInvoiceCreditable(facts: InvoiceCreditFacts, currency?: string): void {
  const reason = notCreditableReason(facts.invoice);
  if (reason) throw new DomainError('invoice_not_creditable', `Invoice ${facts.invoice.number ?? facts.invoice.id} takes no credit note. ${reason}`);
  if (currency !== undefined && currency !== facts.invoice.currency) {
    throw new DomainError('currency_mismatch', `Invoice ${facts.invoice.number} is in ${facts.invoice.currency}, not ${currency}`, [{ path: 'currency', message: `must be ${facts.invoice.currency}` }]);
  }
}

/** Compute the credit from a request against the invoice as it is now. */
export function computeFor(facts: InvoiceCreditFacts, request: { mode: CreditNoteMode; lines?: CreditRequest['lines']; amount?: string | undefined }): ComputedCredit {
  const currency = facts.invoice.currency;
  const fmt = (m: bigint) => `${formatDecimal(m, currency)} ${currency}`;
  const amountMicros = request.amount === undefined ? undefined : parseAmount(request.amount, currency, 'amount');
  return computeCredit(currency, facts.lines, { mode: request.mode, lines: request.lines, amountMicros }, fmt);
}

/** The request a stored draft was computed from (to compute it again at issue against the invoice as it is then). */
export function requestOfDraft(draft: { mode: CreditNoteMode; lines: readonly StoredCreditLine[]; requestedAmountMicros: string | null }) {
  if (draft.mode === 'whole') return { mode: draft.mode };
  if (draft.mode === 'amount') {
    return { mode: draft.mode, amount: microsToDecimal(BigInt(draft.requestedAmountMicros!)) };
  }
  return {
    mode: draft.mode,
    lines: draft.lines.map((l) => (l.quantity !== null
      ? { position: l.invoiceLinePosition!, quantity: l.quantity }
      : { position: l.invoiceLinePosition!, amount: microsToDecimal(BigInt(l.amountMicros)) })),
  };
}

function microsToDecimal(m: bigint): string {
  const whole = m / 1_000_000n;
  const frac = (m % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

/**
 * The outcome's own limit (the issue-time rule; checked at creation too, for early feedback):
 * reduce_due at most the amount due (and no portal payment in flight); points or refund at most what was paid less what
 * earlier credit notes already gave back; a card refund at most what the invoice's card charges hold less their refunds.
 */
export function checkOutcomeLimit(facts: InvoiceCreditFacts, choice: OutcomeChoice, totalMicros: bigint): void {
  if (choice.outcome === null) return;
  const currency = facts.invoice.currency;
  const fmt = (m: bigint) => `${formatDecimal(m, currency)} ${currency}`;
  const limits = outcomeLimits(facts);
  const inv = facts.invoice.number ?? facts.invoice.id;
  if (choice.outcome === 'reduce_due') {
    if (facts.pendingPayment) throw new DomainError('payment_in_progress', `A portal payment of invoice ${inv} is in progress; if it got no answer from the card gateway, it is settled automatically (usually within 15 minutes)`);
    if (totalMicros > limits.reduceDue) {
      throw new DomainError('credit_exceeds_due', `Invoice ${inv} has ${fmt(limits.reduceDue)} due: a credit note reducing it can be at most that; give points or refund the rest`,
        [{ path: 'outcome', message: `reduce_due: at most ${fmt(limits.reduceDue)}` }]);
    }
    return;
  }
  if (totalMicros > limits.pointsOrRefund) {
    const gaveBack = facts.terminationRefundedMicros > 0n ? 'earlier credit notes and subscription termination refunds gave back' : 'earlier credit notes gave back';
    throw new DomainError('refund_exceeds_paid', `${fmt(facts.invoice.amountPaidMicros)} was paid on invoice ${inv} and ${gaveBack} ${fmt(facts.paidOutMicros)}: `
      + `at most ${fmt(limits.pointsOrRefund)} can go to points or be refunded`, [{ path: 'outcome', message: `at most ${fmt(limits.pointsOrRefund)}` }]);
  }
  if (choice.outcome === 'refund' && choice.refundMethod === 'card' && totalMicros > limits.card) {
    throw new DomainError('refund_exceeds_paid', `Only ${fmt(limits.card)} of invoice ${inv} was paid by card and not refunded yet`,
      [{ path: 'refundMethod', message: `card: at most ${fmt(limits.card)}` }]);
  }
}
