import { sql } from 'kysely';
import { z } from 'zod';
import type { Executor } from '../platform/database.ts';
import { notFound } from '../platform/errors.ts';
import { formatDecimal, isCurrency } from '../money/money.ts';
import { BANK_LINE_STATUSES, CONFIDENCES, type BankLineStatus } from './bank-statements.db-types.ts';

const fmt = (micros: string | bigint, currency: string) => (isCurrency(currency) ? formatDecimal(BigInt(micros), currency) : String(micros));

export const lineCountsSchema = z.object({
  suggested: z.number().int(),
  unmatched: z.number().int(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  ignored: z.number().int().describe('debit lines (money paid out): not payments'),
  duplicate: z.number().int().describe('lines imported before (same day, amount, currency and reference): skipped'),
  confident: z.number().int().describe('suggested lines of high confidence, not decided yet (what accept-confident takes)'),
});
export type LineCounts = z.infer<typeof lineCountsSchema>;

export const bankStatementSchema = z.object({
  id: z.string(),
  fileName: z.string(),
  defaultCurrency: z.string(),
  recordCount: z.number().int().describe('lines with content in the file, header not counted'),
  errorCount: z.number().int().describe('lines that could not be read'),
  errors: z.array(z.object({ line: z.number().int(), field: z.string(), message: z.string() })).describe('the first 1000 unreadable lines'),
  warnings: z.array(z.string()),
  counts: lineCountsSchema,
  uploadedBy: z.object({ id: z.string(), name: z.string() }).nullable(),
  createdAt: z.string(),
});
export type BankStatementView = z.infer<typeof bankStatementSchema>;

export const suggestedInvoiceSchema = z.object({
  id: z.string(),
  number: z.string().nullable(),
  status: z.string(),
  dueAt: z.string().nullable(),
  total: z.string(),
  amountDue: z.string().describe('what the invoice owes now'),
});

export const bankLineSchema = z.object({
  id: z.string(),
  lineNo: z.number().int().describe('the line in the uploaded file (1 = first line)'),
  bookedOn: z.string(),
  amount: z.string().describe('positive: money received; negative: a debit (ignored)'),
  currency: z.string(),
  reference: z.string().nullable(),
  payerName: z.string().nullable(),
  payerAccount: z.string().nullable(),
  status: z.enum(BANK_LINE_STATUSES),
  confidence: z.enum(CONFIDENCES),
  matchKind: z.enum(['reference', 'amount', 'combination', 'payer_name']).nullable(),
  reason: z.string().nullable(),
  customer: z.object({ id: z.string(), name: z.string() }).nullable().describe('the proposed customer'),
  invoices: z.array(suggestedInvoiceSchema).describe('the proposed invoices, in the order they are paid'),
  paymentId: z.string().nullable().describe('the payment an accepted line became'),
  duplicateOf: z.string().nullable(),
  decidedAt: z.string().nullable(),
  rejectReason: z.string().nullable(),
});
export type BankLineView = z.infer<typeof bankLineSchema>;

export async function lineCounts(db: Executor, partnerId: string, statementIds: readonly string[]): Promise<Map<string, LineCounts>> {
  const out = new Map<string, LineCounts>();
  for (const id of statementIds) out.set(id, { suggested: 0, unmatched: 0, accepted: 0, rejected: 0, ignored: 0, duplicate: 0, confident: 0 });
  if (statementIds.length === 0) return out;
  const rows = await db.selectFrom('bankStatementLines')
    .select(['statementId', 'status', sql<number>`count(*)::int`.as('n'), sql<number>`(count(*) filter (where confidence = 'high'))::int`.as('high')])
    .where('partnerId', '=', partnerId).where('statementId', 'in', [...statementIds])
    .groupBy(['statementId', 'status']).execute();
  for (const r of rows) {
    const c = out.get(r.statementId)!;
    c[r.status] = r.n;
    if (r.status === 'suggested') c.confident = r.high;
  }
  return out;
}

export async function loadStatements(db: Executor, partnerId: string, opts: { ids?: readonly string[]; limit?: number; cursor?: string }): Promise<BankStatementView[]> {
  let q = db.selectFrom('bankStatements as s').leftJoin('users as u', 'u.id', 's.uploadedBy')
    .select(['s.id', 's.fileName', 's.defaultCurrency', 's.recordCount', 's.errorCount', 's.errors', 's.warnings', 's.uploadedBy', 'u.name as uploaderName', 's.createdAt'])
    .where('s.partnerId', '=', partnerId);
  if (opts.ids) q = q.where('s.id', 'in', [...opts.ids]);
  if (opts.cursor) q = q.where('s.id', '<', opts.cursor);
  q = q.orderBy('s.id', 'desc');
  if (opts.limit) q = q.limit(opts.limit);
  const rows = await q.execute();
  const counts = await lineCounts(db, partnerId, rows.map((r) => r.id));
  return rows.map((r) => ({
    id: r.id, fileName: r.fileName, defaultCurrency: r.defaultCurrency, recordCount: r.recordCount, errorCount: r.errorCount,
    errors: r.errors, warnings: r.warnings, counts: counts.get(r.id)!,
    uploadedBy: r.uploadedBy ? { id: r.uploadedBy, name: r.uploaderName ?? r.uploadedBy } : null,
    createdAt: r.createdAt.toISOString(),
  }));
}

export async function loadStatement(db: Executor, partnerId: string, id: string): Promise<BankStatementView> {
  const [view] = await loadStatements(db, partnerId, { ids: [id] });
  if (!view) throw notFound('Bank statement');
  return view;
}

interface LineRow {
  id: string;
  lineNo: number;
  bookedOn: string;
  amountMicros: string;
  currency: string;
  reference: string | null;
  payerName: string | null;
  payerAccount: string | null;
  status: BankLineView['status'];
  confidence: BankLineView['confidence'];
  matchKind: BankLineView['matchKind'];
  reason: string | null;
  customerId: string | null;
  customerName: string | null;
  invoices: Array<{ id: string; number: string | null; status: string; dueAt: string | null; totalMicros: string; amountDueMicros: string }> | null;
  paymentId: string | null;
  duplicateOf: string | null;
  decidedAt: Date | null;
  rejectReason: string | null;
}

/** Lines of a statement with their proposals (customer name, invoices as they are now), by line number. */
export async function loadLines(db: Executor, partnerId: string, opts: { statementId: string; lineIds?: readonly string[]; status?: BankLineStatus; afterLineNo?: number; limit: number }): Promise<BankLineView[]> {
  const { rows } = await sql<LineRow>`
    select l.id, l.line_no as "lineNo", l.booked_on::text as "bookedOn", l.amount_micros::text as "amountMicros", l.currency, l.reference,
      l.payer_name as "payerName", l.payer_account as "payerAccount", l.status, l.confidence, l.match_kind as "matchKind", l.reason,
      l.suggested_customer_id as "customerId", c.name as "customerName",
      (select jsonb_agg(jsonb_build_object('id', i.id, 'number', i.number, 'status', i.status, 'dueAt', i.due_at, 'totalMicros', i.total_micros::text,
                'amountDueMicros', i.amount_due_micros::text) order by s.ord)
         from unnest(l.suggested_invoice_ids) with ordinality as s(invoice_id, ord)
         join invoices i on i.partner_id = l.partner_id and i.id = s.invoice_id) as invoices,
      l.payment_id as "paymentId", l.duplicate_of as "duplicateOf", l.decided_at as "decidedAt", l.reject_reason as "rejectReason"
    from bank_statement_lines l
      left join customers c on c.partner_id = l.partner_id and c.id = l.suggested_customer_id
    where l.partner_id = ${partnerId} and l.statement_id = ${opts.statementId}
      ${opts.lineIds ? sql`and l.id = any(${[...opts.lineIds]}::text[])` : sql``}
      ${opts.status ? sql`and l.status = ${opts.status}` : sql``}
      ${opts.afterLineNo !== undefined ? sql`and l.line_no > ${opts.afterLineNo}` : sql``}
    order by l.line_no
    limit ${opts.limit}
  `.execute(db);
  return rows.map((r) => ({
    id: r.id, lineNo: r.lineNo, bookedOn: r.bookedOn, amount: fmt(r.amountMicros, r.currency), currency: r.currency,
    reference: r.reference, payerName: r.payerName, payerAccount: r.payerAccount, status: r.status, confidence: r.confidence,
    matchKind: r.matchKind, reason: r.reason,
    customer: r.customerId ? { id: r.customerId, name: r.customerName ?? r.customerId } : null,
    invoices: (r.invoices ?? []).map((i) => ({
      id: i.id, number: i.number, status: i.status, dueAt: i.dueAt ? new Date(i.dueAt).toISOString() : null,
      total: fmt(i.totalMicros, r.currency), amountDue: fmt(i.amountDueMicros, r.currency),
    })),
    paymentId: r.paymentId, duplicateOf: r.duplicateOf, decidedAt: r.decidedAt ? new Date(r.decidedAt).toISOString() : null, rejectReason: r.rejectReason,
  }));
}

export async function loadLine(db: Executor, partnerId: string, statementId: string, lineId: string): Promise<BankLineView> {
  const [line] = await loadLines(db, partnerId, { statementId, lineIds: [lineId], limit: 1 });
  if (!line) throw notFound('Bank statement line');
  return line;
}
