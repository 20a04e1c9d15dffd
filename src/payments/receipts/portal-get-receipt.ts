import type { Ctx } from '../../platform/context.ts';
import { inScope } from '../../platform/database.ts';
import { notFound } from '../../platform/errors.ts';
import { portalCaller, seesCompanyCredits } from '../../access/caller.ts';
import { invoiceTypesSeenBy, isPointsDebitNote } from '../../invoices/portal-invoices.ts';
import { loadReceipt } from './receipt-view.ts';
import { renderReceiptPdf } from './render-receipt-pdf.ts';

/**
 * The portal's receipt of a payment that paid one of the organisation's invoices (Portal Home > Invoices, a payment
 * listed on an invoice as recorded by Finance: bank transfer, cheque, cash). Found through the invoice, in the
 * customer's scope; the receipt itself is read in the partner's scope (payments are not readable from the portal) with
 * every query naming the customer: another customer's payment, a payment by points or card (no receipt) or a draft
 * invoice is 404.
 */
export async function portalGetReceiptPdf(ctx: Ctx, input: { invoiceId: string; invoicePaymentId: string }): Promise<{ filename: string; pdf: Buffer }> {
  const caller = portalCaller(ctx.principal);
  const { partnerId, customerId } = caller;
  const paid = await inScope(ctx.db, { kind: 'customer', partnerId, customerId }, (trx) =>
    trx.selectFrom('invoicePayments as ip')
      .innerJoin('invoices as i', (j) => j.onRef('i.id', '=', 'ip.invoiceId').onRef('i.partnerId', '=', 'ip.partnerId'))
      .select('ip.paymentId')
      .where('ip.partnerId', '=', partnerId).where('ip.invoiceId', '=', input.invoiceId).where('ip.id', '=', input.invoicePaymentId)
      .where('i.customerId', '=', customerId).where('i.status', '<>', 'draft').where('i.type', 'in', invoiceTypesSeenBy(caller.role))
      .executeTakeFirst());
  const paymentId = paid?.paymentId ?? null;
  if (paymentId === null) throw notFound('Receipt');
  const receipt = await inScope(ctx.db, { kind: 'partner', partnerId }, async (trx) => {
    const own = await trx.selectFrom('payments').select(['id', 'status'])
      .where('partnerId', '=', partnerId).where('customerId', '=', customerId).where('id', '=', paymentId).executeTakeFirst();
    if (!own) throw notFound('Receipt');
    // A receipt lists everything the payment paid and what it left: members and guests, who do not see company credits
    // (domain.md), get it only when it paid Purchase invoices alone and all of it went there (no points, no Top-up
    // invoice, nothing kept as credit, not reversed, which may bill points already spent); otherwise 404.
    if (!seesCompanyCredits(caller.role)) {
      if (own.status !== 'allocated' || await isPointsDebitNote(trx, partnerId, input.invoiceId)) throw notFound('Receipt');
      const credits = await trx.selectFrom('paymentAllocations as a')
        .leftJoin('invoices as i', (j) => j.onRef('i.id', '=', 'a.invoiceId').onRef('i.partnerId', '=', 'a.partnerId'))
        .select('a.id')
        .where('a.partnerId', '=', partnerId).where('a.paymentId', '=', paymentId)
        .where((eb) => eb.or([eb('a.kind', '=', 'points'), eb('i.type', '<>', 'purchase')]))
        .limit(1).executeTakeFirst();
      if (credits) throw notFound('Receipt');
    }
    return loadReceipt(trx, partnerId, paymentId);
  });
  const pdf = await renderReceiptPdf(receipt, { generatedAt: ctx.clock.now() });
  return { filename: `${receipt.number.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf`, pdf };
}
