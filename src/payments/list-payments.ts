import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Executor } from '../platform/database.ts';
import { partnerCaller } from '../access/caller.ts';
import { pageOf, type Page } from '../access/paging.ts';
import { csvRow } from '../audit/csv.ts';
import type { PaymentMethod, PaymentStatus } from './payments.db-types.ts';
import { paymentSummaryQuery, toPaymentSummary, type PaymentSummary } from './payment-views.ts';

export interface PaymentFilters {
  method?: PaymentMethod | undefined;
  status?: PaymentStatus | undefined;
  customerId?: string | undefined;
  /** Received on or after this day (`YYYY-MM-DD`). */
  receivedFrom?: string | undefined;
  /** Received on or before this day (inclusive). */
  receivedTo?: string | undefined;
  /** Part of the reference or the receipt number (case-insensitive). */
  q?: string | undefined;
  /** true: only the Unassigned list (payer not known yet, not reversed); false: only payments with a customer. */
  unassigned?: boolean | undefined;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The filtered list of one partner's payments, newest first (by id), after `cursor`. */
export function paymentListQuery(db: Executor, partnerId: string, input: PaymentFilters & { cursor?: string | undefined }) {
  const q = input.q?.trim();
  return paymentSummaryQuery(db, partnerId)
    .$if(input.method !== undefined, (qb) => qb.where('p.method', '=', input.method!))
    .$if(input.status !== undefined, (qb) => qb.where('p.status', '=', input.status!))
    .$if(input.customerId !== undefined, (qb) => qb.where('p.customerId', '=', input.customerId!))
    .$if(input.receivedFrom !== undefined, (qb) => qb.where(sql<boolean>`p.received_on >= ${input.receivedFrom!}::date`))
    .$if(input.receivedTo !== undefined, (qb) => qb.where(sql<boolean>`p.received_on <= ${input.receivedTo!}::date`))
    .$if(input.unassigned === true, (qb) => qb.where('p.status', '=', 'unassigned'))
    .$if(input.unassigned === false, (qb) => qb.where('p.customerId', 'is not', null))
    .$if(Boolean(q), (qb) => qb.where(sql<boolean>`(p.reference ilike ${`%${escapeLike(q!)}%`} or p.receipt_number ilike ${`%${escapeLike(q!)}%`})`))
    .$if(input.cursor !== undefined, (qb) => qb.where('p.id', '<', input.cursor!))
    .orderBy('p.id', 'desc');
}

/** The partner's payments, newest first, filters combined (AND). */
export async function listPayments(ctx: Ctx, input: PaymentFilters & { limit: number; cursor?: string | undefined }): Promise<Page<PaymentSummary>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await paymentListQuery(trx, partnerId, input).limit(input.limit + 1).execute();
    return pageOf(rows.map(toPaymentSummary), input.limit);
  });
}

export const PAYMENT_CSV_HEADER = [
  'id', 'receiptNumber', 'status', 'method', 'customerId', 'customer', 'currency', 'amount', 'allocated', 'toPoints', 'unallocated',
  'receivedOn', 'reference', 'remark', 'reversedAt', 'reversalReason', 'createdAt',
] as const;
const CSV_BATCH = 500;

/** Every matching payment as CSV chunks (header first), in bounded batches, each in its own short transaction. */
export function exportPaymentsCsv(ctx: Ctx, filters: PaymentFilters & { cursor?: string | undefined }): AsyncIterable<string> {
  const { partnerId } = partnerCaller(ctx.principal);
  async function* chunks(): AsyncGenerator<string> {
    yield csvRow(PAYMENT_CSV_HEADER);
    let cursor = filters.cursor;
    for (;;) {
      const rows = await inScope(ctx.db, scopeOf(ctx.principal), (trx) => paymentListQuery(trx, partnerId, { ...filters, cursor }).limit(CSV_BATCH).execute());
      if (rows.length > 0) {
        yield rows.map((r) => {
          const s = toPaymentSummary(r);
          return csvRow([
            s.id, s.receiptNumber, s.status, s.method, s.customer?.id ?? null, s.customer?.name ?? null, s.currency, s.amount, s.allocated, s.toPoints, s.unallocated,
            s.receivedOn, s.reference, s.remark, s.reversedAt, s.reversalReason, s.createdAt,
          ]);
        }).join('');
      }
      if (rows.length < CSV_BATCH) return;
      cursor = rows[rows.length - 1]!.id;
    }
  }
  return chunks();
}
