import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { formatDecimal, moneyText } from '../money/money.ts';
import { findPriceWithProduct } from '../products/sellable-price.ts';
import { assertChangeable, chargeProRata, quoteProRata } from './add-ons.ts';
import { currencyOf,  } from './pricing.ts';
import { isoDay } from './periods.ts';
import { addEvent, auditSubscription, lockWalletAndSubscription, notifyCustomer, subscriptionCaller, findBuyingCustomer } from './subscriptions.repo.ts';
import { subscriptionViews, type SubscriptionView } from './subscription-views.ts';

export interface ChangeAddOnQuantityInput {
  subscriptionId: string;
  addOnId: string;
  /** The new quantity: higher is charged now, pro rata; lower (0 removes) takes effect at the next renewal. */
  quantity: number;
  /** The `If-Match` header: when given and stale, nothing is written (412). */
  ifMatch?: string | undefined;
}

/**
 * Change an add-on's quantity on an active subscription:
 * - up: the extra units are charged at once from points, pro rata to the expiry (no activation fee again); a pending
 *   decrease is dropped;
 * - down (0 = remove): `pending_quantity`, applied by the next renewal; nothing refunded, the units stay until then;
 * - back to the current quantity: a pending decrease is cancelled.
 * Audit `subscription.add_on_changed`, history `quantity_changed`, and a notice to the customer.
 */
export async function changeAddOnQuantity(ctx: Ctx, input: ChangeAddOnQuantityInput): Promise<SubscriptionView> {
  const caller = subscriptionCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    const { sub, wallet } = await lockWalletAndSubscription(trx, caller, input.subscriptionId, input.ifMatch);
    // The subscription's state first, as the quote answers it: a terminated one's add-ons ended with it.
    const now = ctx.clock.now();
    const { end } = assertChangeable(sub, now);
    const addOn = await trx.selectFrom('subscriptionAddOns').selectAll()
      .where('partnerId', '=', caller.partnerId).where('subscriptionId', '=', sub.id).where('id', '=', input.addOnId).where('removedAt', 'is', null)
      .forUpdate().executeTakeFirst();
    if (!addOn) throw notFound('Add-on');
    const price = await findPriceWithProduct(trx, caller.partnerId, addOn.priceId);
    const currency = currencyOf(sub.currency);
    const what = `${price.product.name} — ${price.variant.name}`;
    const before = { quantity: addOn.quantity, pendingQuantity: addOn.pendingQuantity };
    let after: { quantity: number; pendingQuantity: number | null };
    let prepared = null;
    if (input.quantity > addOn.quantity) {
      await findBuyingCustomer(trx, caller.partnerId, sub.customerId); // more of it is a sale; fewer is not
      after = { quantity: input.quantity, pendingQuantity: null };
      prepared = await quoteProRata(trx, ctx, { sub, wallet, addOnId: addOn.id, price, units: input.quantity - addOn.quantity, withActivationFee: false });
    } else if (input.quantity < addOn.quantity) {
      after = { quantity: addOn.quantity, pendingQuantity: input.quantity };
    } else {
      after = { quantity: addOn.quantity, pendingQuantity: null };
    }
    const auditEventId = await auditSubscription(trx, ctx, caller, {
      customerId: sub.customerId, subscriptionId: sub.id, action: 'subscription.add_on_changed',
      changes: {
        addOn: { before: what, after: what }, addOnId: { before: addOn.id, after: addOn.id },
        quantity: { before: before.quantity, after: after.quantity }, pendingQuantity: { before: before.pendingQuantity, after: after.pendingQuantity },
        ...(prepared ? { charged: { after: formatDecimal(prepared.quote.totalMicros, currency) }, days: { after: `${prepared.daysRemaining}/${prepared.daysInPeriod}` } } : {}),
      },
    });
    await trx.updateTable('subscriptionAddOns').set({ quantity: after.quantity, pendingQuantity: after.pendingQuantity, updatedAt: now })
      .where('partnerId', '=', caller.partnerId).where('id', '=', addOn.id).execute();
    let invoiceNumber: string | null = null;
    let invoiceId: string | null = null;
    if (prepared) {
      const charged = await chargeProRata(trx, ctx, caller, { sub, addOnId: addOn.id, price, units: input.quantity - addOn.quantity, prepared, auditEventId });
      invoiceNumber = charged.invoiceNumber;
      invoiceId = charged.invoiceId;
    }
    const detail = prepared
      ? `${what}: ${before.quantity} -> ${after.quantity} now, ${prepared.daysRemaining} of ${prepared.daysInPeriod} days charged`
      : after.pendingQuantity !== null
        ? `${what}: ${before.quantity} -> ${after.pendingQuantity} at the next renewal (${isoDay(end)})`
        : `${what}: stays at ${after.quantity}`;
    await addEvent(trx, {
      sub, kind: 'quantity_changed', amountMicros: prepared?.quote.totalMicros ?? null, invoiceId, actor: caller.actorId, auditEventId, at: now, detail,
      data: { addOnId: addOn.id, before, after },
    });
    await notifyCustomer(trx, {
      partnerId: caller.partnerId, customerId: sub.customerId, userId: caller.portalUserId, kind: 'subscription_changed',
      subject: `Add-on changed: ${what}`,
      lines: [
        `${detail}.`,
        ...(prepared ? [`Charged from points: ${moneyText(prepared.quote.totalMicros, currency)} (tax ${moneyText(prepared.quote.taxMicros, currency)}).`] : []),
        ...(invoiceNumber ? [`Invoice: ${invoiceNumber}`] : []),
        ...(after.pendingQuantity !== null ? ['Nothing is refunded for a lower quantity: the units stay until the renewal.'] : []),
      ],
    });
    // The add-ons are part of the subscription: its version (its ETag) moves with them (migration 0068).
    await trx.updateTable('subscriptions').set({ updatedAt: now }).where('partnerId', '=', caller.partnerId).where('id', '=', sub.id).execute();
    const row = await trx.selectFrom('subscriptions').selectAll().where('partnerId', '=', caller.partnerId).where('id', '=', sub.id).executeTakeFirstOrThrow();
    return (await subscriptionViews(trx, caller.partnerId, [row]))[0]!;
  });
}
