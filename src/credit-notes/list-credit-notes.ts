import { sql } from 'kysely';
import type { Ctx } from '../platform/context.ts';
import { scopeOf } from '../platform/context.ts';
import { inScope, type Executor } from '../platform/database.ts';
import { notFound, unknownId } from '../platform/errors.ts';
import { partnerCaller, portalCaller, seesCompanyCredits } from '../access/caller.ts';
import { pageOf, type Page } from '../access/paging.ts';
import { csvRow } from '../audit/csv.ts';
import { documentLogo, sellerOf } from '../invoices/invoice-views.ts';
import { invoiceTypesSeenBy, isPointsDebitNote } from '../invoices/portal-invoices.ts';
import type { CreditNoteOutcome, CreditNoteReason, CreditNoteStatus } from './credit-notes.db-types.ts';
import type { InvoiceType } from '../platform/db-types.ts';
import { z } from 'zod';
import { formatDecimal } from '../money/money.ts';
import { DomainError } from '../platform/errors.ts';
import { computeFor } from './credit-note-input.ts';
import {
  costKnownOf, creditableView, creditNoteEtag, lineViews, loadCreditNoteDetail, loadInvoiceCreditFacts, marginOf, noteCurrency, summaryQuery, toSummary,
  type Creditable, type CreditNoteDetail, type CreditNoteSummary,
} from './credit-note-views.ts';
import { renderCreditNotePdf } from './render-credit-note-pdf.ts';

export interface CreditNoteFilters {
  status?: CreditNoteStatus | undefined;
  customerId?: string | undefined;
  invoiceId?: string | undefined;
  reason?: CreditNoteReason | undefined;
  outcome?: CreditNoteOutcome | undefined;
  /** Issued (drafts: created) on or after this day, UTC. */
  from?: string | undefined;
  /** ... on or before this day. */
  to?: string | undefined;
  /** A number prefix, case-insensitive. */
  q?: string | undefined;
}

function listQuery(db: Executor, partnerId: string, f: CreditNoteFilters & { cursor?: string | undefined }) {
  const q = f.q?.trim().toLowerCase();
  return summaryQuery(db, partnerId)
    .$if(f.status !== undefined, (qb) => qb.where('n.status', '=', f.status!))
    .$if(f.customerId !== undefined, (qb) => qb.where('n.customerId', '=', f.customerId!))
    .$if(f.invoiceId !== undefined, (qb) => qb.where('n.invoiceId', '=', f.invoiceId!))
    .$if(f.reason !== undefined, (qb) => qb.where('n.reason', '=', f.reason!))
    .$if(f.outcome !== undefined, (qb) => qb.where('n.outcome', '=', f.outcome!))
    .$if(f.from !== undefined, (qb) => qb.where(sql<boolean>`coalesce(n.issued_at, n.created_at) >= ${f.from!}::date`))
    .$if(f.to !== undefined, (qb) => qb.where(sql<boolean>`coalesce(n.issued_at, n.created_at) < ${f.to!}::date + 1`))
    .$if(Boolean(q), (qb) => qb.where(sql<boolean>`lower(n.number) like ${`${q!.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`))
    .$if(f.cursor !== undefined, (qb) => qb.where('n.id', '<', f.cursor!))
    .orderBy('n.id', 'desc');
}

/** The partner's credit notes, newest first, filters combined (AND). */
export async function listCreditNotes(ctx: Ctx, input: CreditNoteFilters & { limit: number; cursor?: string | undefined }): Promise<Page<CreditNoteSummary>> {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await listQuery(trx, partnerId, input).limit(input.limit + 1).execute();
    return pageOf(rows.map(toSummary), input.limit);
  });
}

export const CREDIT_NOTE_CSV_HEADER = [
  'id', 'number', 'status', 'invoiceNumber', 'invoiceId', 'customerId', 'customer', 'reason', 'mode', 'outcome', 'refundMethod', 'refundStatus',
  'currency', 'subtotal', 'tax', 'total', 'createdAt', 'issuedAt',
] as const;
const CSV_BATCH = 500;

/** Every matching credit note as CSV chunks (header first), in bounded batches, each in its own short transaction. */
export function exportCreditNotesCsv(ctx: Ctx, filters: CreditNoteFilters & { cursor?: string | undefined }): AsyncIterable<string> {
  const { partnerId } = partnerCaller(ctx.principal);
  async function* chunks(): AsyncGenerator<string> {
    yield csvRow(CREDIT_NOTE_CSV_HEADER);
    let cursor = filters.cursor;
    for (;;) {
      const rows = await inScope(ctx.db, scopeOf(ctx.principal), (trx) => listQuery(trx, partnerId, { ...filters, cursor }).limit(CSV_BATCH).execute());
      if (rows.length > 0) {
        yield rows.map((r) => {
          const s = toSummary(r);
          return csvRow([
            s.id, s.number, s.status, s.invoice.number, s.invoice.id, s.customer.id, s.customer.name, s.reason, s.mode, s.outcome, s.refundMethod,
            s.refundStatus, s.currency, s.subtotal, s.tax, s.total, s.createdAt, s.issuedAt,
          ]);
        }).join('');
      }
      if (rows.length < CSV_BATCH) return;
      cursor = rows[rows.length - 1]!.id;
    }
  }
  return chunks();
}

/** One credit note of the partner (another partner's: 404), with an ETag while it is a draft. */
export async function getCreditNote(ctx: Ctx, creditNoteId: string): Promise<{ creditNote: CreditNoteDetail; etag: string | null }> {
  const { partnerId } = partnerCaller(ctx.principal);
  const found = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const creditNote = await loadCreditNoteDetail(trx, partnerId, creditNoteId);
    if (!creditNote) return null;
    return { creditNote, etag: creditNote.status === 'draft' ? await creditNoteEtag(trx, partnerId, creditNoteId) : null };
  });
  if (!found) throw notFound('Credit note');
  return found;
}

/** The credit note as a PDF, named after its number (its id while a draft). */
export async function getCreditNotePdf(ctx: Ctx, creditNoteId: string): Promise<{ filename: string; pdf: Buffer }> {
  const { partnerId } = partnerCaller(ctx.principal);
  return creditNotePdf(ctx, { partnerId, customerId: null }, creditNoteId);
}

/** An issued credit note of the signed-in customer's organisation as a PDF (the portal); drafts and void ones are not theirs to see. */
export async function portalGetCreditNotePdf(ctx: Ctx, creditNoteId: string): Promise<{ filename: string; pdf: Buffer }> {
  const { partnerId, customerId, role } = portalCaller(ctx.principal);
  return creditNotePdf(ctx, { partnerId, customerId, invoiceTypes: invoiceTypesSeenBy(role), noPointsDebitNotes: !seesCompanyCredits(role) }, creditNoteId);
}

/**
 * `customerId` and `invoiceTypes` (the portal): only an issued credit note of that organisation, on an invoice of a type
 * the user sees (a member or guest does not see Top-up invoices or Monthly statements, nor their credit notes); else 404.
 */
async function creditNotePdf(
  ctx: Ctx, key: { partnerId: string; customerId: string | null; invoiceTypes?: readonly InvoiceType[]; noPointsDebitNotes?: boolean }, creditNoteId: string,
): Promise<{ filename: string; pdf: Buffer }> {
  const { partnerId } = key;
  const found = await inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    if (key.customerId !== null) {
      const own = await trx.selectFrom('creditNotes as n')
        .innerJoin('invoices as i', (j) => j.onRef('i.id', '=', 'n.invoiceId').onRef('i.partnerId', '=', 'n.partnerId'))
        .select(['n.id', 'n.invoiceId']).where('n.partnerId', '=', partnerId).where('n.customerId', '=', key.customerId)
        .where('n.id', '=', creditNoteId).where('n.status', '=', 'issued')
        .$if(key.invoiceTypes !== undefined, (q) => q.where('i.type', 'in', key.invoiceTypes!))
        .executeTakeFirst();
      if (!own || (key.noPointsDebitNotes && await isPointsDebitNote(trx, partnerId, own.invoiceId))) return null;
    }
    const detail = await loadCreditNoteDetail(trx, partnerId, creditNoteId);
    if (!detail) return null;
    // The seller it was issued by (migration 0076); a draft shows the current settings.
    const issued = await trx.selectFrom('creditNotes').select(['seller', 'sellerLogoSha256']).where('partnerId', '=', partnerId).where('id', '=', creditNoteId).executeTakeFirstOrThrow();
    const seller = await sellerOf(trx, partnerId, issued);
    const billTo = await trx.selectFrom('invoices').select('billTo').where('partnerId', '=', partnerId).where('id', '=', detail.invoice.id).executeTakeFirstOrThrow();
    return { detail, seller, billTo: billTo.billTo, logo: seller.hasLogo ? await documentLogo(trx, partnerId, issued) : null };
  });
  if (!found) throw notFound('Credit note');
  const pdf = await renderCreditNotePdf(found.detail, {
    seller: { name: found.seller.legalName ?? found.seller.name, address: found.seller.address, taxId: found.seller.taxId, email: found.seller.email },
    billTo: found.billTo ? { name: found.billTo.name, address: found.billTo.address, email: found.billTo.email } : { name: found.detail.customer.name, address: null, email: null },
    logo: found.logo,
    generatedAt: ctx.clock.now(),
  });
  return { filename: `${(found.detail.number ?? found.detail.id).replace(/[^A-Za-z0-9._-]/g, '_')}.pdf`, pdf };
}

/**
 * What an invoice allows (GET /credit-notes/creditable): its lines with what is left of each and their unit cost, the limit
 * of each outcome; and, when `mode` is given, the credit note those choices would make (lines, totals, cost, margin),
 * computed by the same code as create and issue. Nothing is written.
 */
export async function previewCreditNote(ctx: Ctx, input: { invoiceId: string; mode?: 'whole' | 'lines' | 'amount' | undefined; lines?: string | undefined; amount?: string | undefined }) {
  const { partnerId } = partnerCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const facts = await loadInvoiceCreditFacts(trx, partnerId, input.invoiceId, { lock: false });
    if (!facts) throw unknownId('invoice_not_found', 'invoiceId', 'Invoice');
    const view: Creditable = creditableView(facts);
    if (!input.mode) return { ...view, preview: null };
    const lines = input.lines === undefined ? undefined : parsePreviewLines(input.lines);
    const computed = computeFor(facts, { mode: input.mode, lines, amount: input.amount });
    const fmt = (m: bigint) => formatDecimal(m, facts.invoice.currency);
    const margin = marginOf(computed.lines);
    return {
      ...view,
      preview: {
        lines: lineViews(computed.lines, facts.invoice.currency), subtotal: fmt(computed.subtotalMicros), tax: fmt(computed.taxMicros),
        total: fmt(computed.totalMicros), cost: computed.costMicros === null ? null : fmt(computed.costMicros), costKnown: costKnownOf(computed.lines),
        margin: margin === null ? null : fmt(margin),
      },
    };
  });
}

/** `lines` of the preview query: `position:q:quantity` or `position:a:amount`, comma separated (`1:q:2,3:a:10.00`). */
export function parsePreviewLines(text: string): Array<{ position: number; quantity?: string; amount?: string }> {
  const parts = text.split(',').filter((p) => p.trim() !== '');
  if (parts.length === 0 || parts.length > 200) throw new DomainError('validation_failed', 'lines: 1 to 200 items', [{ path: 'lines', message: '1 to 200 items' }]);
  return parts.map((p, i) => {
    const m = /^\s*(\d{1,6}):(q|a):([0-9.]{1,30})\s*$/.exec(p);
    if (!m) throw new DomainError('validation_failed', 'lines: position:q:quantity or position:a:amount', [{ path: `lines.${i}`, message: 'position:q:quantity or position:a:amount' }]);
    return m[2] === 'q' ? { position: Number(m[1]), quantity: m[3]! } : { position: Number(m[1]), amount: m[3]! };
  });
}

export const creditableInvoiceSchema = z.object({
  id: z.string(), number: z.string().nullable(), type: z.string(), status: z.string(), currency: z.string(),
  customer: z.object({ id: z.string(), name: z.string() }), total: z.string(), amountDue: z.string(), issuedAt: z.string().nullable(),
});

/**
 * Issued Purchase and Monthly invoices (not void) a credit note can be raised against, newest first, for the Finance app's
 * invoice picker: `q` matches a number prefix or part of the customer's name. At most `limit` (<= 50).
 */
export async function searchCreditableInvoices(ctx: Ctx, input: { q?: string | undefined; customerId?: string | undefined; limit: number }) {
  const { partnerId } = partnerCaller(ctx.principal);
  const q = input.q?.trim().toLowerCase();
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    const rows = await trx.selectFrom('invoices as i')
      .innerJoin('customers as c', (j) => j.onRef('c.id', '=', 'i.customerId').onRef('c.partnerId', '=', 'i.partnerId'))
      .select(['i.id', 'i.number', 'i.type', 'i.status', 'i.currency', 'i.customerId', 'c.name as customerName', 'i.totalMicros', 'i.amountDueMicros', 'i.issuedAt'])
      .where('i.partnerId', '=', partnerId).where('i.status', 'in', ['awaiting_payment', 'partially_paid', 'paid']).where('i.type', 'in', ['purchase', 'monthly'])
      .$if(input.customerId !== undefined, (qb) => qb.where('i.customerId', '=', input.customerId!))
      .$if(Boolean(q), (qb) => qb.where((eb) => eb.or([
        eb(sql`lower(i.number)`, 'like', `${q!.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`),
        eb(sql`lower(c.name)`, 'like', `%${q!.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`),
      ])))
      .orderBy('i.id', 'desc').limit(input.limit).execute();
    return {
      data: rows.map((r) => {
        const currency = noteCurrency(r.currency);
        return {
          id: r.id, number: r.number, type: r.type, status: r.status, currency, customer: { id: r.customerId, name: r.customerName },
          total: formatDecimal(BigInt(r.totalMicros), currency), amountDue: formatDecimal(BigInt(r.amountDueMicros), currency),
          issuedAt: r.issuedAt ? r.issuedAt.toISOString() : null,
        };
      }),
    };
  });
}

export const portalCreditNoteSchema = z.object({
  id: z.string(), number: z.string(), issuedAt: z.string(), reason: z.string(), memo: z.string().nullable(), currency: z.string(),
  total: z.string(), outcome: z.enum(['reduce_due', 'points', 'refund']), refundMethod: z.enum(['card', 'bank_transfer', 'cheque']).nullable(),
  refundStatus: z.enum(['pending', 'refunded', 'failed']).nullable(),
});

/** The issued credit notes on one invoice of the signed-in customer's organisation (the portal's invoice detail), oldest first. */
export async function portalListInvoiceCreditNotes(ctx: Ctx, invoiceId: string) {
  const { partnerId, customerId, role } = portalCaller(ctx.principal);
  return inScope(ctx.db, scopeOf(ctx.principal), async (trx) => {
    // 404 as the invoice itself answers: not the organisation's, a draft, or a type this user does not see.
    const invoice = await trx.selectFrom('invoices').select('id')
      .where('partnerId', '=', partnerId).where('customerId', '=', customerId).where('id', '=', invoiceId)
      .where('status', '<>', 'draft').where('type', 'in', invoiceTypesSeenBy(role)).executeTakeFirst();
    if (!invoice || (!seesCompanyCredits(role) && await isPointsDebitNote(trx, partnerId, invoiceId))) throw notFound('Invoice');
    const rows = await trx.selectFrom('creditNotes')
      .select(['id', 'number', 'issuedAt', 'reason', 'memo', 'currency', 'totalMicros', 'outcome', 'refundMethod', 'refundStatus'])
      .where('partnerId', '=', partnerId).where('customerId', '=', customerId).where('invoiceId', '=', invoiceId).where('status', '=', 'issued')
      .orderBy('id').limit(200).execute();
    return {
      data: rows.map((r) => ({
        id: r.id, number: r.number!, issuedAt: r.issuedAt!.toISOString(), reason: r.reason, memo: r.memo, currency: r.currency,
        total: formatDecimal(BigInt(r.totalMicros), noteCurrency(r.currency)), outcome: r.outcome!, refundMethod: r.refundMethod, refundStatus: r.refundStatus,
      })),
    };
  });
}
