import { z } from 'zod';
import { scopeOf, type Ctx } from '../platform/context.ts';
import { inScope, type Trx } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal } from '../money/money.ts';
import { currencyOf, type SubscriptionRow } from './pricing.ts';
import { computeRefund, type PeriodCharge, type Refund } from './refunds.ts';
import { capRefund, invoiceRefundRooms, type CappedRefund } from './termination-caps.ts';
import { assertStatus, subscriptionCaller, type SubscriptionCaller } from './subscriptions.repo.ts';

/** What terminating a subscription now would do: the refund of an active one, or the invoice a pending one voids. */
export interface TerminationPlan {
  refund: Refund | null;
  capped: CappedRefund | null;
  /** A pending purchase's unpaid invoice, voided by the termination. */
  voidedInvoice: { id: string; number: string | null } | null;
  /** A pending purchase whose invoice credit notes took back in whole: only terminated, nothing owed. */
  creditedInvoice: { number: string | null } | null;
}

/** The charges of the subscription's current period (its period charge and the add-on charges made during it). */
async function currentPeriodCharges(trx: Trx, sub: SubscriptionRow): Promise<Array<PeriodCharge & { invoiceId: string | null }>> {
  const rows = await trx.selectFrom('subscriptionCharges').selectAll()
    .where('partnerId', '=', sub.partnerId).where('subscriptionId', '=', sub.id)
    .where((eb) => eb.or([
      eb.and([eb('kind', 'in', ['purchase', 'renewal', 'reactivation']), eb('periodStart', '=', sub.currentPeriodStart!)]),
      eb.and([eb('kind', '=', 'add_on'), eb('periodEnd', '=', sub.currentPeriodEnd!), eb('periodStart', '>=', sub.currentPeriodStart!)]),
    ]))
    .orderBy('chargedAt').orderBy('id')
    .execute();
  return rows.map((r) => ({
    invoiceId: r.invoiceId, kind: r.kind, periodStart: r.periodStart!, periodEnd: r.periodEnd!, priceMicros: BigInt(r.priceMicros),
    activationFeeMicros: BigInt(r.activationFeeMicros), taxMicros: BigInt(r.taxMicros), costMicros: BigInt(r.costMicros),
  }));
}

/**
 * What terminating `sub` at `now` does, decided in one place for the termination itself (terminate-subscription.ts,
 * `lock: true`: the invoices are locked, and it writes what this says) and for its quote (`lock: false`: read only):
 * - active: the refund by docs/adr/0010 (in full within 14 days of activation or the last renewal, otherwise the
 *   remaining whole months), capped by what is left to give back on the invoices that billed the charges (ADR 0035);
 *   refused (409) while one of them has something due;
 * - pending_payment: its unpaid Purchase invoice is voided; when credit notes took the whole invoice back, nothing is
 *   owed; partly paid, refused (409: a credit note gives it back);
 * - expired: nothing.
 */
export async function planTermination(
  trx: Trx, caller: Pick<SubscriptionCaller, 'partnerId' | 'app'>, sub: SubscriptionRow, now: Date, options: { lock: boolean },
): Promise<TerminationPlan> {
  const currency = currencyOf(sub.currency);
  const forPortal = caller.app === 'portal';
  if (sub.status === 'active') {
    const charges = await currentPeriodCharges(trx, sub);
    const computed = computeRefund({
      currency, cycle: sub.cycle, now, periodStart: sub.currentPeriodStart!, periodEnd: sub.currentPeriodEnd!,
      lastChargedAt: sub.lastRenewedAt && sub.lastRenewedAt > sub.activatedAt! ? sub.lastRenewedAt : sub.activatedAt!,
      charges,
    });
    // What credit notes (or another termination) already gave back on the invoices is not given back twice.
    const rooms = await invoiceRefundRooms(trx, caller.partnerId, charges.flatMap((c) => (c.invoiceId ? [c.invoiceId] : [])), forPortal, options);
    const capped = capRefund(currency, computed, charges.map((c) => ({ invoiceId: c.invoiceId, totalMicros: c.priceMicros + c.activationFeeMicros + c.taxMicros })), rooms);
    return { refund: capped.refund, capped, voidedInvoice: null, creditedInvoice: null };
  }
  if (sub.status === 'pending_payment') {
    const invoice = await trx.selectFrom('invoices').select(['id', 'number', 'status', 'totalMicros', 'amountDueMicros', 'amountPaidMicros'])
      .where('partnerId', '=', caller.partnerId).where('id', '=', sub.pendingInvoiceId!).$if(options.lock, (q) => q.forUpdate()).executeTakeFirstOrThrow();
    const rooms = invoice.status === 'paid' && BigInt(invoice.amountDueMicros) === 0n
      ? await invoiceRefundRooms(trx, caller.partnerId, [invoice.id], forPortal, options) : null;
    if (rooms && rooms.get(invoice.id)!.leftMicros === 0n) {
      // Credit notes took the whole invoice back (its due reduced, anything paid given back): nothing is owed, nothing to refund.
      return { refund: null, capped: null, voidedInvoice: null, creditedInvoice: { number: invoice.number } };
    }
    if (invoice.status !== 'awaiting_payment' || invoice.amountDueMicros !== invoice.totalMicros) {
      // Part of it is paid: only Finance can give that back (a credit note). A customer is told who can, and what else works.
      const what = `Invoice ${invoice.number ?? invoice.id} is ${invoice.status.replace('_', ' ')}`;
      throw new DomainError('state_conflict', forPortal
        ? `${what}: pay the rest to start the subscription, or ask your provider to cancel it (they credit what you paid)`
        : `${what}: cancel it with a credit note first`);
    }
    return { refund: null, capped: null, voidedInvoice: { id: invoice.id, number: invoice.number }, creditedInvoice: null };
  }
  return { refund: null, capped: null, voidedInvoice: null, creditedInvoice: null };
}

const decimal = z.string().describe('A decimal string in the subscription\'s currency');

export const terminationQuoteSchema = z.object({
  subscriptionId: z.string(),
  /** The version the quote was made on: If-Match with its ETag terminates only what was quoted. */
  version: z.number().int(),
  currency: z.string(),
  outcome: z.enum(['refund', 'void_invoice', 'nothing']).describe(
    'refund: points come back (total may be 0.00 when credit notes gave it all back already); void_invoice: a pending purchase is cancelled and its unpaid invoice voided; nothing: its period is over, or credit notes took its invoice back',
  ),
  refund: z.object({
    rule: z.enum(['full', 'whole_months']).describe('full: within 14 days of activation, renewal or reactivation; whole_months: the whole months left'),
    months: z.number().int().nullable().describe('Whole months refunded (rule whole_months)'),
    price: decimal, tax: decimal, total: decimal,
    withheld: decimal.describe('What the rule gives but credit notes already gave back, so it is not given twice'),
  }).nullable(),
  invoiceNumber: z.string().nullable().describe('The invoice voided (void_invoice) or already credited in whole (nothing)'),
});
export type TerminationQuote = z.infer<typeof terminationQuoteSchema>;

/**
 * What terminating the subscription now would give back (staff, or a portal owner/admin), computed as the termination
 * computes it, writing nothing: the dialog says the amount before the customer confirms. A subscription that cannot be
 * terminated answers as the termination would (409: terminated already, or an invoice with something due).
 */
export async function quoteTermination(ctx: Ctx, input: { subscriptionId: string }): Promise<TerminationQuote> {
  const caller = subscriptionCaller(ctx.principal);
  // The caller's own scope as the second wall: a portal user's reads see its organisation's rows only.
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    let q = trx.selectFrom('subscriptions').selectAll().where('partnerId', '=', caller.partnerId).where('id', '=', input.subscriptionId);
    if (caller.customerId) q = q.where('customerId', '=', caller.customerId);
    const sub = await q.executeTakeFirst();
    if (!sub) throw notFound('Subscription');
    assertStatus(sub, ['pending_payment', 'active', 'expired'], 'terminated');
    const plan = await planTermination(trx, caller, sub, ctx.clock.now(), { lock: false });
    const currency = currencyOf(sub.currency);
    const fmt = (m: bigint) => formatDecimal(m, currency);
    const base = { subscriptionId: sub.id, version: sub.version, currency };
    if (plan.refund) {
      const r = plan.refund;
      return {
        ...base, outcome: 'refund', invoiceNumber: null,
        refund: {
          rule: r.rule, months: r.rule === 'whole_months' ? r.months : null, price: fmt(r.priceMicros), tax: fmt(r.taxMicros),
          total: fmt(r.priceMicros + r.taxMicros), withheld: fmt(plan.capped?.withheldMicros ?? 0n),
        },
      };
    }
    if (plan.voidedInvoice) return { ...base, outcome: 'void_invoice', refund: null, invoiceNumber: plan.voidedInvoice.number };
    return { ...base, outcome: 'nothing', refund: null, invoiceNumber: plan.creditedInvoice?.number ?? null };
  });
}
