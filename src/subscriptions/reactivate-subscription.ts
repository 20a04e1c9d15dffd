import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { formatDecimal, moneyText } from '../money/money.ts';
import { currencyOf, partnerTaxRateBps, quoteOf, renewalPricing } from './pricing.ts';
import { addDays, isoDay, periodAfter, reactivationDeadline } from './periods.ts';
import { chargeQuoteFromPoints, insertCharge } from './charge.ts';
import { addEvent, assertStatus, auditSubscription, lockWalletAndSubscription, notifyCustomer, subscriptionCaller, findBuyingCustomer } from './subscriptions.repo.ts';
import { subscriptionViews, type SubscriptionView } from './subscription-views.ts';

/**
 * Reactivate an expired subscription, within 28 days of its expiry (409 `reactivation_window_closed` after; the job
 * terminates it on day 29). The FULL fee of a period, at today's catalog prices (the subscription x quantity and its add-ons
 * at the quantity they renew with; pending decreases apply now), plus tax, charged from points (422 `insufficient_points`
 * when short). The ORIGINAL anchor is kept: the new period runs from the old expiry to the next anchor date, so the days
 * spent expired are not added at the end. Audit `subscription.reactivated`, history, a paid Purchase invoice, a notice.
 */
export async function reactivateSubscription(ctx: Ctx, input: { subscriptionId: string; ifMatch?: string | undefined }): Promise<SubscriptionView> {
  const caller = subscriptionCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    const { sub, wallet } = await lockWalletAndSubscription(trx, caller, input.subscriptionId, input.ifMatch);
    assertStatus(sub, ['expired'], 'reactivated');
    await findBuyingCustomer(trx, caller.partnerId, sub.customerId);
    const now = ctx.clock.now();
    const expiry = sub.currentPeriodEnd!;
    const deadline = reactivationDeadline(expiry);
    if (now >= deadline) {
      throw new DomainError('reactivation_window_closed', `This subscription expired on ${isoDay(expiry)}: it could be reactivated until ${isoDay(addDays(deadline, -1))}`);
    }
    const period = periodAfter(sub.anchorAt!, sub.cycle, expiry);
    const currency = currencyOf(sub.currency);
    const pricing = await renewalPricing(trx, sub, undefined, now);
    const quote = quoteOf(currency, pricing.lines, await partnerTaxRateBps(trx, caller.partnerId));
    if (quote.totalMicros > wallet.usableMicros) {
      throw new DomainError('insufficient_points', `Not enough points: ${moneyText(quote.totalMicros, currency)} needed, ${moneyText(wallet.usableMicros > 0n ? wallet.usableMicros : 0n, currency)} usable`);
    }
    const fmt = (m: bigint) => formatDecimal(m, currency);
    const what = `${pricing.main.product.name} — ${pricing.main.variant.name}`;
    const auditEventId = await auditSubscription(trx, ctx, caller, {
      customerId: sub.customerId, subscriptionId: sub.id, action: 'subscription.reactivated',
      changes: {
        status: { before: 'expired', after: 'active' },
        currentPeriodStart: { before: isoDay(sub.currentPeriodStart!), after: isoDay(period.start) },
        currentPeriodEnd: { before: isoDay(expiry), after: isoDay(period.end) },
        price: { after: fmt(quote.priceMicros) }, tax: { after: fmt(quote.taxMicros) }, total: { after: fmt(quote.totalMicros) },
      },
    });
    const charged = await chargeQuoteFromPoints(trx, {
      partnerId: caller.partnerId, customerId: sub.customerId, quote, at: now,
      entry: { kind: 'subscription_reactivation', subscriptionId: sub.id, description: `Reactivated: ${what}`, auditEventId },
      paidBy: caller.actorId,
    });
    await insertCharge(trx, {
      partnerId: caller.partnerId, customerId: sub.customerId, subscriptionId: sub.id, kind: 'reactivation', periodStart: period.start, periodEnd: period.end,
      currency, quantity: sub.quantity, quote, invoiceId: charged.invoice?.id ?? null, entryId: charged.entryId, at: now,
    });
    for (const a of pricing.addOns) {
      if (a.row.pendingQuantity === null) continue;
      await trx.updateTable('subscriptionAddOns')
        .set(a.row.pendingQuantity === 0 ? { pendingQuantity: null, removedAt: now, updatedAt: now } : { quantity: a.row.pendingQuantity, pendingQuantity: null, updatedAt: now })
        .where('partnerId', '=', caller.partnerId).where('id', '=', a.row.id).execute();
    }
    await trx.updateTable('subscriptions').set({
      status: 'active', currentPeriodStart: period.start, currentPeriodEnd: period.end, expiredAt: null, lastRenewedAt: now,
      renewalFailedAt: null, renewalFailureReason: null, updatedAt: now,
    }).where('partnerId', '=', caller.partnerId).where('id', '=', sub.id).execute();
    await addEvent(trx, {
      sub, kind: 'reactivated', amountMicros: quote.totalMicros, invoiceId: charged.invoice?.id ?? null, actor: caller.actorId, auditEventId, at: now,
      detail: `${isoDay(period.start)} to ${isoDay(period.end)}, full fee from points`,
    });
    await notifyCustomer(trx, {
      partnerId: caller.partnerId, customerId: sub.customerId, userId: caller.portalUserId, kind: 'subscription_reactivated',
      subject: `${pricing.main.product.name} reactivated${charged.invoice ? ` — ${charged.invoice.number}` : ''}`,
      lines: [
        `${what} is active again, ${isoDay(period.start)} to ${isoDay(period.end)}.`,
        `Charged from points: ${moneyText(quote.totalMicros, currency)} (tax ${moneyText(quote.taxMicros, currency)}).`,
        ...(charged.invoice ? [`Invoice: ${charged.invoice.number}`] : []),
      ],
    });
    const row = await trx.selectFrom('subscriptions').selectAll().where('partnerId', '=', caller.partnerId).where('id', '=', sub.id).executeTakeFirstOrThrow();
    return (await subscriptionViews(trx, caller.partnerId, [row]))[0]!;
  });
}
