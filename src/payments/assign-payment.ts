import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { idOf } from '../platform/schemas.ts';
import { formatDecimal } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { postEntry } from '../ledger/post-entry.ts';
import { customerOf } from '../finance/finance-views.ts';
import { loadPaymentDetail, lockPayment, paymentCurrency, type PaymentDetail } from './payment-views.ts';
import { notifyReceipt } from './receipts/receipt-notice.ts';

export const assignPaymentBody = z.strictObject({ customerId: idOf('cus') });

/**
 * An unassigned payment is given to its payer: Dr `unassigned` · Cr `unapplied:{c}`; status `unallocated`. Only an
 * unassigned payment (409 `payment_already_assigned`, or `payment_reversed`), only to a customer billed in the payment's
 * currency (422 `currency_mismatch`). Audited `payment.assigned`.
 */
export async function assignPayment(ctx: Ctx, input: { paymentId: string; customerId: string }): Promise<PaymentDetail> {
  const { partnerId, actorId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await customerOf(trx, partnerId, input.customerId, 'customerId');
    const payment = await lockPayment(trx, partnerId, input.paymentId);
    if (payment.status === 'reversed') throw new DomainError('payment_reversed', 'The payment was reversed');
    if (payment.status !== 'unassigned') throw new DomainError('payment_already_assigned', 'The payment is already assigned to a customer');
    const currency = paymentCurrency(payment.currency);
    if (customer.currency !== currency) {
      throw new DomainError('currency_mismatch', `The customer is billed in ${customer.currency}, the payment is in ${currency}`, [
        { path: 'customerId', message: `billed in ${customer.currency}, the payment is in ${currency}` },
      ]);
    }
    const micros = BigInt(payment.amountMicros);
    const entryId = newId('je');
    const now = ctx.clock.now();
    const auditEventId = await recordAudit(trx, ctx, {
      partnerId, customerId: customer.id, app: 'finance', action: 'payment.assigned', targetType: 'payment', targetId: payment.id,
      changes: {
        customerId: { before: null, after: customer.id }, status: { before: 'unassigned', after: 'unallocated' },
        amount: { after: formatDecimal(micros, currency) }, entryId: { after: entryId },
      },
    });
    await postEntry(trx, {
      entryId, partnerId, currency, customerId: customer.id, kind: 'payment_assigned', causeType: 'payment', causeId: payment.id,
      description: 'Payment received', auditEventId,
      postings: [{ code: 'unassigned', amountMicros: micros }, { code: 'unapplied', customerId: customer.id, amountMicros: -micros }],
    });
    await trx.updateTable('payments')
      .set({ customerId: customer.id, status: 'unallocated', assignEntryId: entryId, assignedBy: actorId, assignedAt: now, updatedAt: now })
      .where('partnerId', '=', partnerId).where('id', '=', payment.id)
      .execute();
    await notifyReceipt(trx, { partnerId, paymentId: payment.id, event: 'received' });
    return loadPaymentDetail(trx, partnerId, payment.id);
  });
}
