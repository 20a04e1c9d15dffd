import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { enqueueNotification } from '../notifications/enqueue-notification.ts';
import { partnerCaller } from '../access/caller.ts';
import { invoiceCurrency, sellerOf } from './invoice-views.ts';
import { invoiceNoticeText, invoiceRecipient, portalInvoiceLink } from './issue-draft-invoice.ts';

/**
 * Send an issued invoice to the customer again (its billing email, else its owner): a notification with the number,
 * total, amount due, due date and a link to it in the portal. Drafts and void invoices are not sent (409
 * `invoice_not_issued`); a customer with nowhere to send to is a 409 `state_conflict`. Audit `invoice.resent`. From the
 * seller the invoice was issued by.
 */
export async function resendInvoice(ctx: Ctx, input: { invoiceId: string }): Promise<{ notificationId: string; toEmail: string }> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const inv = await trx.selectFrom('invoices').select(['id', 'customerId', 'number', 'status', 'type', 'currency', 'totalMicros', 'amountDueMicros', 'dueAt', 'seller', 'sellerLogoSha256'])
      .where('partnerId', '=', partnerId).where('id', '=', input.invoiceId).executeTakeFirst();
    if (!inv) throw notFound('Invoice');
    if (inv.status === 'draft' || inv.status === 'void' || inv.number === null) {
      throw new DomainError('invoice_not_issued', `This invoice is ${inv.status}: only issued invoices are sent`);
    }
    const to = await invoiceRecipient(trx, partnerId, inv.customerId);
    if (!to) throw new DomainError('state_conflict', 'The customer has no billing email and no owner: add a billing contact first');
    const currency = invoiceCurrency(inv.currency);
    const fmt = (m: string) => `${formatDecimal(BigInt(m), currency)} ${currency}`;
    // The seller as the invoice names it (as issued: migration 0076), not as the settings say now.
    const seller = await sellerOf(trx, partnerId, inv);
    await recordAudit(trx, ctx, {
      partnerId, customerId: inv.customerId, app: 'invoice', action: 'invoice.resent', targetType: 'invoice', targetId: inv.id,
      changes: { number: { after: inv.number }, toEmail: { after: to.email } },
    });
    const notificationId = await enqueueNotification(trx, {
      partnerId, customerId: inv.customerId, userId: to.userId, toEmail: to.email, kind: 'invoice_resent',
      subject: `Invoice ${inv.number} from ${seller.name}: ${fmt(inv.amountDueMicros)} due${inv.dueAt ? ` ${inv.dueAt.toISOString().slice(0, 10)}` : ''}`,
      bodyText: [
        invoiceNoticeText({ seller: seller.name, number: inv.number, type: inv.type, total: fmt(inv.totalMicros), dueAt: inv.dueAt, link: portalInvoiceLink(ctx, inv.id), resent: true }),
        '',
        `Amount due: ${fmt(inv.amountDueMicros)}`,
      ].join('\n'),
    });
    return { notificationId, toEmail: to.email };
  });
}
