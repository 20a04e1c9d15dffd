import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { formatDecimal } from '../money/money.ts';
import { partnerCaller } from '../access/caller.ts';
import { MAX_ALLOCATIONS } from './allocate-payment.ts';
import { paymentCurrency } from './payment-views.ts';
import { overdueIfDueBefore } from '../invoices/invoice-views.ts';

export const paymentOpenInvoicesSchema = z.object({
  paymentId: z.string(),
  currency: z.string(),
  data: z.array(z.object({
    id: z.string(),
    number: z.string().nullable(),
    type: z.enum(['purchase', 'top_up']),
    status: z.enum(['awaiting_payment', 'partially_paid']),
    issuedAt: z.string().nullable(),
    dueAt: z.string().nullable(),
    overdue: z.boolean(),
    total: z.string(),
    amountDue: z.string(),
    paymentInProgress: z.boolean().describe('a portal payment of this invoice is in progress: allocating to it is refused (409) until it ends'),
  })).describe(`the open invoices the payment can be allocated to, oldest due first (the auto-allocation order), at most ${MAX_ALLOCATIONS}`),
  more: z.boolean().describe(`true when the customer has more than ${MAX_ALLOCATIONS} open invoices in this currency`),
});
export type PaymentOpenInvoices = z.infer<typeof paymentOpenInvoicesSchema>;

/**
 * The invoices a payment can be allocated to: its customer's Purchase and Top-up invoices awaiting payment or partly
 * paid, in the payment's currency, not informational; oldest due first. For the Finance app's allocation form, so that
 * a finance person without the Invoice app can allocate. An unassigned or reversed payment has none.
 */
export async function paymentOpenInvoices(ctx: Ctx, paymentId: string): Promise<PaymentOpenInvoices> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const payment = await trx.selectFrom('payments').select(['customerId', 'currency', 'status'])
      .where('partnerId', '=', partnerId).where('id', '=', paymentId).executeTakeFirst();
    if (!payment) throw notFound('Payment');
    const currency = paymentCurrency(payment.currency);
    if (!payment.customerId || payment.status === 'reversed') return { paymentId, currency, data: [], more: false };
    const rows = await trx.selectFrom('invoices as i')
      .select((eb) => [
        'i.id', 'i.number', 'i.type', 'i.status', 'i.issuedAt', 'i.dueAt', 'i.totalMicros', 'i.amountDueMicros',
        eb.exists(eb.selectFrom('invoicePayAttempts as a').select('a.id').whereRef('a.invoiceId', '=', 'i.id')
          .where('a.partnerId', '=', partnerId).where('a.status', '=', 'pending')).as('paymentInProgress'),
      ])
      .where('i.partnerId', '=', partnerId).where('i.customerId', '=', payment.customerId).where('i.currency', '=', currency)
      .where('i.status', 'in', ['awaiting_payment', 'partially_paid']).where('i.type', 'in', ['purchase', 'top_up']).where('i.informational', '=', false)
      .orderBy(sql`i.due_at asc nulls last`).orderBy('i.issuedAt').orderBy('i.id')
      .limit(MAX_ALLOCATIONS + 1)
      .execute();
    const overdueBefore = overdueIfDueBefore(ctx.clock.now()).getTime();
    const fmt = (m: string) => formatDecimal(BigInt(m), currency);
    return {
      paymentId,
      currency,
      data: rows.slice(0, MAX_ALLOCATIONS).map((r) => ({
        id: r.id, number: r.number, type: r.type as 'purchase' | 'top_up', status: r.status as 'awaiting_payment' | 'partially_paid',
        issuedAt: r.issuedAt?.toISOString() ?? null, dueAt: r.dueAt?.toISOString() ?? null, overdue: r.dueAt !== null && r.dueAt.getTime() < overdueBefore,
        total: fmt(r.totalMicros), amountDue: fmt(r.amountDueMicros), paymentInProgress: Boolean(r.paymentInProgress),
      })),
      more: rows.length > MAX_ALLOCATIONS,
    };
  });
}
