import type { Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { formatDecimal, moneyText } from '../money/money.ts';
import { reverseEntry } from '../ledger/post-entry.ts';
import { currencyOf, type SubscriptionRow } from './pricing.ts';
import { isoDay } from './periods.ts';
import { refundToPoints } from './charge.ts';
import { computeRefund, type PeriodCharge, type Refund } from './refunds.ts';
import { capRefund, invoiceRefundRooms, type CappedRefund } from './termination-caps.ts';
import { addEvent, assertStatus, auditSubscription, lockWalletAndSubscription, notifyCustomer, subscriptionCaller } from './subscriptions.repo.ts';
import { subscriptionViews, type SubscriptionView } from './subscription-views.ts';

export interface TerminateInput {
  subscriptionId: string;
  reason: string;
  /** The `If-Match` header: when given and stale, nothing is written (412). */
  ifMatch?: string | undefined;
}

/** The charges of the subscription's current period (its period charge and the add-on charges made during it). */
async function currentPeriodCharges(trx: Trx, sub: SubscriptionRow): Promise<Array<PeriodCharge & { invoiceId: string | null }>> {
  const rows = await trx.selectFrom('subscriptionCharges').selectAll()
    .where('partnerId', '=', sub.partnerId).where('subscriptionId', '=', sub.id)
    .where((eb) => eb.or([
      eb.and([eb('kind', 'in', ['purchase', 'renewal', 'reactivation']), eb('periodStart', '=', sub.currentPeriodStart!)]),
      eb.and([eb('kind', '=', 'add_on'), eb('periodEnd', '=', sub.currentPeriodEnd!), eb('periodStart', '>=', sub.currentPeriodStart!)]),
    ]))
    .orderBy('chargedAt').orderBy('id')
    .execute();
  return rows.map((r) => ({
    invoiceId: r.invoiceId, kind: r.kind, periodStart: r.periodStart!, periodEnd: r.periodEnd!, priceMicros: BigInt(r.priceMicros),
    activationFeeMicros: BigInt(r.activationFeeMicros), taxMicros: BigInt(r.taxMicros), costMicros: BigInt(r.costMicros),
  }));
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

    let refund: Refund | null = null;
    let capped: CappedRefund | null = null;
    let voidedInvoice: { id: string; number: string | null } | null = null;
    let creditedInvoice: { number: string | null } | null = null;
    if (sub.status === 'active') {
      const charges = await currentPeriodCharges(trx, sub);
      const computed = computeRefund({
        currency, cycle: sub.cycle, now, periodStart: sub.currentPeriodStart!, periodEnd: sub.currentPeriodEnd!,
        lastChargedAt: sub.lastRenewedAt && sub.lastRenewedAt > sub.activatedAt! ? sub.lastRenewedAt : sub.activatedAt!,
        charges,
      });
      // What credit notes (or another termination) already gave back on the invoices is not given back twice.
      const rooms = await invoiceRefundRooms(trx, caller.partnerId, charges.flatMap((c) => (c.invoiceId ? [c.invoiceId] : [])), caller.app === 'portal');
      capped = capRefund(currency, computed, charges.map((c) => ({ invoiceId: c.invoiceId, totalMicros: c.priceMicros + c.activationFeeMicros + c.taxMicros })), rooms);
      refund = capped.refund;
    } else if (sub.status === 'pending_payment') {
      const invoice = await trx.selectFrom('invoices').select(['id', 'number', 'status', 'totalMicros', 'amountDueMicros', 'amountPaidMicros'])
        .where('partnerId', '=', caller.partnerId).where('id', '=', sub.pendingInvoiceId!).forUpdate().executeTakeFirstOrThrow();
      const rooms = invoice.status === 'paid' && BigInt(invoice.amountDueMicros) === 0n
        ? await invoiceRefundRooms(trx, caller.partnerId, [invoice.id], caller.app === 'portal') : null;
      if (rooms && rooms.get(invoice.id)!.leftMicros === 0n) {
        // Credit notes took the whole invoice back (its due reduced, anything paid given back): nothing is owed, nothing to refund.
        creditedInvoice = { number: invoice.number };
      } else if (invoice.status !== 'awaiting_payment' || invoice.amountDueMicros !== invoice.totalMicros) {
        // Part of it is paid: only Finance can give that back (a credit note). A customer is told who can, and what else works.
        const what = `Invoice ${invoice.number ?? invoice.id} is ${invoice.status.replace('_', ' ')}`;
        throw new DomainError('state_conflict', caller.app === 'portal'
          ? `${what}: pay the rest to start the subscription, or ask your provider to cancel it (they credit what you paid)`
          : `${what}: cancel it with a credit note first`);
      } else {
        voidedInvoice = { id: invoice.id, number: invoice.number };
      }
    }

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
