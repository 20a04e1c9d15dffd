import { sql, type Selectable } from 'kysely';
import { z } from 'zod';
import { formatDecimal, isCurrency, type Currency } from '../money/money.ts';
import type { Executor, Trx } from '../platform/database.ts';
import { DomainError } from '../platform/errors.ts';
import { sha256Hex } from '../platform/crypto.ts';
import { timestamp } from '../platform/schemas.ts';
import { parseQuantity, displayQuantity } from '../invoices/invoice-totals.ts';
import { creditableOf, creditedByLine, remainingOf, type InvoiceLineFacts } from './credit-note-math.ts';
import {
  CREDIT_NOTE_MODES, CREDIT_NOTE_OUTCOMES, CREDIT_NOTE_REASONS, CREDIT_NOTE_STATUSES, REFUND_METHODS, REFUND_STATUSES,
  type CreditNotesTable, type StoredCreditLine,
} from './credit-notes.db-types.ts';

export type CreditNoteRow = Selectable<CreditNotesTable>;

export function noteCurrency(code: string): Currency {
  if (!isCurrency(code)) throw new DomainError('state_conflict', `Currency ${code} is not supported`);
  return code;
}

const money = z.string().describe('decimal string in the credit note\'s currency');

export const creditLineSchema = z.object({
  invoiceLinePosition: z.number().int().nullable().describe('the invoice line credited'),
  description: z.string(),
  quantity: z.string().nullable().describe('quantity credited, when credited by quantity'),
  amount: money.describe('net credited, before tax'),
  tax: money,
  total: money,
  cost: money.nullable().describe('what the credited part cost; null: no cost known'),
  margin: money.nullable().describe('amount - cost: the margin given back; null: no cost known'),
});

export const creditNoteSummarySchema = z.object({
  id: z.string(),
  number: z.string().nullable(),
  status: z.enum(CREDIT_NOTE_STATUSES),
  mode: z.enum(CREDIT_NOTE_MODES),
  reason: z.enum(CREDIT_NOTE_REASONS),
  outcome: z.enum(CREDIT_NOTE_OUTCOMES).nullable(),
  refundMethod: z.enum(REFUND_METHODS).nullable(),
  refundStatus: z.enum(REFUND_STATUSES).nullable(),
  currency: z.string(),
  subtotal: money,
  tax: money,
  total: money,
  customer: z.object({ id: z.string(), name: z.string() }),
  invoice: z.object({ id: z.string(), number: z.string().nullable() }),
  createdAt: timestamp,
  issuedAt: timestamp.nullable(),
});
export type CreditNoteSummary = z.infer<typeof creditNoteSummarySchema>;

export const creditNoteDetailSchema = creditNoteSummarySchema.extend({
  memo: z.string().nullable(),
  refundReference: z.string().nullable(),
  requestedAmount: money.nullable().describe('the custom amount asked for (mode amount)'),
  invoice: z.object({
    id: z.string(), number: z.string().nullable(), type: z.string(), status: z.string(),
    total: money, amountPaid: money, amountCredited: money.describe('credited by credit notes that reduced the amount due'), amountDue: money,
  }),
  lines: z.array(creditLineSchema),
  cost: money.nullable(),
  costKnown: z.enum(['all', 'some', 'none']).describe('whether every credited line has a known cost'),
  margin: money.nullable().describe('net credited less the cost of the lines with a known cost; null when none is known'),
  refunds: z.array(z.object({
    chargeRef: z.string(), amount: money, status: z.enum(['pending', 'succeeded', 'failed']), refundRef: z.string().nullable(),
    failureReason: z.string().nullable(), completedAt: timestamp.nullable(),
  })),
  entryId: z.string().nullable(),
  createdBy: z.string().nullable(),
  issuedBy: z.string().nullable(),
  voidedAt: timestamp.nullable(),
  voidReason: z.string().nullable(),
  updatedAt: timestamp,
});
export type CreditNoteDetail = z.infer<typeof creditNoteDetailSchema>;

export function summaryQuery(db: Executor, partnerId: string) {
  return db.selectFrom('creditNotes as n')
    .innerJoin('customers as c', (j) => j.onRef('c.id', '=', 'n.customerId').onRef('c.partnerId', '=', 'n.partnerId'))
    .innerJoin('invoices as i', (j) => j.onRef('i.id', '=', 'n.invoiceId').onRef('i.partnerId', '=', 'n.partnerId'))
    .select([
      'n.id', 'n.number', 'n.status', 'n.mode', 'n.reason', 'n.outcome', 'n.refundMethod', 'n.refundStatus', 'n.currency',
      'n.subtotalMicros', 'n.taxMicros', 'n.totalMicros', 'n.customerId', 'c.name as customerName', 'n.invoiceId', 'i.number as invoiceNumber',
      'n.createdAt', 'n.issuedAt', 'n.memo',
    ])
    .where('n.partnerId', '=', partnerId);
}

type SummaryRow = Awaited<ReturnType<ReturnType<typeof summaryQuery>['execute']>>[number];

export function toSummary(r: SummaryRow): CreditNoteSummary {
  const currency = noteCurrency(r.currency);
  const fmt = (m: string) => formatDecimal(BigInt(m), currency);
  return {
    id: r.id, number: r.number, status: r.status, mode: r.mode, reason: r.reason, outcome: r.outcome, refundMethod: r.refundMethod,
    refundStatus: r.refundStatus, currency, subtotal: fmt(r.subtotalMicros), tax: fmt(r.taxMicros), total: fmt(r.totalMicros),
    customer: { id: r.customerId, name: r.customerName }, invoice: { id: r.invoiceId, number: r.invoiceNumber },
    createdAt: r.createdAt.toISOString(), issuedAt: r.issuedAt ? r.issuedAt.toISOString() : null,
  };
}

export function lineViews(lines: readonly StoredCreditLine[], currency: Currency): CreditNoteDetail['lines'] {
  const fmt = (m: bigint) => formatDecimal(m, currency);
  return lines.map((l) => {
    const amount = BigInt(l.amountMicros);
    const tax = BigInt(l.taxMicros);
    const cost = l.costMicros === null ? null : BigInt(l.costMicros);
    return {
      invoiceLinePosition: l.invoiceLinePosition, description: l.description, quantity: l.quantity, amount: fmt(amount), tax: fmt(tax),
      total: fmt(amount + tax), cost: cost === null ? null : fmt(cost), margin: cost === null ? null : fmt(amount - cost),
    };
  });
}

/** Net of the lines with a known cost, less that cost; null when no line has one. */
export function marginOf(lines: readonly StoredCreditLine[]): bigint | null {
  let margin: bigint | null = null;
  for (const l of lines) {
    if (l.costMicros === null) continue;
    margin = (margin ?? 0n) + BigInt(l.amountMicros) - BigInt(l.costMicros);
  }
  return margin;
}

export function costKnownOf(lines: readonly StoredCreditLine[]): 'all' | 'some' | 'none' {
  const known = lines.filter((l) => l.costMicros !== null).length;
  return known === 0 ? 'none' : known === lines.length ? 'all' : 'some';
}

export async function loadCreditNoteDetail(db: Executor, partnerId: string, id: string): Promise<CreditNoteDetail | null> {
  const row = await summaryQuery(db, partnerId)
    .select([
      'n.lines', 'n.refundReference', 'n.requestedAmountMicros', 'n.costMicros', 'n.entryId', 'n.createdBy', 'n.issuedBy', 'n.voidedAt',
      'n.voidReason', 'n.updatedAt', 'i.type as invoiceType', 'i.status as invoiceStatus', 'i.totalMicros as invoiceTotal',
      'i.amountPaidMicros as invoicePaid', 'i.amountCreditedMicros as invoiceCredited', 'i.amountDueMicros as invoiceDue',
    ])
    .where('n.id', '=', id).executeTakeFirst();
  if (!row) return null;
  const currency = noteCurrency(row.currency);
  const fmt = (m: bigint | string) => formatDecimal(BigInt(m), currency);
  const refunds = await db.selectFrom('creditNoteRefunds').select(['chargeRef', 'amountMicros', 'status', 'refundRef', 'failureReason', 'completedAt'])
    .where('partnerId', '=', partnerId).where('creditNoteId', '=', id).orderBy('id').execute();
  const margin = marginOf(row.lines);
  return {
    ...toSummary(row),
    memo: row.memo, refundReference: row.refundReference,
    requestedAmount: row.requestedAmountMicros === null ? null : fmt(row.requestedAmountMicros),
    invoice: {
      id: row.invoiceId, number: row.invoiceNumber, type: row.invoiceType, status: row.invoiceStatus, total: fmt(row.invoiceTotal),
      amountPaid: fmt(row.invoicePaid), amountCredited: fmt(row.invoiceCredited), amountDue: fmt(row.invoiceDue),
    },
    lines: lineViews(row.lines, currency),
    cost: row.costMicros === null ? null : fmt(row.costMicros),
    costKnown: costKnownOf(row.lines),
    margin: margin === null ? null : fmt(margin),
    refunds: refunds.map((r) => ({
      chargeRef: r.chargeRef, amount: fmt(r.amountMicros), status: r.status, refundRef: r.refundRef, failureReason: r.failureReason,
      completedAt: r.completedAt ? r.completedAt.toISOString() : null,
    })),
    entryId: row.entryId, createdBy: row.createdBy, issuedBy: row.issuedBy,
    voidedAt: row.voidedAt ? row.voidedAt.toISOString() : null, voidReason: row.voidReason, updatedAt: row.updatedAt.toISOString(),
  };
}

/** A strong ETag of a credit note's version (its `updated_at` to the microsecond). */
export async function creditNoteEtag(db: Executor, partnerId: string, id: string): Promise<string> {
  const row = await db.selectFrom('creditNotes').select(sql<string>`(extract(epoch from updated_at) * 1000000)::bigint::text`.as('version'))
    .where('partnerId', '=', partnerId).where('id', '=', id).executeTakeFirstOrThrow();
  return `"${sha256Hex(`${id}:${row.version}`).slice(0, 32)}"`;
}

// ---- What an invoice allows ----------------------------------------------------------------------------------------------

export interface CardCharge {
  chargeRef: string;
  gateway: 'sandbox' | 'stripe';
  paidMicros: bigint;
  /** Refunds asked for on it (pending or succeeded). */
  refundedMicros: bigint;
}

export interface InvoiceCreditFacts {
  invoice: {
    id: string; number: string | null; type: 'purchase' | 'monthly' | 'top_up'; status: string; informational: boolean; customerId: string;
    customerName: string; currency: Currency; totalMicros: bigint; taxMicros: bigint; amountDueMicros: bigint; amountPaidMicros: bigint;
    amountCreditedMicros: bigint;
  };
  lines: InvoiceLineFacts[];
  /** Issued credit notes: all of them; and what was given back (points or refund) by credit notes and termination refunds. */
  creditedMicros: bigint;
  paidOutMicros: bigint;
  /** Of `paidOutMicros`: what subscriptions' termination refunds gave back against this invoice. */
  terminationRefundedMicros: bigint;
  cardCharges: CardCharge[];
  pendingPayment: boolean;
}

/** Why an invoice takes no credit note, or null when it does. */
export function notCreditableReason(invoice: { type: string; status: string; number: string | null }): string | null {
  if (invoice.status === 'draft') return 'It is a draft: change it instead (credit notes correct issued invoices).';
  if (invoice.status === 'void') return 'It is void: nothing on it is owed or paid.';
  if (invoice.type === 'top_up') return 'It is a Top-up invoice, a deposit for points, not a sale: take unused points back in Finance instead.';
  return null;
}

/**
 * Everything a credit note on `invoiceId` is checked against: the invoice (locked FOR UPDATE when `lock`), its lines with
 * what issued credit notes took and their unit cost, its card charges and what was refunded on them. Null: not the partner's.
 */
export async function loadInvoiceCreditFacts(trx: Trx, partnerId: string, invoiceId: string, options: { lock: boolean }): Promise<InvoiceCreditFacts | null> {
  let q = trx.selectFrom('invoices as i')
    .innerJoin('customers as c', (j) => j.onRef('c.id', '=', 'i.customerId').onRef('c.partnerId', '=', 'i.partnerId'))
    .select(['i.id', 'i.number', 'i.type', 'i.status', 'i.informational', 'i.customerId', 'c.name as customerName', 'i.currency', 'i.totalMicros',
      'i.taxMicros', 'i.amountDueMicros', 'i.amountPaidMicros', 'i.amountCreditedMicros'])
    .where('i.partnerId', '=', partnerId).where('i.id', '=', invoiceId);
  if (options.lock) q = q.forUpdate('i');
  const inv = await q.executeTakeFirst();
  if (!inv) return null;
  const currency = noteCurrency(inv.currency);
  const lines = await trx.selectFrom('invoiceLines as l')
    .select(['l.position', 'l.description', sql<string>`l.quantity::text`.as('quantity'), 'l.amountMicros', 'l.taxMicros',
      // A line the Invoice app made from the catalog: its variant's monthly cost. A subscription's lines (they name their
      // variant too) may be of another cycle or pro rata: no unit cost is known for them here (null), rather than a wrong one.
      sql<string | null>`case when l.kind in ('subscription', 'add_on', 'activation_fee', 'subscription_renewal', 'add_on_renewal') then null else
        (select p.cost_micros::text from product_prices p where p.variant_id = l.variant_id and p.partner_id = l.partner_id
          and p.currency = ${currency} and p.cycle = 'monthly' and p.archived_at is null order by p.created_at desc limit 1) end`.as('unitCost')])
    .where('l.partnerId', '=', partnerId).where('l.invoiceId', '=', invoiceId).orderBy('l.position').execute();
  const issued = await trx.selectFrom('creditNotes').select(['lines', 'outcome', 'totalMicros'])
    .where('partnerId', '=', partnerId).where('invoiceId', '=', invoiceId).where('status', '=', 'issued').execute();
  const by = creditedByLine(issued);
  const cards = await trx.selectFrom('invoicePayments as p')
    .innerJoin('invoicePayAttempts as a', 'a.id', 'p.attemptId')
    .select(['p.chargeRef', 'a.gateway', sql<string>`sum(p.amount_micros)::text`.as('paid')])
    .where('p.partnerId', '=', partnerId).where('p.invoiceId', '=', invoiceId).where('p.source', '=', 'card').where('p.chargeRef', 'is not', null)
    .groupBy(['p.chargeRef', 'a.gateway']).execute();
  const refunded = cards.length === 0 ? [] : await trx.selectFrom('creditNoteRefunds')
    .select(['chargeRef', sql<string>`sum(amount_micros)::text`.as('refunded')])
    .where('partnerId', '=', partnerId).where('chargeRef', 'in', cards.map((c) => c.chargeRef!)).where('status', '<>', 'failed')
    .groupBy('chargeRef').execute();
  const pending = await trx.selectFrom('invoicePayAttempts').select('id').where('partnerId', '=', partnerId).where('invoiceId', '=', invoiceId)
    .where('status', '=', 'pending').executeTakeFirst();
  // Termination refunds of subscriptions this invoice billed gave money back on it too (src/subscriptions/terminate-subscription.ts).
  const terminationRefunds = await trx.selectFrom('subscriptionRefundInvoices').select(sql<string>`coalesce(sum(amount_micros), 0)::text`.as('micros'))
    .where('partnerId', '=', partnerId).where('invoiceId', '=', invoiceId).executeTakeFirstOrThrow();
  return {
    invoice: {
      id: inv.id, number: inv.number, type: inv.type, status: inv.status, informational: inv.informational, customerId: inv.customerId,
      customerName: inv.customerName, currency, totalMicros: BigInt(inv.totalMicros), taxMicros: BigInt(inv.taxMicros),
      amountDueMicros: BigInt(inv.amountDueMicros), amountPaidMicros: BigInt(inv.amountPaidMicros), amountCreditedMicros: BigInt(inv.amountCreditedMicros),
    },
    lines: lines.map((l) => {
      const c = by.get(l.position);
      return {
        position: l.position, description: l.description, quantity: l.quantity, amountMicros: BigInt(l.amountMicros), taxMicros: BigInt(l.taxMicros),
        unitCostMicros: l.unitCost === null ? null : BigInt(l.unitCost),
        creditedAmountMicros: c?.amountMicros ?? 0n, creditedTaxMicros: c?.taxMicros ?? 0n, creditedQuantity: c?.quantity ?? 0n,
        creditedAmountByQuantityMicros: c?.amountByQuantityMicros ?? 0n,
      };
    }),
    creditedMicros: issued.reduce((s, n) => s + BigInt(n.totalMicros), 0n),
    paidOutMicros: issued.filter((n) => n.outcome === 'points' || n.outcome === 'refund').reduce((s, n) => s + BigInt(n.totalMicros), 0n)
      + BigInt(terminationRefunds.micros),
    terminationRefundedMicros: BigInt(terminationRefunds.micros),
    cardCharges: cards.map((c) => ({
      chargeRef: c.chargeRef!, gateway: c.gateway ?? 'sandbox', paidMicros: BigInt(c.paid),
      refundedMicros: BigInt(refunded.find((r) => r.chargeRef === c.chargeRef)?.refunded ?? '0'),
    })),
    pendingPayment: pending !== undefined,
  };
}

export const creditableSchema = z.object({
  invoice: z.object({
    id: z.string(), number: z.string().nullable(), type: z.string(), status: z.string(), currency: z.string(),
    customer: z.object({ id: z.string(), name: z.string() }),
    total: money, amountPaid: money, amountDue: money,
  }),
  creditable: z.object({
    notCreditableReason: z.string().nullable(),
    total: money.describe('invoice total less issued credit notes'),
    reduceDue: money.describe('at most this with outcome reduce_due (the amount due)'),
    pointsOrRefund: money.describe('at most this with outcome points or refund (paid less what was already given back)'),
    card: money.describe('at most this refunded to the card (card payments less earlier card refunds)'),
  }),
  lines: z.array(z.object({
    position: z.number().int(), description: z.string(), quantity: z.string(), amount: money, tax: money,
    creditableQuantity: z.string(), creditableAmount: money, creditableTax: money,
    unitCost: money.nullable().describe('null: no cost known'),
  })),
});
export type Creditable = z.infer<typeof creditableSchema>;

export function outcomeLimits(f: InvoiceCreditFacts): { total: bigint; reduceDue: bigint; pointsOrRefund: bigint; card: bigint } {
  const total = creditableOf(f.lines).totalMicros;
  const paidLeft = f.invoice.amountPaidMicros - f.paidOutMicros;
  const card = f.cardCharges.reduce((s, c) => s + (c.paidMicros - c.refundedMicros), 0n);
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  const pos = (a: bigint) => (a > 0n ? a : 0n);
  return {
    total, reduceDue: f.invoice.informational ? 0n : min(total, f.invoice.amountDueMicros),
    pointsOrRefund: pos(min(total, paidLeft)), card: pos(min(min(total, paidLeft), card)),
  };
}

export function creditableView(f: InvoiceCreditFacts): Creditable {
  const fmt = (m: bigint) => formatDecimal(m, f.invoice.currency);
  const limits = outcomeLimits(f);
  const q = (m: bigint) => displayQuantity(`${m / 1_000_000n}.${(m % 1_000_000n).toString().padStart(6, '0')}`);
  return {
    invoice: {
      id: f.invoice.id, number: f.invoice.number, type: f.invoice.type, status: f.invoice.status, currency: f.invoice.currency,
      customer: { id: f.invoice.customerId, name: f.invoice.customerName },
      total: fmt(f.invoice.totalMicros), amountPaid: fmt(f.invoice.amountPaidMicros), amountDue: fmt(f.invoice.amountDueMicros),
    },
    creditable: {
      notCreditableReason: notCreditableReason(f.invoice),
      total: fmt(limits.total), reduceDue: fmt(limits.reduceDue), pointsOrRefund: fmt(limits.pointsOrRefund), card: fmt(limits.card),
    },
    lines: f.lines.map((l) => {
      const left = remainingOf(l);
      return {
        position: l.position, description: l.description, quantity: displayQuantity(l.quantity), amount: fmt(l.amountMicros), tax: fmt(l.taxMicros),
        creditableQuantity: q(left.quantity), creditableAmount: fmt(left.amountMicros), creditableTax: fmt(left.taxMicros),
        unitCost: l.unitCostMicros === null ? null : formatDecimal(l.unitCostMicros, f.invoice.currency, 6),
      };
    }),
  };
}

export { parseQuantity };
