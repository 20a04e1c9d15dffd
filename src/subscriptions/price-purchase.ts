import type { Trx } from '../platform/database.ts';
import type { Currency } from '../money/money.ts';
import { findSellablePrice, type SellablePrice } from '../products/sellable-price.ts';
import { activationFeeLine, assertCustomerCurrency, currencyOf, partnerTaxRateBps, periodLine, quoteOf, withDiscounts, type ChargeLine, type ChargeQuote } from './pricing.ts';
import { findBuyingCustomer, type CustomerRow } from './subscriptions.repo.ts';

export interface PricedPurchase {
  customer: CustomerRow;
  sellable: SellablePrice;
  currency: Currency;
  /** The lines after the discount in force on `day` (each names its discount). */
  lines: ChargeLine[];
  quote: ChargeQuote;
}

/**
 * What buying `quantity` of a price costs a customer on `day`: the one computation behind the purchase and its quote
 * (the Sell and Buy dialogs), so what is shown is what is charged. The customer must be active (409), the price sellable
 * (404, 409 product_archived) and in the customer's currency (422 currency_mismatch). The period line, the activation
 * fee, the discount in force on that day (docs/adr/0016), tax once on the net (`quoteOf`).
 */
export async function pricePurchase(
  trx: Trx, partnerId: string, input: { customerId: string; priceId: string; quantity: number; day: Date; lockPrice?: boolean },
): Promise<PricedPurchase> {
  const customer = await findBuyingCustomer(trx, partnerId, input.customerId);
  const sellable = await findSellablePrice(trx, partnerId, input.priceId, { forShare: input.lockPrice ?? false });
  assertCustomerCurrency(sellable.price.currency, customer.currency);
  const currency = currencyOf(customer.currency);
  const lines: ChargeLine[] = [periodLine('subscription', sellable, input.quantity)];
  const fee = activationFeeLine(sellable);
  if (fee) lines.push(fee);
  const discounted = await withDiscounts(trx, { partnerId, customerId: input.customerId, day: input.day }, currency, lines);
  return { customer, sellable, currency, lines: discounted, quote: quoteOf(currency, discounted, await partnerTaxRateBps(trx, partnerId)) };
}
