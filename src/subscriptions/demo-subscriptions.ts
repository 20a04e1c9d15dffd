import type { Trx } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { findSellablePrice } from '../products/sellable-price.ts';
import { activationFeeLine, currencyOf, partnerTaxRateBps, periodLine, quoteOf, type ChargeLine } from './pricing.ts';
import { firstPeriod } from './periods.ts';
import { chargeQuoteFromPoints, insertCharge } from './charge.ts';
import { addEvent } from './subscriptions.repo.ts';

const SEED_ACTOR = { principal: { kind: 'system' as const, job: 'seed' }, requestId: null, ip: null, userAgent: null };

/**
 * Demo subscriptions (inside the seed's transaction, as the database owner): a customer buys catalog prices from its points,
 * exactly as a purchase does (paid Purchase invoice, ledger entry, charge, history, audit), starting today. Prices the
 * customer's points do not cover are skipped (demo data never leaves an unpaid invoice behind).
 */
export async function seedSubscriptionsDemo(
  trx: Trx, ids: { partnerId: string; customerId: string; items: readonly { priceId: string; quantity: number }[]; at?: Date },
): Promise<string[]> {
  const customer = await trx.selectFrom('customers').select(['currency']).where('partnerId', '=', ids.partnerId).where('id', '=', ids.customerId).executeTakeFirstOrThrow();
  const currency = currencyOf(customer.currency);
  const now = ids.at ?? new Date();
  const taxRateBps = await partnerTaxRateBps(trx, ids.partnerId);
  const created: string[] = [];
  for (const item of ids.items) {
    const sellable = await findSellablePrice(trx, ids.partnerId, item.priceId);
    if (sellable.price.currency !== currency) continue;
    const lines: ChargeLine[] = [periodLine('subscription', sellable, item.quantity)];
    const fee = activationFeeLine(sellable);
    if (fee) lines.push(fee);
    const quote = quoteOf(currency, lines, taxRateBps);
    const wallet = await trx.selectFrom('wallets as w').innerJoin('ledgerAccounts as a', 'a.id', 'w.pointsAccountId')
      .select(['a.balanceMicros', 'w.reservedMicros', 'w.creditLimitMicros'])
      .where('w.partnerId', '=', ids.partnerId).where('w.customerId', '=', ids.customerId).where('w.currency', '=', currency).executeTakeFirst();
    const usable = wallet ? -BigInt(wallet.balanceMicros) - BigInt(wallet.reservedMicros) + BigInt(wallet.creditLimitMicros) : 0n;
    if (usable < quote.totalMicros) continue;
    const id = newId('sub');
    const period = firstPeriod(now, sellable.price.cycle);
    const auditEventId = await recordAudit(trx, SEED_ACTOR, {
      partnerId: ids.partnerId, customerId: ids.customerId, app: 'customer', action: 'subscription.purchased', targetType: 'subscription', targetId: id,
      changes: { product: { after: `${sellable.product.sku} ${sellable.product.name}` }, quantity: { after: item.quantity }, status: { after: 'active' } },
    });
    const charged = await chargeQuoteFromPoints(trx, {
      partnerId: ids.partnerId, customerId: ids.customerId, quote, at: now,
      entry: { kind: 'subscription_purchase', subscriptionId: id, description: `Subscription: ${sellable.product.name} — ${sellable.variant.name}`, auditEventId },
    });
    const row = {
      id, partnerId: ids.partnerId, customerId: ids.customerId, productId: sellable.product.id, variantId: sellable.variant.id, priceId: sellable.price.id,
      currency, cycle: sellable.price.cycle, quantity: item.quantity, createdBy: 'system:seed', createdAt: now, updatedAt: now,
    };
    await trx.insertInto('subscriptions').values({
      ...row, status: 'active', anchorAt: period.anchor, currentPeriodStart: period.start, currentPeriodEnd: period.end, activatedAt: now,
    }).execute();
    await insertCharge(trx, {
      partnerId: ids.partnerId, customerId: ids.customerId, subscriptionId: id, kind: 'purchase', periodStart: period.start, periodEnd: period.end,
      currency, quantity: item.quantity, quote, invoiceId: charged.invoice?.id ?? null, entryId: charged.entryId, at: now,
    });
    await addEvent(trx, { sub: row, kind: 'purchased', amountMicros: quote.totalMicros, invoiceId: charged.invoice?.id ?? null, actor: 'system:seed', auditEventId, at: now, detail: 'Demo data' });
    created.push(id);
  }
  return created;
}
