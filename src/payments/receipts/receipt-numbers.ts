import { sql } from 'kysely';
import type { Trx } from '../../platform/database.ts';
import { formatInvoiceNumber } from '../../invoices/invoice-numbers.ts';

/** Receipt numbers: `RCT-{YYYY}-{seq:06}`, the year the payment was recorded (UTC). One format for every partner. */
export const RECEIPT_NUMBER_FORMAT = 'RCT-{YYYY}-{seq:06}';

/**
 * The partner's next receipt number, inside the caller's transaction: the `receipt` series of `invoice_number_series`
 * (migration 0037) through `folio_next_invoice_numbers`, which keeps the counter row locked until the caller commits, so
 * receipt numbers are gapless and in commit order, and a rolled-back payment gives its number back. The series is apart
 * from the invoice series: a receipt never takes an invoice's number.
 */
export async function nextReceiptNumber(trx: Trx, partnerId: string, recordedAt: Date): Promise<string> {
  const { rows } = await sql<{ last: string }>`select folio_next_invoice_numbers(${partnerId}, 'receipt', 1)::text as last`.execute(trx);
  return formatInvoiceNumber(RECEIPT_NUMBER_FORMAT, BigInt(rows[0]!.last), recordedAt);
}
