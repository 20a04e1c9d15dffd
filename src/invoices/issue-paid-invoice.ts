import assert from 'node:assert/strict';
import { isWholeMinorUnits, type Currency } from '../money/money.ts';
import type { Trx } from '../platform/database.ts';
import type { InvoiceType } from '../platform/db-types.ts';
import { newId } from '../platform/ids.ts';
import { nextInvoiceNumber } from './invoice-numbers.ts';
import type { TaxCategory } from './invoice-totals.ts';

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
  /** The catalog product and variant the line sells (none: a free-text line, a top-up's points or fee). */
  productId?: string | null;
  variantId?: string | null;
  /** Units, a positive whole number (default 1). */
  quantity?: number;
  /**
   * Pre-tax price of one unit, in micros (up to 6 decimals, as the Invoice app's lines). Given, unit x quantity must be
   * EXACTLY the line's gross (amount + discount): an issued line never rounds. Left out: the gross itself, quantity 1.
   */
  unitAmountMicros?: bigint;
  /** The product's tax category (default `standard`); a `zero_rated` or `exempt` line carries no tax and rate 0. */
  taxCategory?: TaxCategory;
  /** The rate applied to the line, in basis points (default 0: no tax, e.g. a top-up, a deposit). */
  taxRateBps?: number;
}

export interface LineFigures {
  gross: bigint;
  discount: bigint;
  net: bigint;
  quantity: number;
  unitAmountMicros: bigint;
  taxCategory: TaxCategory;
  taxRateBps: number;
  productId: string | null;
  variantId: string | null;
}

/**
 * Gross, discount and net of a line (the net may be 0 when a discount covers the whole price), with what the line row
 * carries: quantity and unit price (unit x quantity = gross, exactly), product and variant, tax category and rate.
 */
export function lineFigures(line: InvoiceLineInput, currency: Currency): LineFigures {
  const discount = line.discountMicros ?? 0n;
  const gross = line.amountMicros + discount;
  const tax = line.taxMicros ?? 0n;
  assert(gross > 0n && line.amountMicros >= 0n && discount >= 0n && tax >= 0n, 'invoice lines are positive');
  assert(isWholeMinorUnits(gross, currency) && isWholeMinorUnits(discount, currency) && isWholeMinorUnits(tax, currency), 'invoice lines are whole minor units');
  const quantity = line.quantity ?? 1;
  assert(Number.isSafeInteger(quantity) && quantity > 0, 'line quantities are positive whole numbers');
  const unit = line.unitAmountMicros ?? gross;
  assert(unit >= 0n && unit * BigInt(quantity) === gross, 'a line\'s unit price x quantity is exactly its gross');
  const taxCategory = line.taxCategory ?? 'standard';
  const taxRateBps = line.taxRateBps ?? 0;
  assert(Number.isInteger(taxRateBps) && taxRateBps >= 0 && taxRateBps <= 10_000, 'a tax rate between 0 and 100%');
  assert(taxCategory === 'standard' || (taxRateBps === 0 && tax === 0n), 'a zero-rated or exempt line carries no tax');
  return {
    gross, discount, net: line.amountMicros, quantity, unitAmountMicros: unit, taxCategory, taxRateBps,
    productId: line.productId ?? null, variantId: line.variantId ?? null,
  };
}

/** What paid an invoice as it was issued: one source for its whole total (invoice_payments, as the portal's pay writes them). */
export interface PaidAtIssue {
  source: 'points' | 'card';
  /** The ledger entry that moved the money (pre-assigned when the entry is posted after the invoice: `newId('je')`). */
  entryId: string;
  /** The gateway's charge reference, for a card. */
  chargeRef?: string | null;
  /** The user (or API key) who acted; null for a job (auto top-up, renewal run). */
  paidBy: string | null;
}

export interface IssuedInvoice {
  id: string;
  number: string;
  subtotalMicros: bigint;
  taxMicros: bigint;
  totalMicros: bigint;
}

/**
 * Issue an invoice that is paid as it is issued (a card top-up, a purchase from points), inside the caller's transaction:
 * a number from the partner's sequence, its lines, status `paid`, nothing due, and what paid it (`paidWith`: one
 * `invoice_payments` row for the whole total, naming the ledger entry, so the screen and the PDF list it). The entry itself
 * is posted by the caller in the same transaction (it names the invoice as its cause), under the id given here.
 */
export async function issuePaidInvoice(
  trx: Trx,
  input: {
    partnerId: string; customerId: string; type: InvoiceType; currency: Currency; lines: readonly InvoiceLineInput[]; paidAt: Date;
    paidWith: PaidAtIssue;
  },
): Promise<IssuedInvoice> {
  assert(input.lines.length > 0, 'an invoice has at least one line');
  let subtotal = 0n;
  let tax = 0n;
  let discount = 0n;
  const figures = input.lines.map((line) => lineFigures(line, input.currency));
  for (const [i, line] of input.lines.entries()) {
    subtotal += figures[i]!.net;
    discount += figures[i]!.discount;
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
    .values(input.lines.map((line, i) => {
      const f = figures[i]!;
      return {
        invoiceId: id, partnerId: input.partnerId, customerId: input.customerId, position: i + 1, kind: line.kind, description: line.description.slice(0, 500),
        productId: f.productId, variantId: f.variantId, quantity: f.quantity, unitAmountMicros: f.unitAmountMicros, grossMicros: f.gross,
        discountMicros: f.discount, discountId: line.discountId ?? null, amountMicros: f.net, taxCategory: f.taxCategory, taxRateBps: f.taxRateBps,
        taxMicros: line.taxMicros ?? 0n,
      };
    }))
    .execute();
  // What paid it (amount paid = total); none when a discount left nothing to pay (the row's amount is positive).
  if (total > 0n) {
    await trx.insertInto('invoicePayments').values({
      id: newId('ipy'), partnerId: input.partnerId, customerId: input.customerId, invoiceId: id, source: input.paidWith.source, currency: input.currency,
      amountMicros: total, entryId: input.paidWith.entryId, attemptId: null, paymentId: null, chargeRef: input.paidWith.chargeRef ?? null,
      paidBy: input.paidWith.paidBy, createdAt: input.paidAt,
    }).execute();
  }
  return { id, number, subtotalMicros: subtotal, taxMicros: tax, totalMicros: total };
}
