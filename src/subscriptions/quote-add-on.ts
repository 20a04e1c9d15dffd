import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { formatDecimal } from '../money/money.ts';
import { findPriceWithProduct } from '../products/sellable-price.ts';
import { readWallet } from '../wallet/wallets.repo.ts';
import { findNewAddOnPrice } from './add-add-on.ts';
import { assertChangeable, priceProRata, type ProRataQuote } from './add-ons.ts';
import { currencyOf } from './pricing.ts';
import { isoDay } from './periods.ts';
import { findBuyingCustomer, subscriptionCaller } from './subscriptions.repo.ts';

const decimal = z.string().describe('A decimal string in the subscription\'s currency');

export const addOnQuoteSchema = z.object({
  subscriptionId: z.string(),
  /** The version the quote was made on: If-Match with its ETag changes only what was quoted. */
  version: z.number().int(),
  currency: z.string(),
  outcome: z.enum(['charge_now', 'at_renewal', 'no_change']).describe(
    'charge_now: the units are charged from points now, pro rata to the expiry; at_renewal: a lower quantity (0 removes) takes effect at the next renewal, nothing charged or refunded; no_change: the quantity it has already',
  ),
  units: z.number().int().describe('Units charged now (the new add-on\'s quantity, or how many more)'),
  until: z.string().describe('The expiry (YYYY-MM-DD): what is charged now runs to it, and a lower quantity takes effect then'),
  daysCharged: z.number().int().nullable().describe('Days of the period charged (charge_now), from today to the expiry'),
  daysInPeriod: z.number().int().nullable(),
  price: decimal.describe('The units pro rata at the catalog price, before any discount (pre-tax)'),
  discount: decimal.describe('The Discount app\'s discount in force today on that price (pre-tax)'),
  activationFee: decimal.describe('A new add-on\'s one-time activation fee; never charged again for more units'),
  tax: decimal,
  total: decimal.describe('What is charged from points now: price - discount + activation fee + tax'),
  usable: decimal.describe('The customer\'s usable points now (credit limit included)'),
  coveredByPoints: z.boolean().describe('Whether usable points cover the total now: otherwise the change is refused (422 insufficient_points)'),
});
export type AddOnQuote = z.infer<typeof addOnQuoteSchema>;

export type QuoteAddOnInput =
  | { subscriptionId: string; priceId: string; quantity: number }
  | { subscriptionId: string; addOnId: string; quantity: number };

/**
 * What adding an add-on (`priceId`) or changing one's quantity (`addOnId`) would charge now, computed as addAddOn and
 * changeAddOnQuantity compute it (`priceProRata`: the same lines, discounts and tax), and whether the points cover it.
 * Reads only: nothing is held, so a change made later may differ if points, prices or discounts changed meanwhile. The
 * same refusals as the change itself (404 for another organisation's subscription or an unknown add-on, 409 for a
 * subscription that is not active or a customer that buys nothing, 422/409 for a price that cannot be an add-on of it),
 * except that points falling short is an answer here (`coveredByPoints: false`), not a refusal.
 */
export async function quoteAddOn(ctx: Ctx, input: QuoteAddOnInput): Promise<AddOnQuote> {
  const caller = subscriptionCaller(ctx.principal);
  // Catalog prices are the partner's rows: read in its scope, the subscription held to the caller's organisation by the query.
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    let q = trx.selectFrom('subscriptions').selectAll().where('partnerId', '=', caller.partnerId).where('id', '=', input.subscriptionId);
    if (caller.customerId) q = q.where('customerId', '=', caller.customerId);
    const sub = await q.executeTakeFirst();
    if (!sub) throw notFound('Subscription');
    const now = ctx.clock.now();
    const { end } = assertChangeable(sub, now);
    const currency = currencyOf(sub.currency);
    const fmt = (m: bigint) => formatDecimal(m, currency);
    const base = { subscriptionId: sub.id, version: sub.version, currency, until: isoDay(end) };
    const usable = (await readWallet(trx, { partnerId: caller.partnerId, customerId: sub.customerId, currency }))?.usableMicros ?? 0n;

    let units: number;
    let prepared: ProRataQuote;
    if ('priceId' in input) {
      await findBuyingCustomer(trx, caller.partnerId, sub.customerId);
      const price = await findNewAddOnPrice(trx, caller.partnerId, sub, input.priceId, { forShare: false });
      units = input.quantity;
      // The line's add-on id is only a reference on a charge line; a quote stores no line.
      prepared = await priceProRata(trx, ctx, { sub, addOnId: 'quote', price, units, withActivationFee: true });
    } else {
      const addOn = await trx.selectFrom('subscriptionAddOns').select(['id', 'priceId', 'quantity'])
        .where('partnerId', '=', caller.partnerId).where('subscriptionId', '=', sub.id).where('id', '=', input.addOnId).where('removedAt', 'is', null)
        .executeTakeFirst();
      if (!addOn) throw notFound('Add-on');
      units = Math.max(0, input.quantity - addOn.quantity);
      if (units > 0) {
        await findBuyingCustomer(trx, caller.partnerId, sub.customerId); // more of it is a sale; fewer is not
        const price = await findPriceWithProduct(trx, caller.partnerId, addOn.priceId);
        prepared = await priceProRata(trx, ctx, { sub, addOnId: addOn.id, price, units, withActivationFee: false });
      } else {
        const outcome = input.quantity < addOn.quantity ? 'at_renewal' : 'no_change';
        const zero = fmt(0n);
        return {
          ...base, outcome, units: 0, daysCharged: null, daysInPeriod: null, price: zero, discount: zero, activationFee: zero, tax: zero, total: zero,
          usable: fmt(usable), coveredByPoints: true,
        };
      }
    }
    const quote = prepared.quote;
    return {
      ...base, outcome: 'charge_now', units, daysCharged: prepared.daysRemaining, daysInPeriod: prepared.daysInPeriod,
      price: fmt(quote.priceMicros + quote.discountMicros), discount: fmt(quote.discountMicros), activationFee: fmt(quote.activationFeeMicros),
      tax: fmt(quote.taxMicros), total: fmt(quote.totalMicros), usable: fmt(usable), coveredByPoints: quote.totalMicros <= usable,
    };
  });
}
