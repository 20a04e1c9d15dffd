import assert from 'node:assert/strict';
import type { Ctx } from '../platform/context.ts';
import type { Trx } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal, isWholeMinorUnits, microsPerMinorUnit, type Currency } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { creditWallet } from '../wallet/charge-wallet.ts';
import { nextInvoiceNumber } from '../invoices/invoice-numbers.ts';
import { currentBillTo } from '../invoices/invoice-views.ts';

/**
 * The debit note of a payment reversal: points the reversed payment had created were already spent, beyond what the
 * customer's points and credit limit can take back; or of a temporary credit limit that ended with points spent under
 * it (the same debt: service consumed on credit that no longer stands). The shortfall is what the customer now owes for service already
 * consumed (its revenue was booked when the points were spent), so it moves from the points account to the receivable:
 * Dr `receivable:{c}` · Cr `points:{c}` (the points come back up to the credit limit), and it is billed on an issued
 * **Purchase invoice** with one line "Reversed payment <receipt> (<reference>)": exempt from tax (not a supply), no revenue
 * (already earned), due after the partner's usual due days. A real invoice rather than a loose receivable posting because
 * invariant 5 (`receivable_matches_invoices_due`, checkLedger) holds every receivable to open invoices, and because it is
 * then followed up like any debt: AR aging, the portal's invoice list and self-pay, Finance allocations, credit notes.
 * Audited `invoice.issued` (app finance) beside the `payment.reversed` that caused it. Runs inside the reversal's
 * transaction, with the wallet locked and after the reversal's audit event (the lock order: audit, number series, accounts).
 *
 * Whole minor units: `amountMicros` (the invoice's subtotal, total, amount due, its line and the receivable posting) is the
 * points spent (`spentMicros`, six decimals) rounded UP to the minor unit by the caller (splitPointsTakeBack in
 * reverse-payment.ts; docs/adr/0015-credit-notes.md, amendment 2026-12-05). The one entry credits the points with all of
 * it: `spentMicros` restores what was spent, the rest (< one minor unit) is left on the customer's points, so the entry
 * balances, the customer owes whole cents, and usable points end at that rest (>= 0).
 */
export async function issueReversalDebitNote(
  trx: Trx,
  ctx: Ctx,
  input: {
    partnerId: string; actorId: string | null; customerId: string; currency: Currency;
    /** What the debit note bills: whole minor units. */
    amountMicros: bigint;
    /** The points spent it covers (micros): amountMicros - spentMicros < one minor unit goes back to the points. */
    spentMicros: bigint;
    /**
     * Why the points spent are billed: a payment reversed after the points it credited were spent, or a temporary
     * credit limit that expired with points spent under it (src/wallet/credit-limit-expiry.ts).
     */
  } & ({ payment: { id: string; receiptNumber: string; reference: string | null } } | { expiredCreditLimit: { limitMicros: bigint; expiredAt: Date } }),
): Promise<{ id: string; number: string }> {
  assert(input.amountMicros > 0n, 'a debit note bills something');
  const { partnerId, customerId, currency, amountMicros, spentMicros } = input;
  assert(isWholeMinorUnits(amountMicros, currency), `a debit note is whole ${currency} minor units (round the shortfall up first)`);
  const roundingMicros = amountMicros - spentMicros;
  assert(roundingMicros >= 0n && roundingMicros < microsPerMinorUnit(currency), 'the debit note covers what was spent, by less than one minor unit');
  const now = ctx.clock.now();
  const fmt = (m: bigint) => formatDecimal(m, currency);
  const settings = await trx.selectFrom('partnerSettings').select('invoiceDueDays').where('partnerId', '=', partnerId).executeTakeFirst();
  const dueDays = settings?.invoiceDueDays ?? 14;
  const dueAt = new Date(now.getTime() + dueDays * 86_400_000);
  const id = newId('inv');
  const payment = 'payment' in input ? input.payment : null;
  const limit = 'expiredCreditLimit' in input ? input.expiredCreditLimit : null;
  const description = (payment
    ? `Reversed payment ${payment.receiptNumber}${payment.reference ? ` (${payment.reference})` : ''}: points already spent`
    : `Points spent on a temporary credit limit of ${fmt(limit!.limitMicros)} ${currency} that ended on ${limit!.expiredAt.toISOString().slice(0, 10)}`).slice(0, 500);

  const auditEventId = await recordAudit(trx, ctx, {
    partnerId, customerId, app: 'finance', action: 'invoice.issued', targetType: 'invoice', targetId: id,
    changes: {
      status: { after: 'awaiting_payment' }, type: { after: 'purchase' },
      ...(payment ? { debitNoteFor: { after: payment.id } } : { debitNoteForCreditLimit: { after: fmt(limit!.limitMicros) } }),
      total: { after: fmt(amountMicros) }, currency: { after: currency }, dueAt: { after: dueAt.toISOString() },
      ...(roundingMicros > 0n ? { pointsSpent: { after: fmt(spentMicros) }, roundingToPoints: { after: fmt(roundingMicros) } } : {}),
    },
  });
  const number = await nextInvoiceNumber(trx, partnerId, 'purchase', now);
  const billTo = await currentBillTo(trx, partnerId, customerId);
  await trx.insertInto('invoices').values({
    id, partnerId, customerId, type: 'purchase', status: 'awaiting_payment', number, currency,
    subtotalMicros: amountMicros, discountMicros: 0n, taxMicros: 0n, totalMicros: amountMicros, amountPaidMicros: 0n, amountDueMicros: amountMicros,
    issuedAt: now, dueAt, dueDays, paidAt: null, billTo: JSON.stringify(billTo), draftLines: null, createdBy: input.actorId,
    notes: (payment
      ? `Debit note: payment ${payment.receiptNumber} was reversed after the points it credited were spent beyond the credit limit.`
      : `Debit note: your temporary credit limit of ${fmt(limit!.limitMicros)} ${currency} ended with points spent under it; they are billed here.`)
      + (roundingMicros > 0n ? ` Points spent: ${fmt(spentMicros)} ${currency}, billed in whole minor units; the ${fmt(roundingMicros)} ${currency} above it was added back to your points.` : ''),
    createdAt: now, updatedAt: now,
  }).execute();
  await trx.insertInto('invoiceLines').values({
    invoiceId: id, partnerId, customerId, position: 1, kind: 'text', description, productId: null, variantId: null, quantity: '1',
    unitAmountMicros: amountMicros, grossMicros: amountMicros, discountMicros: 0n, amountMicros, taxCategory: 'exempt', taxRateBps: 0, taxMicros: 0n,
  }).execute();
  await creditWallet(trx, {
    wallet: { partnerId, customerId, currency }, amountMicros,
    entry: {
      kind: payment ? 'payment_reversal_receivable' : 'credit_limit_expired_receivable', causeType: 'invoice', causeId: id, auditEventId,
      description: (payment ? `Points spent beyond the credit limit, billed on invoice ${number}` : `Points spent on an ended credit limit, billed on invoice ${number}`)
        + (roundingMicros > 0n ? ` (${fmt(spentMicros)} spent, billed ${fmt(amountMicros)}: ${fmt(roundingMicros)} back to points)` : ''),
    },
    counterPostings: [{ code: 'receivable', customerId, amountMicros }],
  });
  return { id, number };
}
