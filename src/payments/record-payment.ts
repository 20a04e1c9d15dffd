import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { idOf } from '../platform/schemas.ts';
import { formatDecimal, isCurrency, type Currency } from '../money/money.ts';
import { isIsoDay } from '../topup/dates.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { postEntry } from '../ledger/post-entry.ts';
import { customerOf, financeAmount } from '../finance/finance-views.ts';
import { PAYMENT_METHODS, type PaymentMethod } from './payments.db-types.ts';
import { loadPaymentDetail, type PaymentDetail } from './payment-views.ts';
import { nextReceiptNumber } from './receipts/receipt-numbers.ts';
import { notifyReceipt } from './receipts/receipt-notice.ts';

export const recordPaymentBody = z.strictObject({
  method: z.enum(PAYMENT_METHODS),
  amount: z.string().max(40).describe('Decimal string, whole minor units of the currency, more than 0, e.g. "100.00"'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as SGD'),
  receivedOn: z.string().refine(isIsoDay, 'a date YYYY-MM-DD').describe('The day the money arrived (UTC), not in the future'),
  reference: z.string().trim().min(1).max(200).optional().describe('Bank reference, cheque number ...'),
  remark: z.string().trim().min(1).max(1000).optional(),
  customerId: idOf('cus').optional().describe('The payer, when known; otherwise the payment waits in the Unassigned list'),
});
export type RecordPaymentInput = z.infer<typeof recordPaymentBody>;

/** `card` money arrives through the card terminal's clearing account; everything else lands in the bank. */
export function cashAccountOf(method: PaymentMethod): 'bank' | 'card_clearing' {
  return method === 'card' ? 'card_clearing' : 'bank';
}

/**
 * Finance records money received outside the portal. From a known customer: Dr `bank` (`card_clearing` for card) ·
 * Cr `unapplied:{c}`, status `unallocated`. Payer unknown: Dr `bank` · Cr `unassigned`, status `unassigned` (assigned
 * later). The payment row (with its receipt number, src/payments/receipts), the entry, the audit event `payment.recorded`
 * and, with a customer, the receipt notice (`received`, receipt-notice.ts) commit together.
 */
export async function recordPayment(ctx: Ctx, input: RecordPaymentInput): Promise<PaymentDetail> {
  return inScope(ctx.db, scopeOf(ctx.principal), (trx) => recordPaymentIn(trx, ctx, input));
}

/** The same, inside the caller's transaction (a bank statement line accepted: the line and its payment commit together). */
export async function recordPaymentIn(trx: Trx, ctx: Ctx, input: RecordPaymentInput): Promise<PaymentDetail> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  if (!isCurrency(input.currency)) {
    throw new DomainError('validation_failed', `currency ${input.currency} is not supported`, [{ path: 'currency', message: 'not a supported currency' }]);
  }
  const currency: Currency = input.currency;
  const today = ctx.clock.now().toISOString().slice(0, 10);
  if (input.receivedOn > today) {
    throw new DomainError('rule_violation', 'receivedOn must not be in the future', [{ path: 'receivedOn', message: 'must not be in the future' }]);
  }
  const micros = financeAmount(input.amount, currency, 'amount', { allowZero: false });
  const customer = input.customerId ? await customerOf(trx, partnerId, input.customerId, 'customerId') : null;
  if (customer && customer.currency !== currency) {
    throw new DomainError('currency_mismatch', `The customer is billed in ${customer.currency}, the payment is in ${currency}`, [
      { path: 'currency', message: `the customer is billed in ${customer.currency}` },
    ]);
  }
  const id = newId('pay');
  const entryId = newId('je');
  const fmt = (m: bigint) => formatDecimal(m, currency);
  const status = customer ? 'unallocated' : 'unassigned';
  const auditEventId = await recordAudit(trx, ctx, {
    partnerId, customerId: customer?.id ?? null, app: 'finance', action: 'payment.recorded', targetType: 'payment', targetId: id,
    changes: {
      method: { after: input.method }, amount: { after: fmt(micros) }, currency: { after: currency }, receivedOn: { after: input.receivedOn },
      reference: { after: input.reference ?? null }, customerId: { after: customer?.id ?? null }, status: { after: status }, entryId: { after: entryId },
    },
  });
  // After the audit event (the lock order of money transactions: audit chain, then number series, then accounts).
  const receiptNumber = await nextReceiptNumber(trx, partnerId, ctx.clock.now());
  await trx.insertInto('payments').values({
    id, receiptNumber, partnerId, customerId: customer?.id ?? null, method: input.method, currency, amountMicros: micros, unallocatedMicros: micros,
    status, receivedOn: input.receivedOn, reference: input.reference ?? null, remark: input.remark ?? null, entryId, recordedBy: actorId,
    updatedAt: ctx.clock.now(),
  }).execute();
  await postEntry(trx, {
    entryId, partnerId, currency, customerId: customer?.id ?? null, kind: 'payment_received', causeType: 'payment', causeId: id,
    description: customer ? `Payment received (${input.method.replace('_', ' ')})` : 'Payment received, payer not yet known', auditEventId,
    postings: [
      { code: cashAccountOf(input.method), amountMicros: micros },
      customer ? { code: 'unapplied', customerId: customer.id, amountMicros: -micros } : { code: 'unassigned', amountMicros: -micros },
    ],
  });
  if (customer) await notifyReceipt(trx, { partnerId, paymentId: id, event: 'received' });
  return loadPaymentDetail(trx, partnerId, id);
}
