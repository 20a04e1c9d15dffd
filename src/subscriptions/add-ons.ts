import type { Ctx } from '../platform/context.ts';
import type { Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import type { SellablePrice } from '../products/sellable-price.ts';
import type { WalletState } from '../wallet/wallets.repo.ts';
import { activationFeeLine, currencyOf, partnerTaxRateBps, proRataLine, quoteOf, withDiscounts, type ChargeLine, type ChargeQuote, type SubscriptionRow } from './pricing.ts';
import { daysBetween, isoDay, utcMidnight } from './periods.ts';
import { chargeQuoteFromPoints, insertCharge } from './charge.ts';
import { assertStatus, type SubscriptionCaller } from './subscriptions.repo.ts';
import { moneyText } from '../money/money.ts';

/**
 * Pro rata charging of add-on units added mid-period, shared by "add an add-on" and "raise its quantity":
 * `unit price x units x days remaining / days in the period` (whole UTC days, from today or the period start if later,
 * to the expiry), rounded once; plus the add-on's activation fee the first time. Charged from points (credit limit
 * included) with a paid Purchase invoice; `insufficient_points` (422) otherwise — nothing is sold on credit here.
 * When the renewal job has already moved the subscription to its next period (it renews 7 days ahead), the units are charged
 * for that whole next period, and the last days of the old one come free.
 */
export interface ProRataQuote {
  quote: ChargeQuote;
  from: Date;
  end: Date;
  daysRemaining: number;
  daysInPeriod: number;
}

/** The subscription can take add-on changes now: active, and today is inside its current period. */
export function assertChangeable(sub: SubscriptionRow, now: Date): { start: Date; end: Date } {
  assertStatus(sub, ['active'], 'changed');
  const start = sub.currentPeriodStart!;
  const end = sub.currentPeriodEnd!;
  if (utcMidnight(now) >= end) throw new DomainError('state_conflict', `This subscription expired on ${isoDay(end)}: renew or reactivate it first`);
  return { start, end };
}

/**
 * Price `units` more of an add-on for the rest of the period (and its activation fee when first added), checking nothing
 * of the points: what adding it (`quoteProRata`) charges, and what its quote (quote-add-on.ts) says before.
 */
export async function priceProRata(
  trx: Trx, ctx: Ctx,
  input: { sub: SubscriptionRow; addOnId: string; price: SellablePrice; units: number; withActivationFee: boolean },
): Promise<ProRataQuote> {
  const { sub } = input;
  const now = ctx.clock.now();
  const { start, end } = assertChangeable(sub, now);
  const today = utcMidnight(now);
  const from = today > start ? today : start;
  const daysRemaining = daysBetween(from, end);
  const daysInPeriod = daysBetween(start, end);
  const currency = currencyOf(sub.currency);
  const lines: ChargeLine[] = [proRataLine(input.price, input.units, daysRemaining, daysInPeriod, input.addOnId)];
  const fee = input.withActivationFee ? activationFeeLine(input.price) : null;
  if (fee) lines.push(fee);
  const discounted = await withDiscounts(trx, { partnerId: sub.partnerId, customerId: sub.customerId, day: now }, currency, lines);
  const quote = quoteOf(currency, discounted, await partnerTaxRateBps(trx, sub.partnerId));
  return { quote, from, end, daysRemaining, daysInPeriod };
}

/** `priceProRata`, refused (422 `insufficient_points`) when the usable points of the locked wallet do not cover it. */
export async function quoteProRata(
  trx: Trx, ctx: Ctx,
  input: { sub: SubscriptionRow; wallet: WalletState; addOnId: string; price: SellablePrice; units: number; withActivationFee: boolean },
): Promise<ProRataQuote> {
  const prepared = await priceProRata(trx, ctx, input);
  const currency = currencyOf(input.sub.currency);
  if (prepared.quote.totalMicros > input.wallet.usableMicros) {
    throw new DomainError('insufficient_points', `Not enough points: ${moneyText(prepared.quote.totalMicros, currency)} needed, ${moneyText(input.wallet.usableMicros > 0n ? input.wallet.usableMicros : 0n, currency)} usable`);
  }
  return prepared;
}

/** Charge a pro rata quote from points and record it (charge kind `add_on`). */
export async function chargeProRata(
  trx: Trx, ctx: Ctx, caller: SubscriptionCaller,
  input: { sub: SubscriptionRow; addOnId: string; price: SellablePrice; units: number; prepared: ProRataQuote; auditEventId: string },
): Promise<{ invoiceId: string | null; invoiceNumber: string | null }> {
  const { sub, prepared } = input;
  const now = ctx.clock.now();
  const charged = await chargeQuoteFromPoints(trx, {
    partnerId: caller.partnerId, customerId: sub.customerId, quote: prepared.quote, at: now,
    entry: { kind: 'subscription_add_on', subscriptionId: sub.id, description: `Add-on: ${input.price.product.name} — ${input.price.variant.name}`, auditEventId: input.auditEventId },
    paidBy: caller.actorId,
  });
  await insertCharge(trx, {
    partnerId: caller.partnerId, customerId: sub.customerId, subscriptionId: sub.id, addOnId: input.addOnId, kind: 'add_on',
    periodStart: prepared.from, periodEnd: prepared.end, currency: sub.currency, quantity: input.units, quote: prepared.quote,
    invoiceId: charged.invoice?.id ?? null, entryId: charged.entryId, at: now,
  });
  return { invoiceId: charged.invoice?.id ?? null, invoiceNumber: charged.invoice?.number ?? null };
}
