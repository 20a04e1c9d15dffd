import assert from 'node:assert/strict';
import type { Trx } from '../platform/database.ts';
import { newId } from '../platform/ids.ts';
import type { PostingInput } from '../ledger/post-entry.ts';
import { postEntry } from '../ledger/post-entry.ts';
import { issuePaidInvoice, type IssuedInvoice, type InvoiceLineInput } from '../invoices/issue-paid-invoice.ts';
import { issueInvoice, type IssuedUnpaidInvoice, type ReceivableLineInput } from '../invoices/issue-invoice.ts';
import { chargeWallet, creditWallet } from '../wallet/charge-wallet.ts';
import { invoiceUnits, type ChargeQuote } from './pricing.ts';
import type { SubscriptionChargeKind } from './subscriptions.db-types.ts';

/**
 * Posting subscription money (../shared/ledger-design.md, docs/adr/0008, docs/adr/0010):
 * - from points, one entry: Dr points:{c} total · Cr revenue:subscription (subscription and add-on lines) · Cr revenue:one_time
 *   (activation fees) · Cr tax_payable; and in the same entry Dr cost:subscription · Cr platform_payable for the cost.
 *   The wallet is locked and usable points (credit limit included) checked first (chargeWallet), so usable never goes below 0.
 * - unpaid (points short): an awaiting-payment invoice, Dr receivable:{c} · Cr revenue · Cr tax_payable; the cost is posted
 *   when the invoice is paid and the service starts (activatePaidSubscription).
 * - refund into points (termination): Dr sales_returns (price part) · Dr tax_payable · Cr points:{c}; Dr platform_payable ·
 *   Cr cost:subscription for the cost given back.
 */

export interface EntryMeta {
  kind: string;
  subscriptionId: string;
  description: string;
  auditEventId: string | null;
}

function revenueOf(quote: ChargeQuote): { subscription: bigint; oneTime: bigint } {
  let subscription = 0n;
  let oneTime = 0n;
  for (const l of quote.lines) {
    if (l.kind === 'activation_fee') oneTime += l.amountMicros;
    else subscription += l.amountMicros;
  }
  return { subscription, oneTime };
}

function costPostings(costMicros: bigint): PostingInput[] {
  return costMicros > 0n ? [{ code: 'cost:subscription', amountMicros: costMicros }, { code: 'platform_payable', amountMicros: -costMicros }] : [];
}

/**
 * The invoice lines of a quote: each names its catalog product and variant, its units at their unit price (invoiceUnits:
 * unit x quantity is exactly the gross), the product's tax category and the rate applied (the partner's on a `standard`
 * line, 0 on a zero-rated or exempt one). Free lines (nothing before discount) are left out.
 */
function invoiceLines(quote: ChargeQuote): (InvoiceLineInput & { revenueCode: ReceivableLineInput['revenueCode'] })[] {
  return quote.lines
    .map((l, i) => ({
      kind: l.kind, description: l.description, amountMicros: l.amountMicros, taxMicros: quote.lineTaxMicros[i]!,
      ...(l.discountMicros ? { discountMicros: l.discountMicros, discountId: l.discountId ?? null } : {}),
      productId: l.productId, variantId: l.variantId, ...invoiceUnits(l),
      taxCategory: l.taxCategory, taxRateBps: l.taxable ? quote.taxRateBps : 0,
      revenueCode: l.kind === 'activation_fee' ? ('revenue:one_time' as const) : ('revenue:subscription' as const),
    }))
    .filter((l) => l.amountMicros + (l.discountMicros ?? 0n) > 0n);
}

/**
 * Charge a quote to the customer's points with a paid Purchase invoice, in the caller's transaction. Throws
 * `insufficient_points` (422) when usable points (credit limit included) do not cover it. A free charge (total 0) issues no
 * invoice and moves no points; its cost, if any, is still posted. The invoice records what paid it (a `points` payment of
 * its total naming the entry, posted under an id chosen before the invoice is issued), paid by `paidBy` (the acting user or
 * API key; null when none is given: the seed).
 */
export async function chargeQuoteFromPoints(
  trx: Trx,
  input: { partnerId: string; customerId: string; quote: ChargeQuote; at: Date; entry: EntryMeta; paidBy?: string | null },
): Promise<{ invoice: IssuedInvoice | null; entryId: string | null }> {
  const { quote } = input;
  const wallet = { partnerId: input.partnerId, customerId: input.customerId, currency: quote.currency };
  const entry = { kind: input.entry.kind, causeType: 'subscription', causeId: input.entry.subscriptionId, description: input.entry.description, auditEventId: input.entry.auditEventId };
  if (quote.totalMicros === 0n) {
    if (quote.costMicros === 0n) return { invoice: null, entryId: null };
    const posted = await postEntry(trx, { ...entry, partnerId: input.partnerId, currency: quote.currency, customerId: input.customerId, postings: costPostings(quote.costMicros) });
    return { invoice: null, entryId: posted.entryId };
  }
  const entryId = newId('je');
  const invoice = await issuePaidInvoice(trx, {
    partnerId: input.partnerId, customerId: input.customerId, type: 'purchase', currency: quote.currency, lines: invoiceLines(quote), paidAt: input.at,
    paidWith: { source: 'points', entryId, paidBy: input.paidBy ?? null },
  });
  assert.equal(invoice.totalMicros, quote.totalMicros, 'the invoice bills the quote');
  const revenue = revenueOf(quote);
  const counter: PostingInput[] = [
    ...(revenue.subscription > 0n ? [{ code: 'revenue:subscription' as const, amountMicros: -revenue.subscription }] : []),
    ...(revenue.oneTime > 0n ? [{ code: 'revenue:one_time' as const, amountMicros: -revenue.oneTime }] : []),
    ...(quote.taxMicros > 0n ? [{ code: 'tax_payable' as const, amountMicros: -quote.taxMicros }] : []),
    ...costPostings(quote.costMicros),
  ];
  const charged = await chargeWallet(trx, { wallet, amountMicros: quote.totalMicros, useCreditLimit: true, entry: { ...entry, entryId }, counterPostings: counter });
  assert.equal(charged.posted.entryId, entryId, 'the invoice names the entry that paid it');
  return { invoice, entryId };
}

/** Bill a quote on an unpaid Purchase invoice (points fell short): Dr receivable · Cr revenue · Cr tax_payable. */
export async function billQuoteUnpaid(
  trx: Trx,
  input: { partnerId: string; customerId: string; quote: ChargeQuote; at: Date; entry: EntryMeta },
): Promise<IssuedUnpaidInvoice> {
  assert(input.quote.totalMicros > 0n, 'an unpaid invoice bills something');
  return issueInvoice(trx, {
    partnerId: input.partnerId, customerId: input.customerId, type: 'purchase', currency: input.quote.currency, lines: invoiceLines(input.quote),
    issuedAt: input.at,
    entry: { kind: input.entry.kind, causeType: 'subscription', causeId: input.entry.subscriptionId, description: input.entry.description, auditEventId: input.entry.auditEventId },
  });
}

/** Post the cost of a subscription that starts now (an unpaid purchase, once paid): Dr cost:subscription · Cr platform_payable. */
export async function postCost(trx: Trx, input: { partnerId: string; customerId: string; currency: string; costMicros: bigint; entry: EntryMeta }): Promise<string | null> {
  if (input.costMicros === 0n) return null;
  const posted = await postEntry(trx, {
    kind: input.entry.kind, causeType: 'subscription', causeId: input.entry.subscriptionId, description: input.entry.description,
    auditEventId: input.entry.auditEventId, partnerId: input.partnerId, currency: input.currency, customerId: input.customerId,
    postings: costPostings(input.costMicros),
  });
  return posted.entryId;
}

/**
 * Refund into points (docs/adr/0010): Dr sales_returns (price and fee part) · Dr tax_payable · Cr points:{c}; and the
 * cost given back, Dr platform_payable · Cr cost:subscription. Returns the entry id, or null when nothing moves.
 */
export async function refundToPoints(
  trx: Trx,
  input: { partnerId: string; customerId: string; currency: string; priceMicros: bigint; taxMicros: bigint; costMicros: bigint; entry: EntryMeta },
): Promise<string | null> {
  const amount = input.priceMicros + input.taxMicros;
  const costBack: PostingInput[] = input.costMicros > 0n
    ? [{ code: 'platform_payable', amountMicros: input.costMicros }, { code: 'cost:subscription', amountMicros: -input.costMicros }]
    : [];
  const entry = { kind: input.entry.kind, causeType: 'subscription', causeId: input.entry.subscriptionId, description: input.entry.description, auditEventId: input.entry.auditEventId };
  if (amount === 0n) {
    if (costBack.length === 0) return null;
    return (await postEntry(trx, { ...entry, partnerId: input.partnerId, currency: input.currency, customerId: input.customerId, postings: costBack })).entryId;
  }
  const credited = await creditWallet(trx, {
    wallet: { partnerId: input.partnerId, customerId: input.customerId, currency: input.currency }, amountMicros: amount, entry,
    counterPostings: [
      ...(input.priceMicros > 0n ? [{ code: 'sales_returns' as const, amountMicros: input.priceMicros }] : []),
      ...(input.taxMicros > 0n ? [{ code: 'tax_payable' as const, amountMicros: input.taxMicros }] : []),
      ...costBack,
    ],
  });
  return credited.posted.entryId;
}

export interface ChargeRowInput {
  partnerId: string;
  customerId: string;
  subscriptionId: string;
  addOnId?: string | null;
  kind: SubscriptionChargeKind;
  periodStart: Date | null;
  periodEnd: Date | null;
  currency: string;
  quantity: number;
  quote: ChargeQuote;
  invoiceId: string | null;
  entryId: string | null;
  at: Date;
}

/** Record what was charged (the unique index refuses a second period charge for the same period). */
export async function insertCharge(trx: Trx, c: ChargeRowInput): Promise<string> {
  const id = `sch_${newId('sub').slice(4)}`;
  await trx.insertInto('subscriptionCharges').values({
    id, partnerId: c.partnerId, customerId: c.customerId, subscriptionId: c.subscriptionId, addOnId: c.addOnId ?? null, kind: c.kind,
    periodStart: c.periodStart, periodEnd: c.periodEnd, currency: c.currency, quantity: c.quantity,
    priceMicros: c.quote.priceMicros, activationFeeMicros: c.quote.activationFeeMicros, taxMicros: c.quote.taxMicros, costMicros: c.quote.costMicros,
    invoiceId: c.invoiceId, entryId: c.entryId, chargedAt: c.at,
  }).execute();
  return id;
}
