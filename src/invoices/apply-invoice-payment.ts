import assert from 'node:assert/strict';
import type { Selectable } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import type { InvoicesTable } from '../platform/db-types.ts';
import type { Trx } from '../platform/database.ts';
import type { InvoiceStatus } from '../platform/db-types.ts';
import { newId } from '../platform/ids.ts';
import { activatePaidSubscription } from '../subscriptions/activate-paid-subscription.ts';
import type { InvoicePaymentSource } from './invoices.db-types.ts';

export interface InvoicePaymentPart {
  source: InvoicePaymentSource;
  amountMicros: bigint;
  chargeRef?: string | null;
  attemptId?: string | null;
  paymentId?: string | null;
  /** The Finance payment's receipt number (source allocation). */
  receiptNumber?: string | null;
}

export interface AppliedPayment {
  status: InvoiceStatus;
  amountPaidMicros: bigint;
  amountDueMicros: bigint;
  paidAt: Date | null;
  /** The subscription that became active because this payment paid its Purchase invoice in full. */
  activatedSubscriptionId: string | null;
}

/**
 * Record money that paid (part of) an issued invoice, inside the caller's transaction, AFTER the caller has posted the
 * ledger entry that moved it off the customer's receivable (`entryId`): one `invoice_payments` row per source, the
 * invoice's amount paid and amount due, `partially_paid` or `paid` (with the time), and — when a Purchase invoice is now
 * paid in full — the pending subscription it was bought for becomes active (activatePaidSubscription).
 * The caller holds the invoice row lock (`lockInvoice`) and has checked the amount; this asserts it again.
 * Used by the portal's self-pay and, later, by the Finance app's allocations.
 */
export async function applyInvoicePayment(
  trx: Trx,
  ctx: Pick<Ctx, 'principal' | 'requestId' | 'ip' | 'userAgent' | 'clock'>,
  input: {
    partnerId: string; invoiceId: string; entryId: string; parts: readonly InvoicePaymentPart[]; paidBy: string | null; at: Date;
    /** The invoice row as the caller locked it (`lockInvoice`) in this transaction, unchanged since: saves reading it again. */
    locked?: LockedInvoice;
  },
): Promise<AppliedPayment> {
  const invoice: Pick<LockedInvoice, 'id' | 'customerId' | 'currency' | 'status' | 'totalMicros' | 'amountPaidMicros' | 'amountCreditedMicros' | 'amountDueMicros' | 'informational'> =
    input.locked?.id === input.invoiceId && input.locked.partnerId === input.partnerId
      ? input.locked
      : await trx.selectFrom('invoices')
        .select(['id', 'customerId', 'currency', 'status', 'totalMicros', 'amountPaidMicros', 'amountCreditedMicros', 'amountDueMicros', 'informational'])
        .where('partnerId', '=', input.partnerId).where('id', '=', input.invoiceId)
        .executeTakeFirstOrThrow();
  assert(invoice.status === 'awaiting_payment' || invoice.status === 'partially_paid', 'only an open invoice is paid');
  assert(!invoice.informational, 'an informational statement is never paid');
  const paying = input.parts.reduce((sum, p) => sum + p.amountMicros, 0n);
  assert(input.parts.every((p) => p.amountMicros > 0n) && paying > 0n, 'payment parts are positive');
  const dueBefore = BigInt(invoice.amountDueMicros);
  assert(paying <= dueBefore, 'a payment never exceeds what is due');

  const paid = BigInt(invoice.amountPaidMicros) + paying;
  const due = dueBefore - paying;
  assert(due === BigInt(invoice.totalMicros) - paid - BigInt(invoice.amountCreditedMicros), 'amount due = total - paid - credited');
  const status: InvoiceStatus = due === 0n ? 'paid' : 'partially_paid';
  const paidAt = due === 0n ? input.at : null;

  await trx.insertInto('invoicePayments').values(input.parts.map((p) => ({
    id: newId('ipy'), partnerId: input.partnerId, customerId: invoice.customerId, invoiceId: invoice.id, source: p.source,
    currency: invoice.currency, amountMicros: p.amountMicros, entryId: input.entryId, attemptId: p.attemptId ?? null,
    paymentId: p.paymentId ?? null, chargeRef: p.chargeRef ?? null, receiptNumber: p.receiptNumber ?? null, paidBy: input.paidBy, createdAt: input.at,
  }))).execute();
  await trx.updateTable('invoices')
    .set({ amountPaidMicros: paid, amountDueMicros: due, status, paidAt, updatedAt: input.at })
    .where('partnerId', '=', input.partnerId).where('id', '=', invoice.id)
    .execute();
  const activated = status === 'paid' ? await activatePaidSubscription(trx, ctx, { partnerId: input.partnerId, invoiceId: invoice.id }) : null;
  return { status, amountPaidMicros: paid, amountDueMicros: due, paidAt, activatedSubscriptionId: activated?.subscriptionId ?? null };
}

export type LockedInvoice = Selectable<InvoicesTable>;

/** The invoice row, locked for the rest of the transaction (wallet first, then the invoice: the lock order of payments). */
export async function lockInvoice(trx: Trx, key: { partnerId: string; customerId?: string; invoiceId: string }) {
  let q = trx.selectFrom('invoices').selectAll().where('partnerId', '=', key.partnerId).where('id', '=', key.invoiceId);
  if (key.customerId) q = q.where('customerId', '=', key.customerId);
  return q.forUpdate().executeTakeFirst();
}
