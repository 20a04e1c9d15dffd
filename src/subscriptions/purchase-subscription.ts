import assert from 'node:assert/strict';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal, moneyText } from '../money/money.ts';
import { lockWallet } from '../wallet/wallets.repo.ts';
import { pricePurchase } from './price-purchase.ts';
import { firstPeriod, isoDay } from './periods.ts';
import { billQuoteUnpaid, chargeQuoteFromPoints, insertCharge } from './charge.ts';
import { addEvent, auditSubscription, notifyCustomer, subscriptionCaller } from './subscriptions.repo.ts';
import { invoiceSummary, subscriptionViews, type InvoiceSummary, type SubscriptionView } from './subscription-views.ts';

export interface PurchaseInput {
  /** Staff: the customer in the path. Portal: ignored (always the user's own organisation). */
  customerId?: string;
  priceId: string;
  quantity?: number;
  autoRenew?: boolean;
}

export interface PurchaseResult {
  subscription: SubscriptionView;
  /** The Purchase invoice: paid from points, or awaiting payment when points fell short; null for a free product. */
  invoice: InvoiceSummary | null;
}

/**
 * Buy a subscription for a customer: staff in the Customer app, or an owner/admin in the portal (the route checks the role).
 * The first period (anchored on today, UTC) x quantity, plus the activation fee, plus tax (partner rate on `standard`
 * products, rounded once for the invoice):
 * - usable points (credit limit included) cover it -> active at once, charged from points with a paid Purchase invoice:
 *   Dr points:{c} · Cr revenue:subscription · Cr revenue:one_time (fee) · Cr tax_payable; Dr cost:subscription · Cr platform_payable;
 * - otherwise -> `pending_payment` with an unpaid Purchase invoice (due per the partner's invoice_due_days; Dr receivable...);
 *   paying it activates the subscription from that day (activatePaidSubscription).
 * The wallet row is locked before the check, so concurrent purchases queue and usable points never go below zero.
 * Subscription, charge, ledger, invoice, audit (`subscription.purchased`, on the customer), history and the customer's
 * receipt commit together. 404 for another partner's customer or price; 409 `product_archived`; 422 `currency_mismatch`.
 */
export async function purchaseSubscription(ctx: Ctx, input: PurchaseInput): Promise<PurchaseResult> {
  const caller = subscriptionCaller(ctx.principal);
  const customerId = caller.customerId ?? input.customerId;
  assert(customerId, 'a customer to sell to');
  const quantity = input.quantity ?? 1;
  assert(Number.isInteger(quantity) && quantity >= 1, 'quantity checked at the edge');
  // Portal flows run in partner scope too: the partner's side of the entry is invisible to a customer scope (docs/adr/0009).
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    const now = ctx.clock.now();
    // The price row share-locked: it cannot be archived under the sale. The discount in force today (docs/adr/0016).
    const { customer, sellable, currency, quote } = await pricePurchase(trx, caller.partnerId, { customerId, priceId: input.priceId, quantity, day: now, lockPrice: true });
    const period = firstPeriod(now, sellable.price.cycle);

    const wallet = await lockWallet(trx, { partnerId: caller.partnerId, customerId, currency });
    const fromPoints = quote.totalMicros === 0n || wallet.usableMicros >= quote.totalMicros;
    const id = newId('sub');
    const fmt = (m: bigint) => formatDecimal(m, currency);
    const what = `${sellable.product.name} — ${sellable.variant.name} (${sellable.price.cycle})`;
    const auditEventId = await auditSubscription(trx, ctx, caller, {
      customerId, subscriptionId: id, action: 'subscription.purchased',
      changes: {
        product: { after: `${sellable.product.sku} ${sellable.product.name}` }, variant: { after: sellable.variant.name }, priceId: { after: sellable.price.id },
        cycle: { after: sellable.price.cycle }, quantity: { after: quantity }, currency: { after: currency },
        price: { after: fmt(quote.priceMicros) }, ...(quote.discountMicros > 0n ? { discount: { after: fmt(quote.discountMicros) } } : {}), activationFee: { after: fmt(quote.activationFeeMicros) }, tax: { after: fmt(quote.taxMicros) },
        total: { after: fmt(quote.totalMicros) }, status: { after: fromPoints ? 'active' : 'pending_payment' },
        paidWith: { after: fromPoints ? 'points' : 'invoice' },
      },
    });
    const entry = { subscriptionId: id, auditEventId };
    const base = {
      id, partnerId: caller.partnerId, customerId, productId: sellable.product.id, variantId: sellable.variant.id, priceId: sellable.price.id,
      currency, cycle: sellable.price.cycle, quantity, autoRenew: input.autoRenew ?? true, createdBy: caller.actorId, createdAt: now, updatedAt: now,
    };

    let invoice: InvoiceSummary | null;
    if (fromPoints) {
      const charged = await chargeQuoteFromPoints(trx, {
        partnerId: caller.partnerId, customerId, quote, at: now, entry: { ...entry, kind: 'subscription_purchase', description: `Subscription: ${what}` },
        paidBy: caller.actorId,
      });
      await trx.insertInto('subscriptions').values({
        ...base, status: 'active', anchorAt: period.anchor, currentPeriodStart: period.start, currentPeriodEnd: period.end, activatedAt: now,
      }).execute();
      await insertCharge(trx, {
        partnerId: caller.partnerId, customerId, subscriptionId: id, kind: 'purchase', periodStart: period.start, periodEnd: period.end,
        currency, quantity, quote, invoiceId: charged.invoice?.id ?? null, entryId: charged.entryId, at: now,
      });
      invoice = charged.invoice ? invoiceSummary(charged.invoice, 'paid', currency) : null;
      await addEvent(trx, {
        sub: base, kind: 'purchased', amountMicros: quote.totalMicros, invoiceId: charged.invoice?.id ?? null, actor: caller.actorId, auditEventId, at: now,
        detail: `${what}${quantity > 1 ? ` x ${quantity}` : ''}, paid from points, ${isoDay(period.start)} to ${isoDay(period.end)}`,
      });
      await notifyCustomer(trx, {
        partnerId: caller.partnerId, customerId, userId: caller.portalUserId, kind: 'subscription_purchased',
        subject: `Receipt: ${what}${charged.invoice ? ` — ${charged.invoice.number}` : ''}`,
        lines: [
          `${customer.name} bought ${what}${quantity > 1 ? ` x ${quantity}` : ''}.`,
          `Period: ${isoDay(period.start)} to ${isoDay(period.end)} (renews ${sellable.price.cycle}).`,
          `Price: ${moneyText(quote.priceMicros, currency)}${quote.discountMicros > 0n ? ` (after a discount of ${moneyText(quote.discountMicros, currency)})` : ''}`,
          ...(quote.activationFeeMicros > 0n ? [`Activation fee: ${moneyText(quote.activationFeeMicros, currency)}`] : []),
          `Tax: ${moneyText(quote.taxMicros, currency)}`,
          `Paid from points: ${moneyText(quote.totalMicros, currency)}`,
          ...(charged.invoice ? [`Invoice: ${charged.invoice.number}`] : []),
        ],
      });
    } else {
      const unpaid = await billQuoteUnpaid(trx, {
        partnerId: caller.partnerId, customerId, quote, at: now, entry: { ...entry, kind: 'subscription_purchase_invoiced', description: `Invoice: ${what}` },
      });
      await trx.insertInto('subscriptions').values({ ...base, status: 'pending_payment', pendingInvoiceId: unpaid.id }).execute();
      await insertCharge(trx, {
        partnerId: caller.partnerId, customerId, subscriptionId: id, kind: 'purchase', periodStart: null, periodEnd: null,
        currency, quantity, quote, invoiceId: unpaid.id, entryId: unpaid.entryId, at: now,
      });
      invoice = invoiceSummary(unpaid, 'awaiting_payment', currency);
      await addEvent(trx, {
        sub: base, kind: 'purchased', amountMicros: quote.totalMicros, invoiceId: unpaid.id, actor: caller.actorId, auditEventId, at: now,
        detail: `${what}${quantity > 1 ? ` x ${quantity}` : ''}: points fell short, waiting on invoice ${unpaid.number}`,
      });
      await notifyCustomer(trx, {
        partnerId: caller.partnerId, customerId, userId: caller.portalUserId, kind: 'invoice_issued',
        subject: `Invoice ${unpaid.number}: ${what}, awaiting payment`,
        lines: [
          `${customer.name} ordered ${what}${quantity > 1 ? ` x ${quantity}` : ''}.`,
          `Your points did not cover ${moneyText(quote.totalMicros, currency)}, so the subscription starts once invoice ${unpaid.number} is paid.`,
          `Total: ${moneyText(quote.totalMicros, currency)} (tax ${moneyText(quote.taxMicros, currency)}), due ${isoDay(unpaid.dueAt)}.`,
        ],
      });
    }
    const row = await trx.selectFrom('subscriptions').selectAll().where('partnerId', '=', caller.partnerId).where('id', '=', id).executeTakeFirstOrThrow();
    const [view] = await subscriptionViews(trx, caller.partnerId, [row]);
    return { subscription: view!, invoice };
  });
}
