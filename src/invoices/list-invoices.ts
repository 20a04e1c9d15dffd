import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Executor } from '../platform/database.ts';
import type { InvoiceStatus, InvoiceType } from '../platform/db-types.ts';
import { partnerCaller } from '../access/caller.ts';
import { pageOf, type Page } from '../access/paging.ts';
import { csvRow } from '../audit/csv.ts';
import type { InvoiceSummary } from './invoice-view-types.ts';
import { invoiceSummaryQuery, overdueIfDueBefore, toInvoiceSummary } from './invoice-views.ts';

export interface InvoiceFilters {
  type?: InvoiceType | undefined;
  status?: InvoiceStatus | undefined;
  customerId?: string | undefined;
  /** A number prefix (case-insensitive), or part of the customer's name. */
  q?: string | undefined;
  /** Issued on or after this day (UTC, `YYYY-MM-DD`). */
  issuedFrom?: string | undefined;
  /** Issued on or before this day (UTC, inclusive). */
  issuedTo?: string | undefined;
  /** Only open invoices past their due date. */
  overdue?: boolean | undefined;
}

export interface ListInvoicesInput extends InvoiceFilters {
  limit: number;
  cursor?: string | undefined;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The filtered list query of one partner, newest first (by id), after `cursor`; `now` decides overdue. */
export function invoiceListQuery(db: Executor, partnerId: string, input: InvoiceFilters & { cursor?: string | undefined }, now: Date) {
  const q = input.q?.trim();
  return invoiceSummaryQuery(db, partnerId)
    .$if(input.type !== undefined, (qb) => qb.where('i.type', '=', input.type!))
    .$if(input.status !== undefined, (qb) => qb.where('i.status', '=', input.status!))
    .$if(input.customerId !== undefined, (qb) => qb.where('i.customerId', '=', input.customerId!))
    // Part of the number (people type the sequence digits they read off a PDF) or of the customer's name. The name's
    // infix match already reads the partner's invoices through invoices_list, so the number's costs nothing more.
    .$if(Boolean(q), (qb) => qb.where(sql<boolean>`(lower(i.number) like ${`%${escapeLike(q!.toLowerCase())}%`} or c.name ilike ${`%${escapeLike(q!)}%`})`))
    .$if(input.issuedFrom !== undefined, (qb) => qb.where(sql<boolean>`i.issued_at >= ${input.issuedFrom!}::date::timestamp at time zone 'UTC'`))
    .$if(input.issuedTo !== undefined, (qb) => qb.where(sql<boolean>`i.issued_at < (${input.issuedTo!}::date + 1)::timestamp at time zone 'UTC'`))
    .$if(input.overdue === true, (qb) => qb.where('i.status', 'in', ['awaiting_payment', 'partially_paid']).where('i.dueAt', '<', overdueIfDueBefore(now)))
    .$if(input.cursor !== undefined, (qb) => qb.where('i.id', '<', input.cursor!))
    .orderBy('i.id', 'desc');
}

/** The partner's invoices (drafts included), newest first, filters combined (AND). */
export async function listInvoices(ctx: Ctx, input: ListInvoicesInput): Promise<Page<InvoiceSummary>> {
  const { partnerId } = partnerCaller(ctx.principal);
  const now = ctx.clock.now();
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await invoiceListQuery(trx, partnerId, input, now).limit(input.limit + 1).execute();
    return pageOf(rows.map((r) => toInvoiceSummary(r, now)), input.limit);
  });
}

export const INVOICE_CSV_HEADER = [
  'number', 'id', 'type', 'status', 'overdue', 'customerId', 'customer', 'currency', 'subtotal', 'discount', 'tax', 'total',
  'amountPaid', 'amountCredited', 'amountRefunded', 'amountCreditedToPoints', 'amountDue', 'issuedAt', 'dueAt', 'paidAt', 'voidedAt', 'createdAt',
] as const;
const CSV_BATCH = 500;

/** Every matching invoice as CSV chunks (header first), read in bounded batches, each in its own short transaction. */
export function exportInvoicesCsv(ctx: Ctx, filters: InvoiceFilters & { cursor?: string | undefined }): AsyncIterable<string> {
  const { partnerId } = partnerCaller(ctx.principal);
  const now = ctx.clock.now();
  async function* chunks(): AsyncGenerator<string> {
    yield csvRow(INVOICE_CSV_HEADER);
    let cursor = filters.cursor;
    for (;;) {
      const rows = await inScope(ctx.db, scopeOf(ctx.principal), (trx) => invoiceListQuery(trx, partnerId, { ...filters, cursor }, now).limit(CSV_BATCH).execute());
      if (rows.length > 0) {
        yield rows.map((r) => {
          const s = toInvoiceSummary(r, now);
          return csvRow([
            s.number, s.id, s.type, s.status, s.overdue ? 'true' : 'false', s.customer.id, s.customer.name, s.currency, s.subtotal, s.discount, s.tax, s.total,
            s.amountPaid, s.amountCredited, s.amountRefunded, s.amountCreditedToPoints, s.amountDue, s.issuedAt, s.dueAt, s.paidAt, s.voidedAt, s.createdAt,
          ]);
        }).join('');
      }
      if (rows.length < CSV_BATCH) return;
      cursor = rows[rows.length - 1]!.id;
    }
  }
  return chunks();
}
