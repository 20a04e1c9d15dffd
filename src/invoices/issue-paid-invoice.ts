import assert from 'node:assert/strict';
import { isWholeMinorUnits, type Currency } from '../money/money.ts';
import type { Trx } from '../platform/database.ts';
import type { InvoiceType } from '../platform/db-types.ts';
import { newId } from '../platform/ids.ts';
import { nextInvoiceNumber } from './invoice-numbers.ts';

export interface InvoiceLineInput {
  /** What the line is: `points`, `admin_fee`, ... (snake_case). */
  kind: string;
  description: string;
  /** Pre-tax, whole minor units, positive. */
  amountMicros: bigint;
  /** Whole minor units; 0 when the line carries no tax (a top-up is a deposit: docs/adr/0008). */
  taxMicros?: bigint;
  /** A Discount-app discount already taken off `amountMicros` (the net); the line's gross is amount + discount. */
  discountMicros?: bigint;
  discountId?: string | null;
}

/** Gross, discount and net of a line (the net may be 0 when a discount covers the whole price). */
export function lineFigures(line: InvoiceLineInput, currency: Currency): { gross: bigint; discount: bigint; net: bigint } {
  const discount = line.discountMicros ?? 0n;
  const gross = line.amountMicros + discount;
  assert(gross > 0n && line.amountMicros >= 0n && discount >= 0n && (line.taxMicros ?? 0n) >= 0n, 'invoice lines are positive');
  assert(isWholeMinorUnits(gross, currency) && isWholeMinorUnits(discount, currency) && isWholeMinorUnits(line.taxMicros ?? 0n, currency), 'invoice lines are whole minor units');
  return { gross, discount, net: line.amountMicros };
}

export interface IssuedInvoice {
  id: string;
  number: string;
  subtotalMicros: bigint;
  taxMicros: bigint;
  totalMicros: bigint;
}

/**
 * Issue an invoice that is paid as it is issued (a card top-up), inside the caller's transaction: a number from the
 * partner's sequence, its lines, status `paid`, nothing due. What paid it is posted by the caller in the same
 * transaction (the ledger entry names the invoice's cause).
 */
export async function issuePaidInvoice(
  trx: Trx,
  input: { partnerId: string; customerId: string; type: InvoiceType; currency: Currency; lines: readonly InvoiceLineInput[]; paidAt: Date },
): Promise<IssuedInvoice> {
  assert(input.lines.length > 0, 'an invoice has at least one line');
  let subtotal = 0n;
  let tax = 0n;
  let discount = 0n;
  for (const line of input.lines) {
    const figures = lineFigures(line, input.currency);
    subtotal += figures.net;
    discount += figures.discount;
    tax += line.taxMicros ?? 0n;
  }
  const id = newId('inv');
  const number = await nextInvoiceNumber(trx, input.partnerId, input.type, input.paidAt);
  const total = subtotal + tax;
  await trx
    .insertInto('invoices')
    .values({
      id, partnerId: input.partnerId, customerId: input.customerId, type: input.type, status: 'paid', number, currency: input.currency,
      subtotalMicros: subtotal, discountMicros: discount, taxMicros: tax, totalMicros: total, amountDueMicros: 0n, amountPaidMicros: total,
      issuedAt: input.paidAt, dueAt: input.paidAt, paidAt: input.paidAt, updatedAt: input.paidAt,
    })
    .execute();
  await trx
    .insertInto('invoiceLines')
    .values(input.lines.map((line, i) => ({
      invoiceId: id, partnerId: input.partnerId, customerId: input.customerId, position: i + 1, kind: line.kind, description: line.description.slice(0, 500),
      quantity: 1, unitAmountMicros: line.amountMicros + (line.discountMicros ?? 0n), grossMicros: line.amountMicros + (line.discountMicros ?? 0n),
      discountMicros: line.discountMicros ?? 0n, discountId: line.discountId ?? null, amountMicros: line.amountMicros, taxMicros: line.taxMicros ?? 0n,
    })))
    .execute();
  return { id, number, subtotalMicros: subtotal, taxMicros: tax, totalMicros: total };
}
