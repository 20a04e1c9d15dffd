import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal } from '../money/money.ts';
import { diff, recordAudit } from '../audit/record-audit.ts';
import { partnerCaller } from '../access/caller.ts';
import { buildDraftLines, draftColumns, type InvoiceLineBody } from './draft-lines.ts';
import type { InvoiceDetail } from './invoice-view-types.ts';
import { draftTotals, invoiceCurrency, loadInvoiceDetail, partnerTaxRate } from './invoice-views.ts';
import { invoiceEtag, invoiceVersion } from './get-invoice.ts';
import { ifMatchMatches } from '../platform/etag.ts';

export interface UpdateInvoiceInput {
  invoiceId: string;
  lines?: readonly InvoiceLineBody[] | undefined;
  /** null clears. */
  notes?: string | null | undefined;
  /** null: the partner's due days at issue. */
  dueDays?: number | null | undefined;
  ifMatch?: string | undefined;
}

/**
 * Change a draft: its lines (replaced as a whole), notes or due days. Only drafts (409 `invoice_not_draft`: issued
 * invoices never change, a credit note corrects them); `If-Match` with a stale ETag writes nothing (412). Audited as
 * `invoice.updated` with what changed; a request that changes nothing writes nothing.
 */
export async function updateInvoice(ctx: Ctx, input: UpdateInvoiceInput): Promise<{ invoice: InvoiceDetail; etag: string }> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const row = await trx.selectFrom('invoices').selectAll().where('partnerId', '=', partnerId).where('id', '=', input.invoiceId).forUpdate().executeTakeFirst();
    if (!row) throw notFound('Invoice');
    if (row.status !== 'draft') {
      throw new DomainError('invoice_not_draft', `Invoice ${row.number ?? row.id} is issued (${row.status.replace('_', ' ')}): issued invoices never change; correct it with a credit note`);
    }
    if (input.ifMatch !== undefined && !ifMatchMatches(input.ifMatch, invoiceEtag(row.id, (await invoiceVersion(trx, partnerId, row.id))!))) {
      throw new DomainError('precondition_failed', 'This draft changed since you read it; reload and try again');
    }
    const currency = invoiceCurrency(row.currency);
    const lines = input.lines !== undefined ? await buildDraftLines(trx, { partnerId, currency, type: row.type, lines: input.lines }) : row.draftLines ?? [];
    const totals = draftTotals(currency, row.type, lines, await partnerTaxRate(trx, partnerId));
    const before = { lines: JSON.stringify(row.draftLines ?? []), notes: row.notes, dueDays: row.dueDays, total: formatDecimal(BigInt(row.totalMicros), currency) };
    const after = {
      lines: JSON.stringify(lines),
      notes: input.notes === undefined ? row.notes : input.notes,
      dueDays: input.dueDays === undefined ? row.dueDays : input.dueDays,
      total: formatDecimal(totals.totalMicros, currency),
    };
    const changes = diff(before, after);
    if (Object.keys(changes).length > 0) {
      await trx.updateTable('invoices').set({
        ...draftColumns(totals), draftLines: after.lines, notes: after.notes, dueDays: after.dueDays,
        updatedAt: sql`greatest(clock_timestamp(), updated_at + interval '1 microsecond')`,
      }).where('partnerId', '=', partnerId).where('id', '=', row.id).execute();
      if (changes.lines) changes.lines = { before: (row.draftLines ?? []).length, after: lines.length };
      await recordAudit(trx, ctx, {
        partnerId, customerId: row.customerId, app: 'invoice', action: 'invoice.updated', targetType: 'invoice', targetId: row.id, changes,
      });
    }
    const invoice = (await loadInvoiceDetail(trx, { partnerId, invoiceId: row.id, now: ctx.clock.now() }))!;
    return { invoice, etag: invoiceEtag(row.id, (await invoiceVersion(trx, partnerId, row.id))!) };
  });
}
