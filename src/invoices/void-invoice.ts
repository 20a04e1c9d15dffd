import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { reverseEntry } from '../ledger/post-entry.ts';
import { nextInvoiceNumber } from './invoice-numbers.ts';
import type { InvoiceDetail } from './invoice-view-types.ts';
import { draftTotals, invoiceCurrency, loadInvoiceDetail, partnerTaxRate } from './invoice-views.ts';

/**
 * Void an invoice (the Invoice app), with a reason. Only while nothing is paid or credited on it and no portal payment
 * of it is in progress (else 409 `invoice_not_voidable`); a void invoice is final.
 * - An issued Purchase invoice: its receivable entry is reversed by a new entry (Dr revenue · Dr tax_payable ·
 *   Cr receivable:{c}), so the books no longer claim it.
 * - A Top-up invoice posted nothing at issue: nothing to reverse.
 * - A draft has no number yet; voiding it gives it the next number of its series (issued and voided at once, lines
 *   written, nothing posted), so the series stays gapless and the register shows every number it handed out.
 * - A pending_payment subscription waiting on the invoice: 409 `invoice_has_pending_subscription` (cancel the
 *   subscription from the Customer app, which voids its invoice).
 * Audit `invoice.voided`. The row keeps amount due = total - paid - credited (a database rule); views show 0 due.
 */
export async function voidInvoice(ctx: Ctx, input: { invoiceId: string; reason: string }): Promise<InvoiceDetail> {
  const caller = partnerCaller(ctx.principal);
  const { partnerId } = caller;
  const reason = input.reason.trim();
  if (reason.length < 1 || reason.length > 500) throw new DomainError('validation_failed', 'reason must be 1 to 500 characters', [{ path: 'reason', message: '1 to 500 characters' }]);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const inv = await trx.selectFrom('invoices').selectAll().where('partnerId', '=', partnerId).where('id', '=', input.invoiceId).forUpdate().executeTakeFirst();
    if (!inv) throw notFound('Invoice');
    const label = inv.number ?? 'This draft';
    if (inv.status !== 'draft' && inv.status !== 'awaiting_payment') {
      throw new DomainError('invoice_not_voidable', `${label} is ${inv.status.replace('_', ' ')}: only an invoice with nothing paid can be voided; correct it with a credit note`);
    }
    if (BigInt(inv.amountPaidMicros) !== 0n || BigInt(inv.amountCreditedMicros) !== 0n) {
      throw new DomainError('invoice_not_voidable', `${label} has payments or credits recorded: correct it with a credit note`);
    }
    const pendingPay = await trx.selectFrom('invoicePayAttempts').select('id')
      .where('partnerId', '=', partnerId).where('invoiceId', '=', inv.id).where('status', '=', 'pending').executeTakeFirst();
    if (pendingPay) throw new DomainError('invoice_not_voidable', `${label} is being paid in the portal right now: try again when that payment has finished (one with no answer from the card gateway is settled automatically, usually within 15 minutes)`);
    const sub = await trx.selectFrom('subscriptions').select('id')
      .where('partnerId', '=', partnerId).where('pendingInvoiceId', '=', inv.id).where('status', '=', 'pending_payment').executeTakeFirst();
    if (sub) {
      throw new DomainError('invoice_has_pending_subscription',
        `${label} pays for a subscription waiting for payment (${sub.id}): cancel that subscription from the Customer app, which voids this invoice with it`);
    }

    const now = ctx.clock.now();
    const currency = invoiceCurrency(inv.currency);
    const fmt = (m: bigint) => formatDecimal(m, currency);
    let issueEntryId: string | null = null;
    if (inv.status === 'awaiting_payment' && inv.type === 'purchase') {
      const entries = await trx.selectFrom('journalEntries').select(['id', 'reversesEntryId'])
        .where('partnerId', '=', partnerId).where('causeType', '=', 'invoice').where('causeId', '=', inv.id).execute();
      const issued = entries.find((e) => e.reversesEntryId === null);
      if (!issued) {
        throw new DomainError('invoice_not_voidable', `${label} was not issued by the Invoice app: void it where it was made (e.g. cancel its subscription)`);
      }
      issueEntryId = issued.id;
    }

    // A draft gets its number as it is voided (issued and voided at once, nothing owed, nothing posted); the event names
    // the number either way, so the trail is searched by it (the event joins the chain at commit: record-audit.ts).
    const number = inv.status === 'draft' ? await nextInvoiceNumber(trx, partnerId, inv.type, now) : inv.number;
    const auditEventId = await recordAudit(trx, ctx, {
      partnerId, customerId: inv.customerId, app: 'invoice', action: 'invoice.voided', targetType: 'invoice', targetId: inv.id,
      changes: {
        status: { before: inv.status, after: 'void' }, ...(inv.status === 'draft' ? { number: { before: null, after: number } } : { number: { after: number } }),
        reason: { after: reason }, total: { after: fmt(BigInt(inv.totalMicros)) },
      },
    });
    if (inv.status === 'draft') {
      const lines = inv.draftLines ?? [];
      const totals = draftTotals(currency, inv.type, lines, await partnerTaxRate(trx, partnerId));
      await trx.updateTable('invoices').set({
        status: 'void', number, issuedAt: now, draftLines: null, voidedAt: now, voidedBy: caller.actorId, voidReason: reason,
        subtotalMicros: totals.subtotalMicros, discountMicros: totals.discountMicros, taxMicros: totals.taxMicros, totalMicros: totals.totalMicros,
        amountDueMicros: 0n, updatedAt: now,
      }).where('partnerId', '=', partnerId).where('id', '=', inv.id).execute();
      if (lines.length > 0) {
        await trx.insertInto('invoiceLines').values(totals.lines.map((l, i) => ({
          invoiceId: inv.id, partnerId, customerId: inv.customerId, position: i + 1, kind: lines[i]!.kind, description: lines[i]!.description,
          productId: lines[i]!.productId, variantId: lines[i]!.variantId, quantity: l.quantity, unitAmountMicros: l.unitAmountMicros,
          grossMicros: l.grossMicros, discountMicros: l.discountMicros, amountMicros: l.amountMicros, taxCategory: l.taxCategory,
          taxRateBps: l.taxRateBps, taxMicros: l.taxMicros,
        }))).execute();
      }
    } else {
      await trx.updateTable('invoices').set({ status: 'void', amountDueMicros: 0n, voidedAt: now, voidedBy: caller.actorId, voidReason: reason, updatedAt: now })
        .where('partnerId', '=', partnerId).where('id', '=', inv.id).execute();
      if (issueEntryId) await reverseEntry(trx, issueEntryId, { kind: 'invoice_voided', description: `Invoice ${inv.number} voided`, auditEventId });
    }
    return (await loadInvoiceDetail(trx, { partnerId, invoiceId: inv.id, now: ctx.clock.now() }))!;
  });
}
