import assert from 'node:assert/strict';
import type { Currency } from '../money/money.ts';
import type { Trx } from '../platform/database.ts';
import type { AccountCode, InvoiceType } from '../platform/db-types.ts';
import { newId } from '../platform/ids.ts';
import { postEntry } from '../ledger/post-entry.ts';
import { nextInvoiceNumber } from './invoice-numbers.ts';
import { lineFigures, type IssuedInvoice, type InvoiceLineInput } from './issue-paid-invoice.ts';

export interface ReceivableLineInput extends InvoiceLineInput {
  /** The revenue account the line's pre-tax amount is credited to (`revenue:subscription`, `revenue:one_time`, ...). */
  revenueCode: Extract<AccountCode, `revenue:${string}`>;
}

export interface IssuedUnpaidInvoice extends IssuedInvoice {
  dueAt: Date;
  entryId: string;
}

/**
 * Issue an invoice that waits for payment (status `awaiting_payment`, the whole total due), inside the caller's
 * transaction, and post what it bills: Dr `receivable:{c}` total · Cr each line's revenue account · Cr `tax_payable`
 * (../shared/ledger-design.md, "purchase invoice issued"). Due `dueDays` after issue (the partner's `invoice_due_days`
 * when not given). Paying it (the Invoices issue) moves the receivable to what paid it.
 */
export async function issueInvoice(
  trx: Trx,
  input: {
    partnerId: string; customerId: string; type: InvoiceType; currency: Currency; lines: readonly ReceivableLineInput[]; issuedAt: Date;
    dueDays?: number;
    /** The invoice's id, when the caller chose it before (e.g. to name the invoice as the entry's cause). */
    id?: string;
    entry: { kind: string; causeType: string; causeId: string; description: string; auditEventId: string | null };
  },
): Promise<IssuedUnpaidInvoice> {
  assert(input.lines.length > 0, 'an invoice has at least one line');
  let subtotal = 0n;
  let tax = 0n;
  const revenue = new Map<ReceivableLineInput['revenueCode'], bigint>();
  let discount = 0n;
  for (const line of input.lines) {
    const figures = lineFigures(line, input.currency);
    subtotal += figures.net;
    discount += figures.discount;
    tax += line.taxMicros ?? 0n;
    revenue.set(line.revenueCode, (revenue.get(line.revenueCode) ?? 0n) + line.amountMicros);
  }
  let dueDays = input.dueDays;
  if (dueDays === undefined) {
    const settings = await trx.selectFrom('partnerSettings').select('invoiceDueDays').where('partnerId', '=', input.partnerId).executeTakeFirst();
    dueDays = settings?.invoiceDueDays ?? 14;
  }
  const dueAt = new Date(input.issuedAt.getTime() + dueDays * 86_400_000);
  const id = input.id ?? newId('inv');
  const number = await nextInvoiceNumber(trx, input.partnerId, input.type, input.issuedAt);
  const total = subtotal + tax;
  await trx
    .insertInto('invoices')
    .values({
      id, partnerId: input.partnerId, customerId: input.customerId, type: input.type, status: 'awaiting_payment', number, currency: input.currency,
      subtotalMicros: subtotal, discountMicros: discount, taxMicros: tax, totalMicros: total, amountDueMicros: total,
      issuedAt: input.issuedAt, dueAt, paidAt: null, createdAt: input.issuedAt, updatedAt: input.issuedAt,
    })
    .execute();
  await trx
    .insertInto('invoiceLines')
    .values(input.lines.map((line, i) => {
      // Quantity, unit price, product, tax category and rate as the caller gave them (checked by lineFigures, as issuePaidInvoice does).
      const f = lineFigures(line, input.currency);
      return {
        invoiceId: id, partnerId: input.partnerId, customerId: input.customerId, position: i + 1, kind: line.kind, description: line.description.slice(0, 500),
        productId: f.productId, variantId: f.variantId, quantity: f.quantity, unitAmountMicros: f.unitAmountMicros, grossMicros: f.gross,
        discountMicros: f.discount, discountId: line.discountId ?? null, amountMicros: f.net, taxCategory: f.taxCategory, taxRateBps: f.taxRateBps,
        taxMicros: line.taxMicros ?? 0n,
      };
    }))
    .execute();
  const posted = await postEntry(trx, {
    ...input.entry, partnerId: input.partnerId, currency: input.currency, customerId: input.customerId,
    postings: [
      { code: 'receivable', customerId: input.customerId, amountMicros: total },
      ...[...revenue].filter(([, amount]) => amount > 0n).map(([code, amount]) => ({ code, amountMicros: -amount })),
      ...(tax > 0n ? [{ code: 'tax_payable' as const, amountMicros: -tax }] : []),
    ],
  });
  return { id, number, subtotalMicros: subtotal, taxMicros: tax, totalMicros: total, dueAt, entryId: posted.entryId };
}
