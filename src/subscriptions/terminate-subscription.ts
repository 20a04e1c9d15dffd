import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { formatDecimal, moneyText } from '../money/money.ts';
import { reverseEntry } from '../ledger/post-entry.ts';
import { currencyOf } from './pricing.ts';
import { isoDay } from './periods.ts';
import { refundToPoints } from './charge.ts';
import { planTermination } from './quote-termination.ts';
import { addEvent, assertStatus, auditSubscription, lockWalletAndSubscription, notifyCustomer, subscriptionCaller } from './subscriptions.repo.ts';
import { subscriptionViews, type SubscriptionView } from './subscription-views.ts';

export interface TerminateInput {
  subscriptionId: string;
  reason: string;
  /** The `If-Match` header: when given and stale, nothing is written (412). */
  ifMatch?: string | undefined;
}

/**
 * Terminate a subscription on request (staff, or a portal owner/admin). Final: it never renews or reactivates again.
 * - active: refunded into points by docs/adr/0010 (in full within 14 days of activation or the last renewal, otherwise the
 *   remaining whole months of the period, price part, tax in proportion): Dr sales_returns · Dr tax_payable · Cr points:{c},
 *   and the cost back (Dr platform_payable · Cr cost:subscription);
 *   The refund is capped by what is left to give back on the invoices that billed the charges (credit notes may have
 *   given some back already: termination-caps.ts), and refused while one of them has something due;
 * - pending_payment: cancelled: its unpaid Purchase invoice is voided and the receivable entry reversed (409 if it is partly
 *   paid); when credit notes already took the whole invoice back, it is only terminated (nothing owed, nothing to refund);
 * - expired: the period is over, nothing to refund.
 * Audit `subscription.terminated` (with the refund), history, and a termination notice to the customer.
 */
export async function terminateSubscription(ctx: Ctx, input: TerminateInput): Promise<SubscriptionView> {
  const caller = subscriptionCaller(ctx.principal);
  const reason = input.reason.trim();
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    const { sub } = await lockWalletAndSubscription(trx, caller, input.subscriptionId, input.ifMatch);
    assertStatus(sub, ['pending_payment', 'active', 'expired'], 'terminated');
    const now = ctx.clock.now();
    const currency = currencyOf(sub.currency);
    const fmt = (m: bigint) => formatDecimal(m, currency);
    const product = await trx.selectFrom('products').select('name').where('partnerId', '=', caller.partnerId).where('id', '=', sub.productId).executeTakeFirstOrThrow();

    const { refund, capped, voidedInvoice, creditedInvoice } = await planTermination(trx, caller, sub, now, { lock: true });

    const auditEventId = await auditSubscription(trx, ctx, caller, {
      customerId: sub.customerId, subscriptionId: sub.id, action: 'subscription.terminated',
      changes: {
        status: { before: sub.status, after: 'terminated' }, reason: { after: reason },
        ...(refund ? {
          refundRule: { after: refund.rule }, ...(refund.rule === 'whole_months' ? { refundMonths: { after: refund.months } } : {}),
          refundPrice: { after: fmt(refund.priceMicros) }, refundTax: { after: fmt(refund.taxMicros) }, refundTotal: { after: fmt(refund.priceMicros + refund.taxMicros) },
        } : {}),
        ...(capped && capped.withheldMicros > 0n ? { refundWithheld: { after: fmt(capped.withheldMicros) } } : {}),
        ...(voidedInvoice ? { voidedInvoice: { after: voidedInvoice.number } } : {}),
        ...(creditedInvoice ? { creditedInvoice: { after: creditedInvoice.number } } : {}),
      },
    });
    let refundEntryId: string | null = null;
    if (refund && refund.priceMicros + refund.taxMicros + refund.costMicros > 0n) {
      const entryId = await refundToPoints(trx, {
        partnerId: caller.partnerId, customerId: sub.customerId, currency, priceMicros: refund.priceMicros, taxMicros: refund.taxMicros, costMicros: refund.costMicros,
        entry: { kind: 'subscription_refund', subscriptionId: sub.id, description: `Refund: ${product.name} terminated`, auditEventId },
      });
      refundEntryId = entryId;
      const rows = entryId === null ? [] : [...capped!.byInvoice].map(([invoiceId, amountMicros]) => ({
        partnerId: caller.partnerId, customerId: sub.customerId, subscriptionId: sub.id, invoiceId, amountMicros, entryId, createdAt: now,
      }));
      if (rows.length > 0) await trx.insertInto('subscriptionRefundInvoices').values(rows).execute();
    }
    if (voidedInvoice) {
      const charge = await trx.selectFrom('subscriptionCharges').select('entryId')
        .where('partnerId', '=', caller.partnerId).where('subscriptionId', '=', sub.id).where('kind', '=', 'purchase').executeTakeFirstOrThrow();
      await trx.updateTable('invoices').set({
        status: 'void', amountDueMicros: 0n, voidedAt: now, voidedBy: caller.actorId, voidReason: `Purchase cancelled: ${reason}`.slice(0, 500), updatedAt: now,
      })
        .where('partnerId', '=', caller.partnerId).where('id', '=', voidedInvoice.id).execute();
      if (charge.entryId) await reverseEntry(trx, charge.entryId, { kind: 'subscription_purchase_cancelled', description: `Cancelled: ${product.name}`, auditEventId });
    }
    await trx.updateTable('subscriptions').set({
      status: 'terminated', terminatedAt: now, terminationKind: 'request', terminationReason: reason,
      ...(refund ? { refundPriceMicros: refund.priceMicros, refundTaxMicros: refund.taxMicros, refundCostMicros: refund.costMicros, refundEntryId } : {}),
      updatedAt: now,
    }).where('partnerId', '=', caller.partnerId).where('id', '=', sub.id).execute();
    const refundTotal = refund ? refund.priceMicros + refund.taxMicros : 0n;
    const withheld = capped && capped.withheldMicros > 0n ? `, less ${moneyText(capped.withheldMicros, currency)} already credited` : '';
    const refundText = creditedInvoice ? `invoice ${creditedInvoice.number ?? ''} was credited: nothing is owed`
      : refund && refund.priceMicros + refund.taxMicros === 0n ? `nothing to refund: the invoice was already credited`
      : refund
      ? refund.rule === 'full'
        ? `refunded in full${withheld}: ${moneyText(refundTotal, currency)} back to points`
        : `${refund.months} whole month${refund.months === 1 ? '' : 's'} refunded${withheld}: ${moneyText(refundTotal, currency)} back to points`
      : voidedInvoice ? `invoice ${voidedInvoice.number ?? ''} voided` : 'nothing to refund';
    await addEvent(trx, {
      sub, kind: 'terminated', amountMicros: refund ? -refundTotal : null, invoiceId: voidedInvoice?.id ?? null, actor: caller.actorId, auditEventId, at: now,
      detail: `${reason} (${refundText})`,
    });
    await notifyCustomer(trx, {
      partnerId: caller.partnerId, customerId: sub.customerId, userId: caller.portalUserId, kind: 'subscription_terminated',
      subject: `${product.name} terminated`,
      lines: [
        `${product.name} was terminated on ${isoDay(now)}: ${reason}.`,
        refund
          ? `${refundText}${refund.taxMicros > 0n ? ` (tax ${moneyText(refund.taxMicros, currency)} included)` : ''}.`
          : creditedInvoice ? `Invoice ${creditedInvoice.number ?? ''} was credited: nothing is owed.`
          : voidedInvoice ? `Invoice ${voidedInvoice.number ?? ''} is void: nothing is owed.` : 'Its period had ended: nothing to refund.',
      ],
    });
    const row = await trx.selectFrom('subscriptions').selectAll().where('partnerId', '=', caller.partnerId).where('id', '=', sub.id).executeTakeFirstOrThrow();
    return (await subscriptionViews(trx, caller.partnerId, [row]))[0]!;
  });
}
