import { sql } from 'kysely';
import { z } from 'zod';
import type { Executor } from '../platform/database.ts';
import { DomainError, notFound } from '../platform/errors.ts';
import { formatDecimal, isCurrency, type Currency } from '../money/money.ts';
import { PAYMENT_METHODS, PAYMENT_STATUSES, type PaymentMethod, type PaymentStatus } from './payments.db-types.ts';

export const paymentAllocationSchema = z.object({
  id: z.string(),
  kind: z.enum(['invoice', 'points']).describe('invoice: applied to an invoice; points: the leftover turned into points'),
  invoiceId: z.string().nullable(),
  invoiceNumber: z.string().nullable(),
  amount: z.string(),
  adminFee: z.string().nullable().describe('Of amount, what paid a Top-up invoice\'s admin fee (paid first; the rest bought points); null when none did'),
  entryId: z.string(),
  createdAt: z.string(),
  reversedAt: z.string().nullable(),
});

export const paymentSummarySchema = z.object({
  id: z.string(),
  receiptNumber: z.string().describe('The receipt\'s number (RCT-2026-000042): its PDF is GET /api/v1/payments/{id}/receipt.pdf'),
  status: z.enum(PAYMENT_STATUSES),
  method: z.enum(PAYMENT_METHODS),
  customer: z.object({ id: z.string(), name: z.string() }).nullable(),
  currency: z.string(),
  amount: z.string(),
  unallocated: z.string().describe('What is still free to allocate (kept on the customer\'s unapplied account)'),
  allocated: z.string().describe('Applied to invoices (active allocations)'),
  toPoints: z.string().describe('Turned into points as leftover'),
  receivedOn: z.string(),
  reference: z.string().nullable(),
  remark: z.string().nullable(),
  reversedAt: z.string().nullable(),
  reversalReason: z.string().nullable(),
  createdAt: z.string(),
});
export type PaymentSummary = z.infer<typeof paymentSummarySchema>;

export const paymentDetailSchema = paymentSummarySchema.extend({
  allocations: z.array(paymentAllocationSchema),
});
export type PaymentDetail = z.infer<typeof paymentDetailSchema>;

export function paymentCurrency(code: string): Currency {
  if (!isCurrency(code)) throw new DomainError('state_conflict', `Currency ${code} is not supported`);
  return code;
}

/** The summary columns of one partner's payments, with the customer's name. */
export function paymentSummaryQuery(db: Executor, partnerId: string) {
  return db.selectFrom('payments as p')
    .leftJoin('customers as c', (j) => j.onRef('c.id', '=', 'p.customerId').onRef('c.partnerId', '=', 'p.partnerId'))
    .select([
      'p.id', 'p.receiptNumber', 'p.status', 'p.method', 'p.customerId', 'c.name as customerName', 'p.currency', 'p.amountMicros', 'p.unallocatedMicros',
      'p.pointsMicros', sql<string>`p.received_on::text`.as('receivedOn'), 'p.reference', 'p.remark', 'p.reversedAt', 'p.reversalReason', 'p.createdAt',
    ])
    .where('p.partnerId', '=', partnerId);
}

export interface PaymentSummaryRow {
  id: string;
  receiptNumber: string;
  status: PaymentStatus;
  method: PaymentMethod;
  customerId: string | null;
  customerName: string | null;
  currency: string;
  amountMicros: string;
  unallocatedMicros: string;
  pointsMicros: string;
  receivedOn: string;
  reference: string | null;
  remark: string | null;
  reversedAt: Date | null;
  reversalReason: string | null;
  createdAt: Date;
}

export function toPaymentSummary(r: PaymentSummaryRow): PaymentSummary {
  const currency = paymentCurrency(r.currency);
  const fmt = (m: bigint) => formatDecimal(m, currency);
  const amount = BigInt(r.amountMicros);
  const points = BigInt(r.pointsMicros);
  const unallocated = BigInt(r.unallocatedMicros);
  return {
    id: r.id, receiptNumber: r.receiptNumber, status: r.status, method: r.method,
    customer: r.customerId ? { id: r.customerId, name: r.customerName ?? '' } : null,
    currency, amount: fmt(amount), unallocated: fmt(r.status === 'reversed' ? 0n : unallocated),
    allocated: fmt(r.status === 'reversed' ? 0n : amount - unallocated - points), toPoints: fmt(r.status === 'reversed' ? 0n : points),
    receivedOn: r.receivedOn, reference: r.reference, remark: r.remark,
    reversedAt: r.reversedAt?.toISOString() ?? null, reversalReason: r.reversalReason, createdAt: r.createdAt.toISOString(),
  };
}

/** One payment of the partner with its allocations (oldest first), or 404. */
export async function loadPaymentDetail(db: Executor, partnerId: string, paymentId: string): Promise<PaymentDetail> {
  const row = await paymentSummaryQuery(db, partnerId).where('p.id', '=', paymentId).executeTakeFirst();
  if (!row) throw notFound('Payment');
  const summary = toPaymentSummary(row);
  const currency = paymentCurrency(row.currency);
  const allocations = await db.selectFrom('paymentAllocations as a')
    .leftJoin('invoices as i', (j) => j.onRef('i.id', '=', 'a.invoiceId').onRef('i.partnerId', '=', 'a.partnerId'))
    .select(['a.id', 'a.kind', 'a.invoiceId', 'i.number as invoiceNumber', 'a.amountMicros', 'a.feeMicros', 'a.entryId', 'a.createdAt', 'a.reversedAt'])
    .where('a.partnerId', '=', partnerId).where('a.paymentId', '=', paymentId)
    .orderBy('a.id')
    .execute();
  return {
    ...summary,
    allocations: allocations.map((a) => ({
      id: a.id, kind: a.kind, invoiceId: a.invoiceId, invoiceNumber: a.invoiceNumber ?? null, amount: formatDecimal(BigInt(a.amountMicros), currency),
      adminFee: BigInt(a.feeMicros) > 0n ? formatDecimal(BigInt(a.feeMicros), currency) : null,
      entryId: a.entryId, createdAt: a.createdAt.toISOString(), reversedAt: a.reversedAt?.toISOString() ?? null,
    })),
  };
}

/** The payment row, locked for the rest of the transaction (after any wallet lock, before invoices). */
export async function lockPayment(trx: Executor, partnerId: string, paymentId: string) {
  const row = await trx.selectFrom('payments').selectAll().where('partnerId', '=', partnerId).where('id', '=', paymentId).forUpdate().executeTakeFirst();
  if (!row) throw notFound('Payment');
  return row;
}

/** The status a payment of a customer has, from what is still unallocated. */
export function statusOf(amountMicros: bigint, unallocatedMicros: bigint): PaymentStatus {
  if (unallocatedMicros === amountMicros) return 'unallocated';
  if (unallocatedMicros === 0n) return 'allocated';
  return 'partially_allocated';
}
