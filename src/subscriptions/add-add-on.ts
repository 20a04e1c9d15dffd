import type { Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal, moneyText } from '../money/money.ts';
import { findSellablePrice, type SellablePrice } from '../products/sellable-price.ts';
import { assertChangeable, chargeProRata, quoteProRata } from './add-ons.ts';
import { currencyOf, type SubscriptionRow } from './pricing.ts';
import { isoDay } from './periods.ts';
import { addEvent, auditSubscription, lockWalletAndSubscription, notifyCustomer, subscriptionCaller, findBuyingCustomer } from './subscriptions.repo.ts';
import { subscriptionViews, type SubscriptionView } from './subscription-views.ts';

export interface AddAddOnInput {
  subscriptionId: string;
  priceId: string;
  quantity: number;
  /** The `If-Match` header: when given and stale, nothing is written (412). */
  ifMatch?: string | undefined;
}

/**
 * Add an add-on to an active subscription: a catalog price in the subscription's currency and cycle (422 otherwise;
 * 409 `product_archived`; 409 `already_exists` when that price is already an add-on: change its quantity instead).
 * Charged at once from points, pro rata to the expiry, plus the add-on's activation fee (add-ons.ts); from the next
 * renewal on it renews with the subscription. Audit `subscription.add_on_added`, history, and a notice to the customer.
 */
/**
 * The catalog price `priceId` as a new add-on of `sub`: in its currency and cycle (422 naming priceId otherwise), not its
 * own price (422), not an add-on it has already (409 `already_exists`: change its quantity instead); 404 for an unknown
 * or another partner's price, 409 `product_archived`. Adding it and quoting it refuse alike.
 */
export async function findNewAddOnPrice(trx: Trx, partnerId: string, sub: SubscriptionRow, priceId: string, options: { forShare: boolean }): Promise<SellablePrice> {
  const price = await findSellablePrice(trx, partnerId, priceId, options);
  if (price.price.currency !== sub.currency || price.price.cycle !== sub.cycle) {
    throw new DomainError('rule_violation', `An add-on is billed with its subscription: choose a ${sub.cycle} price in ${sub.currency} (this one is ${price.price.cycle}, ${price.price.currency})`,
      [{ path: 'priceId', message: `a ${sub.cycle} price in ${sub.currency} is needed` }]);
  }
  if (price.price.id === sub.priceId) {
    throw new DomainError('rule_violation', 'This is the subscription\'s own price, not an add-on', [{ path: 'priceId', message: 'the subscription\'s own price' }]);
  }
  const existing = await trx.selectFrom('subscriptionAddOns').select('id')
    .where('partnerId', '=', partnerId).where('subscriptionId', '=', sub.id).where('priceId', '=', price.price.id).where('removedAt', 'is', null)
    .executeTakeFirst();
  if (existing) throw new DomainError('already_exists', `This add-on is already on the subscription (${existing.id}): change its quantity instead`);
  return price;
}

export async function addAddOn(ctx: Ctx, input: AddAddOnInput): Promise<SubscriptionView> {
  const caller = subscriptionCaller(ctx.principal);
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    const { sub, wallet } = await lockWalletAndSubscription(trx, caller, input.subscriptionId, input.ifMatch);
    const now = ctx.clock.now();
    // The subscription's state first, as the quote answers it: a terminated (or expired) one takes no add-on, whatever
    // the price; not "already on it: change its quantity", a change it would refuse too.
    assertChangeable(sub, now);
    await findBuyingCustomer(trx, caller.partnerId, sub.customerId);
    const price = await findNewAddOnPrice(trx, caller.partnerId, sub, input.priceId, { forShare: true });
    const addOnId = `sad_${newId('sub').slice(4)}`;
    const prepared = await quoteProRata(trx, ctx, { sub, wallet, addOnId, price, units: input.quantity, withActivationFee: true });
    const currency = currencyOf(sub.currency);
    const fmt = (m: bigint) => formatDecimal(m, currency);
    const what = `${price.product.name} — ${price.variant.name}`;
    const auditEventId = await auditSubscription(trx, ctx, caller, {
      customerId: sub.customerId, subscriptionId: sub.id, action: 'subscription.add_on_added',
      changes: {
        addOn: { after: what }, addOnId: { after: addOnId }, priceId: { after: price.price.id }, quantity: { after: input.quantity },
        charged: { after: fmt(prepared.quote.totalMicros) }, days: { after: `${prepared.daysRemaining}/${prepared.daysInPeriod}` },
      },
    });
    await trx.insertInto('subscriptionAddOns').values({
      id: addOnId, partnerId: caller.partnerId, customerId: sub.customerId, subscriptionId: sub.id, productId: price.product.id,
      variantId: price.variant.id, priceId: price.price.id, quantity: input.quantity, pendingQuantity: null, createdAt: now, updatedAt: now,
    }).execute();
    const charged = await chargeProRata(trx, ctx, caller, { sub, addOnId, price, units: input.quantity, prepared, auditEventId });
    await addEvent(trx, {
      sub, kind: 'add_on_added', amountMicros: prepared.quote.totalMicros, invoiceId: charged.invoiceId, actor: caller.actorId, auditEventId, at: now,
      detail: `${what} x ${input.quantity}, ${prepared.daysRemaining} of ${prepared.daysInPeriod} days to ${isoDay(prepared.end)}`,
      data: { addOnId },
    });
    await notifyCustomer(trx, {
      partnerId: caller.partnerId, customerId: sub.customerId, userId: caller.portalUserId, kind: 'subscription_changed',
      subject: `Add-on added: ${what}${charged.invoiceNumber ? ` — ${charged.invoiceNumber}` : ''}`,
      lines: [
        `${what} x ${input.quantity} was added to your subscription until ${isoDay(prepared.end)}.`,
        `Charged from points: ${moneyText(prepared.quote.totalMicros, currency)} (${prepared.daysRemaining} of ${prepared.daysInPeriod} days, tax ${moneyText(prepared.quote.taxMicros, currency)}).`,
        ...(charged.invoiceNumber ? [`Invoice: ${charged.invoiceNumber}`] : []),
      ],
    });
    // The add-ons are part of the subscription: its version (its ETag) moves with them (migration 0068).
    await trx.updateTable('subscriptions').set({ updatedAt: now }).where('partnerId', '=', caller.partnerId).where('id', '=', sub.id).execute();
    const row = await trx.selectFrom('subscriptions').selectAll().where('partnerId', '=', caller.partnerId).where('id', '=', sub.id).executeTakeFirstOrThrow();
    return (await subscriptionViews(trx, caller.partnerId, [row]))[0]!;
  });
}
