import assert from 'node:assert/strict';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { formatDecimal } from '../money/money.ts';
import { marginPercentOf } from '../products/catalog.repo.ts';
import { readWallet } from '../wallet/wallets.repo.ts';
import { pricePurchase } from './price-purchase.ts';
import { subscriptionCaller } from './subscriptions.repo.ts';

export const subscriptionQuoteSchema = z.object({
  currency: z.string(),
  price: z.string().describe('The first period x quantity at the catalog price, before any discount (pre-tax)'),
  discount: z.string().describe('The Discount app\'s discount in force today on that price (pre-tax)'),
  discountName: z.string().nullable().describe('The discount taken off, if any'),
  activationFee: z.string(),
  tax: z.string().describe('The partner\'s tax on the standard-rated lines, rounded once'),
  total: z.string().describe('What the purchase charges: price - discount + activation fee + tax'),
  usable: z.string().describe('The customer\'s usable points now (credit limit included)'),
  paidFromPoints: z.boolean().describe('Whether usable points cover the total now: otherwise the purchase waits on an unpaid Purchase invoice'),
  cost: z.string().describe('What the first period costs the partner (staff only)'),
  margin: z.string().describe('Price after discount - cost (staff only)'),
  marginPercent: z.string().nullable().describe('margin / price after discount x 100, one decimal; null when that price is 0 (staff only)'),
});
export const portalSubscriptionQuoteSchema = subscriptionQuoteSchema.omit({ cost: true, margin: true, marginPercent: true });
export type SubscriptionQuote = z.infer<typeof subscriptionQuoteSchema>;

export interface QuoteInput {
  /** Staff: the customer in the path. Portal: ignored (always the user's own organisation). */
  customerId?: string;
  priceId: string;
  quantity?: number;
}

/**
 * What buying `quantity` of a price would charge the customer today, exactly as `purchaseSubscription` computes it (the
 * same lines, `withDiscounts` and `quoteOf`), and whether its points cover it. Reads only: nothing is held or written, so a
 * purchase made later may differ if points, prices or discounts changed meanwhile. Same refusals as the purchase: 404 for
 * another partner's customer or price, 409 product_archived, 422 currency_mismatch, 409 for a customer that is not active.
 */
export async function quoteSubscription(ctx: Ctx, input: QuoteInput): Promise<SubscriptionQuote> {
  const caller = subscriptionCaller(ctx.principal);
  const customerId = caller.customerId ?? input.customerId;
  assert(customerId, 'a customer to quote for');
  const quantity = input.quantity ?? 1;
  assert(Number.isInteger(quantity) && quantity >= 1, 'quantity checked at the edge');
  return inScope(ctx.db, { kind: 'partner', partnerId: caller.partnerId }, async (trx) => {
    const { currency, lines: discounted, quote } = await pricePurchase(trx, caller.partnerId, { customerId, priceId: input.priceId, quantity, day: ctx.clock.now() });
    const discountId = discounted.find((l) => l.discountId)?.discountId ?? null;
    const discountName = discountId === null ? null
      : (await trx.selectFrom('discounts').select('name').where('partnerId', '=', caller.partnerId).where('id', '=', discountId).executeTakeFirst())?.name ?? null;
    const wallet = await readWallet(trx, { partnerId: caller.partnerId, customerId, currency });
    const usable = wallet?.usableMicros ?? 0n;
    const fmt = (m: bigint) => formatDecimal(m, currency);
    return {
      currency,
      price: fmt(quote.priceMicros + quote.discountMicros),
      discount: fmt(quote.discountMicros),
      discountName,
      activationFee: fmt(quote.activationFeeMicros),
      tax: fmt(quote.taxMicros),
      total: fmt(quote.totalMicros),
      usable: fmt(usable),
      paidFromPoints: quote.totalMicros === 0n || usable >= quote.totalMicros,
      cost: fmt(quote.costMicros),
      margin: fmt(quote.priceMicros - quote.costMicros),
      marginPercent: marginPercentOf(quote.priceMicros, quote.costMicros),
    };
  });
}
