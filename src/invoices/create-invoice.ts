import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, unknownId } from '../platform/errors.ts';
import { newId } from '../platform/ids.ts';
import { formatDecimal } from '../money/money.ts';
import { recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { buildDraftLines, draftColumns, type InvoiceLineBody } from './draft-lines.ts';
import type { InvoiceDetail } from './invoice-view-types.ts';
import { draftTotals, invoiceCurrency, loadInvoiceDetail, partnerTaxRate } from './invoice-views.ts';
import { issueDraftInTransaction } from './issue-draft-invoice.ts';

export interface CreateInvoiceInput {
  customerId: string;
  type: 'purchase' | 'top_up';
  lines: readonly InvoiceLineBody[];
  notes?: string | undefined;
  dueDays?: number | undefined;
  /** Issue it at once (number, ledger entry, notification), in the same transaction. */
  issue?: boolean | undefined;
}

/**
 * Create a Purchase or Top-up invoice by hand (the Invoice app): a draft, or issued at once with `issue: true`.
 * The customer must be the partner's (404 otherwise) and active (409 `customer_not_active`); the invoice is in the
 * customer's currency. Lines are checked by buildDraftLines (draft-lines.ts). Audit `invoice.created` (and
 * `invoice.issued` when issued).
 */
export async function createInvoice(ctx: Ctx, input: CreateInvoiceInput): Promise<InvoiceDetail> {
  const caller = partnerCaller(ctx.principal);
  const { partnerId } = caller;
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const customer = await trx.selectFrom('customers').select(['id', 'name', 'currency', 'status'])
      .where('partnerId', '=', partnerId).where('id', '=', input.customerId).forShare().executeTakeFirst();
    if (!customer) {
      throw unknownId('customer_not_found', 'customerId', 'Customer');
    }
    if (customer.status !== 'active') {
      throw new DomainError('customer_not_active', `${customer.name} is ${customer.status}: invoices are made for active customers only`, [{ path: 'customerId', message: `customer is ${customer.status}` }]);
    }
    const currency = invoiceCurrency(customer.currency);
    const lines = await buildDraftLines(trx, { partnerId, currency, type: input.type, lines: input.lines });
    const totals = draftTotals(currency, input.type, lines, await partnerTaxRate(trx, partnerId));
    const id = newId('inv');
    const now = ctx.clock.now();
    await trx.insertInto('invoices').values({
      id, partnerId, customerId: customer.id, type: input.type, status: 'draft', number: null, currency,
      ...draftColumns(totals), issuedAt: null, dueAt: null, paidAt: null, createdAt: now, updatedAt: now,
      draftLines: JSON.stringify(lines), notes: input.notes ?? null, dueDays: input.dueDays ?? null, createdBy: caller.actorId,
    }).execute();
    await recordAudit(trx, ctx, {
      partnerId, customerId: customer.id, app: 'invoice', action: 'invoice.created', targetType: 'invoice', targetId: id,
      changes: {
        type: { after: input.type }, status: { after: 'draft' }, currency: { after: currency }, lines: { after: lines.length },
        total: { after: formatDecimal(totals.totalMicros, currency) },
      },
    });
    if (input.issue) await issueDraftInTransaction(trx, ctx, id);
    return (await loadInvoiceDetail(trx, { partnerId, invoiceId: id, now: ctx.clock.now() }))!;
  });
}
