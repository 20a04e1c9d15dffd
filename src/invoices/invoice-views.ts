import { sql } from 'kysely';
import { z } from 'zod';
import { formatDecimal, isCurrency, type Currency } from '../money/money.ts';
import type { Executor, Trx } from '../platform/database.ts';
import type { InvoiceStatus, InvoiceType } from '../platform/db-types.ts';
import type { BillTo, DraftLine, SellerSnapshot } from './invoices.db-types.ts';
import type { InvoiceDetail, InvoiceLineView, InvoiceLogo, InvoiceSummary, SellerView } from './invoice-view-types.ts';
import { statementOfInvoice } from './statements/statement-summary.ts';
import { computeInvoiceTotals, displayQuantity, taxRateBpsFor } from './invoice-totals.ts';

/**
 * Loading invoices as people see them (src/invoices/invoice-view-types.ts; docs/contracts/invoices-api.md), for the
 * admin Invoice app, the portal and the PDF: one query for list rows, one loader for the detail.
 * - Amounts are decimal strings in the invoice's currency; a unit price shows at least the currency's decimals, up to 6.
 * - `overdue`: awaiting payment or partially paid, and due on a day before today, UTC (`isOverdue`; now is the caller's `ctx.clock.now()`).
 * - A void invoice owes nothing: `amountDue` "0.00" (so does its row, migration 0027; its receivable is reversed).
 * - A draft's lines are its draft lines, computed now (computeInvoiceTotals, at the partner's current rate), its
 *   bill-to is the customer's current billing contact and its seller the partner's current invoicing settings; all are
 *   fixed when it is issued (the seller by the database: migration 0076, docs/adr/0046).
 */
export const INVOICE_TYPES_LIST = ['purchase', 'monthly', 'top_up'] as const;
export const INVOICE_STATUSES = ['draft', 'awaiting_payment', 'partially_paid', 'paid', 'void'] as const;
const OPEN: readonly InvoiceStatus[] = ['awaiting_payment', 'partially_paid'];

// ---- response schemas (shared by the admin and portal routes) ----
export const invoiceSummarySchema = z.object({
  id: z.string(),
  number: z.string().nullable(),
  type: z.enum(INVOICE_TYPES_LIST),
  status: z.enum(INVOICE_STATUSES),
  overdue: z.boolean().describe('awaiting payment or partially paid, and past its due date'),
  informational: z.boolean().describe('a Monthly statement of charges already paid from points: never payable'),
  customer: z.object({ id: z.string(), name: z.string() }),
  currency: z.string(),
  subtotal: z.string().describe('pre-tax, after line discounts'),
  discount: z.string(),
  tax: z.string(),
  total: z.string(),
  amountPaid: z.string(),
  amountCredited: z.string().describe('credited by issued credit notes with outcome reduce_due: the amount due fell by it'),
  amountRefunded: z.string().describe('given back by issued credit notes with outcome refund (card, bank transfer or cheque), whatever the refund\'s progress'),
  amountCreditedToPoints: z.string().describe('given back as points by issued credit notes with outcome points'),
  amountDue: z.string(),
  issuedAt: z.string().nullable(),
  dueAt: z.string().nullable(),
  paidAt: z.string().nullable(),
  voidedAt: z.string().nullable(),
  createdAt: z.string(),
  periodStart: z.string().nullable(),
  periodEnd: z.string().nullable(),
});

export const invoiceLineSchema = z.object({
  position: z.number().int(),
  kind: z.string(),
  description: z.string(),
  productId: z.string().nullable(),
  variantId: z.string().nullable(),
  quantity: z.string(),
  unitPrice: z.string(),
  gross: z.string(),
  discount: z.string(),
  amount: z.string(),
  taxCategory: z.enum(['standard', 'zero_rated', 'exempt']),
  taxRateBps: z.number().int(),
  tax: z.string(),
});

const countAmount = z.object({ count: z.number().int(), amount: z.string() });
export const statementViewSchema = z.object({
  periodStart: z.string(),
  periodEnd: z.string(),
  openingPoints: z.string(),
  closingPoints: z.string(),
  usage: z.array(z.object({
    category: z.string(), label: z.string(), calls: z.number().int(), seconds: z.number().int(),
    amount: z.string().describe('points paid for the calls, tax included'), tax: z.string().describe('the tax included in amount'),
  })),
  renewals: countAmount,
  purchases: countAmount,
  topUps: countAmount,
  credits: countAmount,
  other: countAmount.describe('points spent on anything the other figures do not name'),
});

export const invoiceDetailSchema = invoiceSummarySchema.extend({
  lines: z.array(invoiceLineSchema),
  payments: z.array(z.object({
    id: z.string(), source: z.enum(['points', 'card', 'allocation']), amount: z.string(), paidAt: z.string(),
    reference: z.string().nullable().describe('what the customer can match: the receipt number of a Finance payment, the card charge, or the id'),
    paymentId: z.string().nullable().describe('the Finance payment (source allocation)'),
  })),
  billTo: z.object({ name: z.string(), email: z.string().nullable(), phone: z.string().nullable(), address: z.string().nullable() }),
  notes: z.string().nullable(),
  voidReason: z.string().nullable(),
  createdBy: z.string().nullable(),
  seller: z.object({
    name: z.string(), legalName: z.string().nullable(), address: z.string().nullable(), taxId: z.string().nullable(), email: z.string().nullable(),
    paymentInstructions: z.string().nullable(), hasLogo: z.boolean(),
  }),
  statement: statementViewSchema.nullable(),
});

// ---- list rows ----
/** The invoice's currency as a Currency (every invoice is in a currency of the money table). */
export function invoiceCurrency(code: string): Currency {
  if (!isCurrency(code)) throw new Error(`invoice in an unknown currency ${code}`);
  return code;
}

/**
 * Invoices of one partner with what InvoiceSummary needs (and the customer's name); callers add filters, order and
 * limit. Aliases: `i` the invoice, `c` its customer, `gb` what its issued credit notes gave back.
 * What went back is one LATERAL aggregate per invoice row (of the partner's credit notes on it, through
 * credit_notes_invoice), so a page reads the credit notes of the rows it shows only. Drafts and void credit notes never
 * moved money; a refund counts from its issue, whatever its card refund's progress.
 */
export function invoiceSummaryQuery(db: Executor, partnerId: string) {
  return db
    .selectFrom('invoices as i')
    .innerJoin('customers as c', (join) => join.onRef('c.partnerId', '=', 'i.partnerId').onRef('c.id', '=', 'i.customerId'))
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom('creditNotes as cn')
          .select([
            sql<string>`coalesce(sum(cn.total_micros) filter (where cn.outcome = 'refund'), 0)::text`.as('refundedMicros'),
            sql<string>`coalesce(sum(cn.total_micros) filter (where cn.outcome = 'points'), 0)::text`.as('toPointsMicros'),
          ])
          .whereRef('cn.invoiceId', '=', 'i.id')
          .whereRef('cn.partnerId', '=', 'i.partnerId')
          .where('cn.status', '=', 'issued')
          .as('gb'),
      // An aggregate without GROUP BY is one row, zeros when there is no credit note.
      (join) => join.onTrue(),
    )
    .select([
      'i.id', 'i.number', 'i.type', 'i.status', 'i.informational', 'i.customerId', 'c.name as customerName', 'i.currency',
      'i.subtotalMicros', 'i.discountMicros', 'i.taxMicros', 'i.totalMicros', 'i.amountPaidMicros', 'i.amountCreditedMicros', 'i.amountDueMicros',
      'gb.refundedMicros as amountRefundedMicros', 'gb.toPointsMicros as amountCreditedToPointsMicros',
      'i.issuedAt', 'i.dueAt', 'i.paidAt', 'i.voidedAt', 'i.createdAt',
      sql<string | null>`i.period_start::text`.as('periodStart'),
      sql<string | null>`i.period_end::text`.as('periodEnd'),
    ])
    .where('i.partnerId', '=', partnerId);
}

export interface InvoiceSummaryRow {
  id: string;
  number: string | null;
  type: InvoiceType;
  status: InvoiceStatus;
  informational: boolean;
  customerId: string;
  customerName: string;
  currency: string;
  subtotalMicros: string;
  discountMicros: string;
  taxMicros: string;
  totalMicros: string;
  amountPaidMicros: string;
  amountCreditedMicros: string;
  /** Issued credit notes on it with outcome `refund`, and with outcome `points` (invoiceSummaryQuery). */
  amountRefundedMicros: string;
  amountCreditedToPointsMicros: string;
  amountDueMicros: string;
  issuedAt: Date | null;
  dueAt: Date | null;
  paidAt: Date | null;
  voidedAt: Date | null;
  createdAt: Date;
  periodStart: string | null;
  periodEnd: string | null;
}

/**
 * Where overdue starts: an open invoice is overdue once its due DAY has passed, i.e. when it was due before the start of
 * today (UTC, the day every due date is printed in: PDFs, emails, AR aging). The due date is shown as a day, and a
 * customer who pays on that day pays on time.
 */
export function overdueIfDueBefore(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export function isOverdue(row: { status: InvoiceStatus; dueAt: Date | null }, now: Date): boolean {
  return OPEN.includes(row.status) && row.dueAt !== null && row.dueAt.getTime() < overdueIfDueBefore(now).getTime();
}

export function toInvoiceSummary(row: InvoiceSummaryRow, now: Date): InvoiceSummary {
  const currency = invoiceCurrency(row.currency);
  const fmt = (m: string | bigint) => formatDecimal(BigInt(m), currency);
  return {
    id: row.id,
    number: row.number,
    type: row.type,
    status: row.status,
    overdue: isOverdue(row, now),
    informational: row.informational,
    customer: { id: row.customerId, name: row.customerName },
    currency,
    subtotal: fmt(row.subtotalMicros),
    discount: fmt(row.discountMicros),
    tax: fmt(row.taxMicros),
    total: fmt(row.totalMicros),
    amountPaid: fmt(row.amountPaidMicros),
    amountCredited: fmt(row.amountCreditedMicros),
    amountRefunded: fmt(row.amountRefundedMicros),
    amountCreditedToPoints: fmt(row.amountCreditedToPointsMicros),
    amountDue: fmt(row.amountDueMicros),
    issuedAt: row.issuedAt?.toISOString() ?? null,
    dueAt: row.dueAt?.toISOString() ?? null,
    paidAt: row.paidAt?.toISOString() ?? null,
    voidedAt: row.voidedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    periodStart: row.periodStart,
    periodEnd: row.periodEnd,
  };
}

// ---- detail ----
/** The partner as it appears on its invoices now: name, branding, payment instructions (an issued document keeps its own: `sellerOf`). */
export async function loadSeller(db: Executor, partnerId: string): Promise<SellerView> {
  const row = await db
    .selectFrom('partners as p')
    .leftJoin('partnerSettings as s', 's.partnerId', 'p.id')
    .select([
      'p.name', 's.invoiceLegalName', 's.invoiceAddress', 's.invoiceTaxId', 's.invoiceEmail', 's.invoicePaymentInstructions',
      sql<boolean>`s.invoice_logo is not null`.as('hasLogo'),
    ])
    .where('p.id', '=', partnerId)
    .executeTakeFirstOrThrow();
  return {
    name: row.name, legalName: row.invoiceLegalName ?? null, address: row.invoiceAddress ?? null, taxId: row.invoiceTaxId ?? null,
    email: row.invoiceEmail ?? null, paymentInstructions: row.invoicePaymentInstructions ?? null, hasLogo: row.hasLogo ?? false,
  };
}

/**
 * Who issued a document (an invoice, a credit note, a payment's receipt): the seller it was issued with (`seller`,
 * migration 0076: taken by the database at issue), or, for a draft (its preview) or a row without one, the partner's
 * current settings. `hasLogo`: the document has a logo (`documentLogo` gives it).
 */
export async function sellerOf(db: Executor, partnerId: string, doc: IssuedSeller): Promise<SellerView> {
  const s = doc.seller;
  if (!s) return loadSeller(db, partnerId);
  return {
    name: s.name, legalName: s.legalName ?? null, address: s.address ?? null, taxId: s.taxId ?? null, email: s.email ?? null,
    paymentInstructions: s.paymentInstructions ?? null, hasLogo: doc.sellerLogoSha256 !== null,
  };
}

/** The snapshot columns of an issued document (null on a draft). */
export interface IssuedSeller {
  seller: SellerSnapshot | null;
  sellerLogoSha256: string | null;
}

/** The logo a document shows: the version it was issued with (none: null), or the partner's current one when it has no snapshot. */
export async function documentLogo(db: Executor, partnerId: string, doc: IssuedSeller): Promise<InvoiceLogo | null> {
  if (!doc.seller) return loadInvoiceLogo(db, partnerId);
  if (doc.sellerLogoSha256 === null) return null;
  const row = await db.selectFrom('invoiceLogoVersions').select(['data', 'type'])
    .where('partnerId', '=', partnerId).where('sha256', '=', doc.sellerLogoSha256).executeTakeFirst();
  return row ? { data: row.data, type: row.type } : null;
}

/** The logo an invoice of the partner shows (its PDF): `documentLogo` of the invoice, or null when there is no such invoice. */
export async function loadInvoiceLogoOf(db: Executor, partnerId: string, invoiceId: string): Promise<InvoiceLogo | null> {
  const row = await db.selectFrom('invoices').select(['seller', 'sellerLogoSha256']).where('partnerId', '=', partnerId).where('id', '=', invoiceId).executeTakeFirst();
  return row ? documentLogo(db, partnerId, row) : null;
}

/** The partner's current invoice logo (its settings, a draft's preview), or null. */
export async function loadInvoiceLogo(db: Executor, partnerId: string): Promise<InvoiceLogo | null> {
  const row = await db.selectFrom('partnerSettings').select(['invoiceLogo', 'invoiceLogoType']).where('partnerId', '=', partnerId).executeTakeFirst();
  if (!row?.invoiceLogo || !row.invoiceLogoType) return null;
  return { data: row.invoiceLogo, type: row.invoiceLogoType };
}

/** Who an invoice is addressed to now: the customer's billing contact, or its name (a draft's preview; issue takes this snapshot). */
export async function currentBillTo(db: Executor, partnerId: string, customerId: string): Promise<BillTo> {
  const c = await db
    .selectFrom('customers')
    .select(['name', 'billingName', 'billingEmail', 'billingPhone', 'billingAddress'])
    .where('partnerId', '=', partnerId)
    .where('id', '=', customerId)
    .executeTakeFirstOrThrow();
  return { name: c.billingName ?? c.name, email: c.billingEmail, phone: c.billingPhone, address: c.billingAddress };
}

/** The partner's tax rate on standard lines, in basis points. */
export async function partnerTaxRate(db: Executor, partnerId: string): Promise<number> {
  const row = await db.selectFrom('partnerSettings').select('taxRateBps').where('partnerId', '=', partnerId).executeTakeFirst();
  return row?.taxRateBps ?? 0;
}

/** A draft's lines with their figures, computed now (the one arithmetic: computeInvoiceTotals). */
export function draftTotals(currency: Currency, type: InvoiceType, lines: readonly DraftLine[], partnerRateBps: number) {
  return computeInvoiceTotals(
    currency,
    lines.map((l) => ({ quantity: l.quantity, unitAmountMicros: BigInt(l.unitAmountMicros), discountMicros: BigInt(l.discountMicros), taxCategory: l.taxCategory })),
    taxRateBpsFor(type, partnerRateBps),
  );
}

/**
 * One invoice as people see it, or null when it is not the partner's (or, with `customerId`, not that customer's: the
 * portal's 404). Reads inside the caller's transaction. `now` (pass `ctx.clock.now()`) decides `overdue`.
 */
export async function loadInvoiceDetail(
  db: Trx,
  key: { partnerId: string; customerId?: string | undefined; invoiceId: string; now?: Date | undefined },
): Promise<InvoiceDetail | null> {
  const now = key.now ?? new Date();
  let q = invoiceSummaryQuery(db, key.partnerId)
    .select(['i.billTo', 'i.notes', 'i.voidReason', 'i.createdBy', 'i.draftLines', 'i.seller', 'i.sellerLogoSha256'])
    .where('i.id', '=', key.invoiceId);
  if (key.customerId !== undefined) q = q.where('i.customerId', '=', key.customerId);
  const row = await q.executeTakeFirst();
  if (!row) return null;
  const currency = invoiceCurrency(row.currency);
  const fmt = (m: bigint) => formatDecimal(m, currency);
  const summary = toInvoiceSummary(row, now);

  let lines: InvoiceLineView[];
  let billTo: BillTo;
  if (row.status === 'draft') {
    const draft = row.draftLines ?? [];
    const totals = draftTotals(currency, row.type, draft, await partnerTaxRate(db, key.partnerId));
    lines = totals.lines.map((l, i) => ({
      position: i + 1, kind: draft[i]!.kind, description: draft[i]!.description, productId: draft[i]!.productId, variantId: draft[i]!.variantId,
      quantity: displayQuantity(l.quantity), unitPrice: fmt(l.unitAmountMicros), gross: fmt(l.grossMicros), discount: fmt(l.discountMicros),
      amount: fmt(l.amountMicros), taxCategory: l.taxCategory, taxRateBps: l.taxRateBps, tax: fmt(l.taxMicros),
    }));
    Object.assign(summary, {
      subtotal: fmt(totals.subtotalMicros), discount: fmt(totals.discountMicros), tax: fmt(totals.taxMicros), total: fmt(totals.totalMicros),
      amountDue: fmt(totals.totalMicros),
    });
    billTo = await currentBillTo(db, key.partnerId, row.customerId);
  } else {
    const rows = await db
      .selectFrom('invoiceLines')
      .select(['position', 'kind', 'description', 'productId', 'variantId', sql<string>`quantity::text`.as('quantity'), 'unitAmountMicros', 'grossMicros',
        'discountMicros', 'amountMicros', 'taxCategory', 'taxRateBps', 'taxMicros'])
      .where('partnerId', '=', key.partnerId)
      .where('invoiceId', '=', row.id)
      .orderBy('position')
      .execute();
    lines = rows.map((l) => ({
      position: l.position, kind: l.kind, description: l.description, productId: l.productId, variantId: l.variantId,
      quantity: displayQuantity(l.quantity), unitPrice: fmt(BigInt(l.unitAmountMicros)), gross: fmt(BigInt(l.grossMicros)),
      discount: fmt(BigInt(l.discountMicros)), amount: fmt(BigInt(l.amountMicros)), taxCategory: l.taxCategory, taxRateBps: l.taxRateBps,
      tax: fmt(BigInt(l.taxMicros)),
    }));
    billTo = row.billTo ?? (await currentBillTo(db, key.partnerId, row.customerId));
  }

  // What still pays the invoice: a payment whose ledger entry was reversed (a Finance payment reversal: a bounced cheque)
  // no longer counts, and is left out, as it is of the amount paid (journal entries are readable in every scope that
  // reads the invoice; payment_allocations are not, from the portal).
  const payments = await db
    .selectFrom('invoicePayments as ip')
    .select(['ip.id', 'ip.source', 'ip.amountMicros', 'ip.createdAt', 'ip.chargeRef', 'ip.paymentId', 'ip.receiptNumber'])
    .where('ip.partnerId', '=', key.partnerId)
    .where('ip.invoiceId', '=', row.id)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('journalEntries as r').select('r.id').whereRef('r.reversesEntryId', '=', 'ip.entryId'))))
    .orderBy('ip.id')
    .execute();
  const statement = row.type === 'monthly' ? await statementOfInvoice(db, { partnerId: key.partnerId, invoiceId: row.id }) : null;

  return {
    ...summary,
    lines,
    payments: payments.map((p) => ({
      id: p.id, source: p.source, amount: fmt(BigInt(p.amountMicros)), paidAt: p.createdAt.toISOString(),
      // What the customer can match: the receipt they were sent (a Finance payment), the card charge, or the id.
      reference: p.receiptNumber ?? p.chargeRef ?? p.paymentId ?? null, paymentId: p.paymentId,
    })),
    billTo: { name: billTo.name, email: billTo.email ?? null, phone: billTo.phone ?? null, address: billTo.address ?? null },
    notes: row.notes,
    voidReason: row.voidReason,
    createdBy: row.createdBy,
    // As issued; a draft (no snapshot yet) shows the current settings.
    seller: await sellerOf(db, key.partnerId, row),
    statement,
  };
}
