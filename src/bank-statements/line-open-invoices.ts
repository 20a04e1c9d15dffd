import { sql } from 'kysely';
import { z } from 'zod';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { notFound, unknownId } from '../platform/errors.ts';
import { formatDecimal, isCurrency } from '../money/money.ts';
import { partnerCaller } from '../access/caller.ts';
import { MAX_ALLOCATIONS } from '../payments/allocate-payment.ts';

export const lineOpenInvoicesSchema = z.object({
  customerId: z.string(),
  currency: z.string(),
  data: z.array(z.object({
    id: z.string(),
    number: z.string().nullable(),
    type: z.enum(['purchase', 'top_up']),
    dueAt: z.string().nullable(),
    total: z.string(),
    amountDue: z.string(),
  })).describe(`the customer's open Purchase and Top-up invoices in the line's currency, oldest due first, at most ${MAX_ALLOCATIONS}`),
  more: z.boolean(),
});
export type LineOpenInvoices = z.infer<typeof lineOpenInvoicesSchema>;

/**
 * What a line could pay for a chosen customer (the accept dialog's invoice list), so that a finance person without the
 * Invoice app can edit a suggestion. An unknown line is 404 (the path); an unknown or another partner's customer is 422
 * `customer_not_found` naming `customerId` (the query: docs/adr/0037).
 */
export async function lineOpenInvoices(ctx: Ctx, statementId: string, lineId: string, customerId: string): Promise<LineOpenInvoices> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const line = await trx.selectFrom('bankStatementLines').select('currency')
      .where('partnerId', '=', partnerId).where('statementId', '=', statementId).where('id', '=', lineId).executeTakeFirst();
    if (!line) throw notFound('Bank statement line');
    const customer = await trx.selectFrom('customers').select('id').where('partnerId', '=', partnerId).where('id', '=', customerId).executeTakeFirst();
    if (!customer) throw unknownId('customer_not_found', 'customerId', 'Customer');
    const currency = line.currency;
    const rows = await trx.selectFrom('invoices as i')
      .select(['i.id', 'i.number', 'i.type', 'i.dueAt', 'i.totalMicros', 'i.amountDueMicros'])
      .where('i.partnerId', '=', partnerId).where('i.customerId', '=', customerId).where('i.currency', '=', currency)
      .where('i.status', 'in', ['awaiting_payment', 'partially_paid']).where('i.type', 'in', ['purchase', 'top_up']).where('i.informational', '=', false)
      .orderBy(sql`i.due_at asc nulls last`).orderBy('i.issuedAt').orderBy('i.id')
      .limit(MAX_ALLOCATIONS + 1).execute();
    const fmt = (m: string) => (isCurrency(currency) ? formatDecimal(BigInt(m), currency) : m);
    return {
      customerId, currency,
      data: rows.slice(0, MAX_ALLOCATIONS).map((r) => ({
        id: r.id, number: r.number, type: r.type as 'purchase' | 'top_up', dueAt: r.dueAt?.toISOString() ?? null,
        total: fmt(r.totalMicros), amountDue: fmt(r.amountDueMicros),
      })),
      more: rows.length > MAX_ALLOCATIONS,
    };
  });
}
