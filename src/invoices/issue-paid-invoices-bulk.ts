import assert from 'node:assert/strict';
import { isWholeMinorUnits, type Currency } from '../money/money.ts';
import type { Trx } from '../platform/database.ts';
import type { InvoiceType } from '../platform/db-types.ts';
import { newId } from '../platform/ids.ts';
import { nextInvoiceNumbers } from './invoice-numbers.ts';
import { sql } from 'kysely';
import { insertUnnest, unnestOf, type ColumnType } from '../subscriptions/renewals/bulk-writes.ts';
import type { TaxCategory } from './invoice-totals.ts';
import type { PaidAtIssue } from './issue-paid-invoice.ts';

export interface BulkInvoiceLineInput {
  /** What the line is (snake_case): `subscription_renewal`, `add_on_renewal`, ... */
  kind: string;
  description: string;
  quantity: number;
  /** Pre-tax, whole minor units, positive; the line's amount is unit x quantity. */
  unitAmountMicros: bigint;
  /** Whole minor units; 0 when the line carries no tax. */
  taxMicros: bigint;
  /** A Discount-app discount on the line (whole minor units, at most unit x quantity); the line's amount is the rest. */
  discountMicros?: bigint;
  discountId?: string | null;
  /** The catalog product and variant the line renews (none: a free-text line). */
  productId?: string | null;
  variantId?: string | null;
  /** The product's tax category (default `standard`); a `zero_rated` or `exempt` line carries no tax and rate 0. */
  taxCategory?: TaxCategory;
  /** The rate applied to the line, in basis points (default 0). */
  taxRateBps?: number;
}

export interface BulkInvoiceInput {
  customerId: string;
  currency: Currency;
  lines: readonly BulkInvoiceLineInput[];
  /** What paid it as it was issued: one `invoice_payments` row for the whole total (as issuePaidInvoice writes it). */
  paidWith: PaidAtIssue;
}

export interface IssuedBulkInvoice {
  id: string;
  number: string;
  subtotalMicros: bigint;
  taxMicros: bigint;
  totalMicros: bigint;
}

const INVOICE_COLUMNS: readonly (readonly [string, ColumnType])[] = [
  ['id', 'text'], ['partner_id', 'text'], ['customer_id', 'text'], ['type', 'text'], ['status', 'text'], ['number', 'text'], ['currency', 'text'],
  ['subtotal_micros', 'bigint'], ['discount_micros', 'bigint'], ['tax_micros', 'bigint'], ['total_micros', 'bigint'], ['amount_due_micros', 'bigint'], ['amount_paid_micros', 'bigint'],
  ['issued_at', 'timestamptz'], ['due_at', 'timestamptz'], ['paid_at', 'timestamptz'], ['updated_at', 'timestamptz'],
];

/** Rows per INSERT statement (one array parameter per column). */
const CHUNK_ROWS = 5000;

/**
 * Issue many invoices of one partner that are paid as they are issued (renewals paid from points), inside the caller's
 * transaction, with a few statements whatever their number: consecutive numbers from the partner's sequence (one call,
 * in input order), then multi-row INSERTs of invoices, lines and what paid them (one `invoice_payments` row per invoice
 * with something to pay, naming its entry). Same rules as `issuePaidInvoice`: positive lines in whole minor units, status
 * `paid`, nothing due. The entries that paid them are posted by the caller in the same transaction, under the ids given.
 */
export async function issuePaidInvoicesBulk(
  trx: Trx,
  input: { partnerId: string; type: InvoiceType; paidAt: Date; invoices: readonly BulkInvoiceInput[] },
): Promise<IssuedBulkInvoice[]> {
  if (input.invoices.length === 0) return [];
  const totals = input.invoices.map((invoice) => {
    assert(invoice.lines.length > 0, 'an invoice has at least one line');
    let subtotal = 0n;
    let tax = 0n;
    let discount = 0n;
    for (const line of invoice.lines) {
      assert(Number.isInteger(line.quantity) && line.quantity > 0, 'line quantities are positive whole numbers');
      const gross = line.unitAmountMicros * BigInt(line.quantity);
      const lineDiscount = line.discountMicros ?? 0n;
      assert(gross > 0n && line.taxMicros >= 0n && lineDiscount >= 0n && lineDiscount <= gross, 'invoice lines are positive, discounts within the gross');
      assert(isWholeMinorUnits(gross, invoice.currency) && isWholeMinorUnits(lineDiscount, invoice.currency) && isWholeMinorUnits(line.taxMicros, invoice.currency), 'invoice lines are whole minor units');
      const rate = line.taxRateBps ?? 0;
      assert(Number.isInteger(rate) && rate >= 0 && rate <= 10_000, 'a tax rate between 0 and 100%');
      assert((line.taxCategory ?? 'standard') === 'standard' || (rate === 0 && line.taxMicros === 0n), 'a zero-rated or exempt line carries no tax');
      subtotal += gross - lineDiscount;
      discount += lineDiscount;
      tax += line.taxMicros;
    }
    return { subtotal, tax, discount };
  });
  // One step takes n consecutive numbers (migration 0025); the counter row stays locked until the caller commits (no gaps, commit order).
  const numbers = await nextInvoiceNumbers(trx, input.partnerId, input.type, input.paidAt, input.invoices.length);
  assert(numbers.length === input.invoices.length, 'one number per invoice');

  const issued: IssuedBulkInvoice[] = [];
  const invoiceRows: (string | number | bigint | Date)[][] = [];
  const lineRows: (string | number | bigint | null)[][] = [];
  const paymentRows: (string | bigint | Date | null)[][] = [];
  for (const [i, invoice] of input.invoices.entries()) {
    const id = newId('inv');
    const number = numbers[i]!;
    const { subtotal, tax, discount } = totals[i]!;
    issued.push({ id, number, subtotalMicros: subtotal, taxMicros: tax, totalMicros: subtotal + tax });
    invoiceRows.push([id, input.partnerId, invoice.customerId, input.type, 'paid', number, invoice.currency, subtotal, discount, tax, subtotal + tax, 0n, subtotal + tax,
      input.paidAt, input.paidAt, input.paidAt, input.paidAt]);
    for (const [position, line] of invoice.lines.entries()) {
      const gross = line.unitAmountMicros * BigInt(line.quantity);
      const lineDiscount = line.discountMicros ?? 0n;
      lineRows.push([id, input.partnerId, invoice.customerId, position + 1, line.kind, line.description.slice(0, 500), line.productId ?? null, line.variantId ?? null,
        line.quantity, line.unitAmountMicros, gross, lineDiscount, line.discountId ?? null, gross - lineDiscount, line.taxCategory ?? 'standard', line.taxRateBps ?? 0,
        line.taxMicros]);
    }
    // What paid it (amount paid = total); none when a discount left nothing to pay (the row's amount is positive).
    if (subtotal + tax > 0n) {
      const paid = invoice.paidWith;
      paymentRows.push([newId('ipy'), input.partnerId, invoice.customerId, id, paid.source, invoice.currency, subtotal + tax, paid.entryId, paid.chargeRef ?? null,
        paid.paidBy, input.paidAt]);
    }
  }
  for (let i = 0; i < invoiceRows.length; i += CHUNK_ROWS) {
    const chunk = invoiceRows.slice(i, i + CHUNK_ROWS);
    const { names, arrays } = unnestOf(INVOICE_COLUMNS, chunk);
    // The seller and the bill-to are taken here, in the statement that issues, by the functions the issue triggers use
    // (migration 0079): the seller once for the statement, each customer's contact by a join (not a lookup per row).
    const inserted = await sql`
      insert into invoices (${names}, seller, seller_logo_sha256, bill_to)
      select u.*, s.seller, s.logo_sha256, folio_contact_of(c)
        from unnest(${arrays}) as u (${names})
        cross join folio_seller_now(${input.partnerId}) s
        join customers c on c.partner_id = u.partner_id and c.id = u.customer_id`.execute(trx);
    assert(inserted.numAffectedRows === BigInt(chunk.length), 'every invoice inserted (its customer is the partner\'s)');
  }
  for (let i = 0; i < lineRows.length; i += CHUNK_ROWS) {
    await insertUnnest(trx, 'invoice_lines', [
      ['invoice_id', 'text'], ['partner_id', 'text'], ['customer_id', 'text'], ['position', 'int'], ['kind', 'text'], ['description', 'text'], ['product_id', 'text'],
      ['variant_id', 'text'], ['quantity', 'int'], ['unit_amount_micros', 'bigint'], ['gross_micros', 'bigint'], ['discount_micros', 'bigint'], ['discount_id', 'text'],
      ['amount_micros', 'bigint'], ['tax_category', 'text'], ['tax_rate_bps', 'int'], ['tax_micros', 'bigint'],
    ], lineRows.slice(i, i + CHUNK_ROWS));
  }
  for (let i = 0; i < paymentRows.length; i += CHUNK_ROWS) {
    await insertUnnest(trx, 'invoice_payments', [
      ['id', 'text'], ['partner_id', 'text'], ['customer_id', 'text'], ['invoice_id', 'text'], ['source', 'text'], ['currency', 'char(3)'], ['amount_micros', 'bigint'],
      ['entry_id', 'text'], ['charge_ref', 'text'], ['paid_by', 'text'], ['created_at', 'timestamptz'],
    ], paymentRows.slice(i, i + CHUNK_ROWS));
  }
  return issued;
}
