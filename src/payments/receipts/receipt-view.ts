import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Executor } from '../../platform/database.ts';
import { notFound } from '../../platform/errors.ts';
import { formatDecimal } from '../../money/money.ts';
import { sellerOf } from '../../invoices/invoice-views.ts';
import type { SellerView } from '../../invoices/invoice-view-types.ts';
import type { PaymentMethod, PaymentStatus } from '../payments.db-types.ts';
import { paymentCurrency } from '../payment-views.ts';

/** A line of the receipt: what the payment paid (an invoice, or points), active or reversed. */
export interface ReceiptLine {
  kind: 'invoice' | 'points';
  invoiceId: string | null;
  invoiceNumber: string | null;
  invoiceType: 'purchase' | 'monthly' | 'top_up' | null;
  amount: string;
  /** Of amount, what paid a Top-up invoice's admin fee; null when none did (docs/adr/0043). */
  adminFee: string | null;
  /** Of amount, the points it bought when the rest paid an admin fee (amount - adminFee); null when none or no fee. */
  pointsBought: string | null;
  at: string;
  reversed: boolean;
}

/**
 * A payment's receipt as the customer and Finance see it (the PDF and the notice): the seller's invoicing branding as it
 * was when the payment was recorded (its receipt was issued then: migration 0076), the payer's billing contact as it was
 * when the payment got its customer (migration 0078; null while unassigned), the payment, and what it paid. Amounts are decimal strings in the payment's currency. For a reversed payment the lines are the allocations it had (all marked reversed) and the
 * figures `allocated`, `toPoints`, `unallocated` are what they were just before the reversal; `reversal` says when, why,
 * and the debit note that billed points already spent (if any).
 */
export interface ReceiptView {
  paymentId: string;
  number: string;
  status: PaymentStatus;
  method: PaymentMethod;
  currency: string;
  amount: string;
  receivedOn: string;
  reference: string | null;
  recordedAt: string;
  seller: SellerView;
  payer: { id: string; name: string; email: string | null; phone: string | null; address: string | null } | null;
  lines: ReceiptLine[];
  allocated: string;
  toPoints: string;
  unallocated: string;
  reversal: { at: string; reason: string; debitNote: { id: string; number: string | null } | null } | null;
}

/**
 * What an allocation to a Top-up invoice did, in words (the notice and the PDF say it the same way): credited to points,
 * or, when part of it paid the invoice's admin fee (docs/adr/0043), that part and the rest.
 */
export function topUpSplit(line: Pick<ReceiptLine, 'adminFee' | 'pointsBought'>): string {
  if (line.adminFee === null) return 'credited to your points';
  return line.pointsBought === null ? `admin fee ${line.adminFee}` : `admin fee ${line.adminFee}, ${line.pointsBought} credited to your points`;
}

export const METHOD_LABEL: Record<PaymentMethod, string> = {
  bank_transfer: 'Bank transfer', giro: 'GIRO', cheque: 'Cheque', cash: 'Cash', card: 'Card', other: 'Other',
};

/** One payment's receipt (the partner's; another partner's is 404). Reads inside the caller's transaction. */
export async function loadReceipt(db: Executor, partnerId: string, paymentId: string): Promise<ReceiptView> {
  const p = await db.selectFrom('payments as p')
    .leftJoin('invoices as d', (j) => j.onRef('d.id', '=', 'p.reversalInvoiceId').onRef('d.partnerId', '=', 'p.partnerId'))
    .select([
      'p.id', 'p.receiptNumber', 'p.status', 'p.method', 'p.currency', 'p.customerId', 'p.amountMicros', 'p.unallocatedMicros', 'p.pointsMicros',
      'p.reference', 'p.createdAt', 'p.reversedAt', 'p.reversalReason', 'p.reversalInvoiceId', 'd.number as debitNoteNumber',
      'p.seller', 'p.sellerLogoSha256', 'p.payer',
    ])
    .select(sql<string>`p.received_on::text`.as('receivedOn'))
    .where('p.partnerId', '=', partnerId).where('p.id', '=', paymentId)
    .executeTakeFirst();
  if (!p) throw notFound('Payment');
  const currency = paymentCurrency(p.currency);
  const fmt = (m: bigint) => formatDecimal(m, currency);
  const rows = await db.selectFrom('paymentAllocations as a')
    .leftJoin('invoices as i', (j) => j.onRef('i.id', '=', 'a.invoiceId').onRef('i.partnerId', '=', 'a.partnerId'))
    .select(['a.kind', 'a.invoiceId', 'i.number as invoiceNumber', 'i.type as invoiceType', 'a.amountMicros', 'a.feeMicros', 'a.createdAt', 'a.reversedAt'])
    .where('a.partnerId', '=', partnerId).where('a.paymentId', '=', paymentId)
    .orderBy('a.id')
    .execute();
  const lines: ReceiptLine[] = rows.map((r) => ({
    kind: r.kind, invoiceId: r.invoiceId, invoiceNumber: r.invoiceNumber ?? null, invoiceType: r.invoiceType ?? null,
    amount: fmt(BigInt(r.amountMicros)), adminFee: BigInt(r.feeMicros) > 0n ? fmt(BigInt(r.feeMicros)) : null,
    pointsBought: BigInt(r.feeMicros) > 0n && BigInt(r.amountMicros) > BigInt(r.feeMicros) ? fmt(BigInt(r.amountMicros) - BigInt(r.feeMicros)) : null, at: r.createdAt.toISOString(), reversed: r.reversedAt !== null,
  }));
  const amount = BigInt(p.amountMicros);
  const reversed = p.status === 'reversed';
  // Allocations are only ever reversed all together, by the payment's reversal, which leaves the payment row's unallocated
  // amount and points as they were: the figures below are the payment's, or what they were just before it was reversed.
  const toInvoices = rows.filter((r) => r.kind === 'invoice').reduce((s, r) => s + BigInt(r.amountMicros), 0n);
  const points = BigInt(p.pointsMicros);
  const unallocated = BigInt(p.unallocatedMicros);
  // The payer as the receipt was issued to it (migration 0078); every payment with a customer has one.
  const payer = p.customerId ? p.payer : null;
  assert(p.customerId === null || payer !== null, 'a payment with a customer has its payer');
  return {
    paymentId: p.id, number: p.receiptNumber, status: p.status, method: p.method, currency, amount: fmt(amount), receivedOn: p.receivedOn,
    reference: p.reference, recordedAt: p.createdAt.toISOString(),
    seller: await sellerOf(db, partnerId, p),
    payer: p.customerId && payer ? { id: p.customerId, name: payer.name, email: payer.email, phone: payer.phone, address: payer.address } : null,
    lines, allocated: fmt(toInvoices), toPoints: fmt(points), unallocated: fmt(unallocated),
    reversal: reversed && p.reversedAt
      ? { at: p.reversedAt.toISOString(), reason: p.reversalReason ?? '', debitNote: p.reversalInvoiceId ? { id: p.reversalInvoiceId, number: p.debitNoteNumber ?? null } : null }
      : null,
  };
}
