import { sql } from 'kysely';
import type { Trx } from '../platform/database.ts';

/**
 * Invoice numbers: one counter per partner (`invoice_number_sequences`, migration 0014), never reset, taken through
 * `folio_next_invoice_number` which keeps the counter row locked until the caller's transaction ends, so numbers are
 * handed out in commit order, without gaps, and a rolled-back invoice gives its number back. The counter is not per
 * year, so a partner's format may leave the year out without repeating a number.
 * Format (until partners can set theirs): `INV-<year issued, UTC>-<counter, 6 digits or more>`, e.g. `INV-2026-000123`.
 */
export function formatInvoiceNumber(sequence: bigint, issuedAt: Date): string {
  return `INV-${issuedAt.getUTCFullYear()}-${sequence.toString().padStart(6, '0')}`;
}

/** The partner's next invoice number, inside the caller's transaction (which must see that partner: any of its scopes). */
export async function nextInvoiceNumber(trx: Trx, partnerId: string, issuedAt: Date): Promise<string> {
  const { rows } = await sql<{ n: string }>`select folio_next_invoice_number(${partnerId})::text as n`.execute(trx);
  return formatInvoiceNumber(BigInt(rows[0]!.n), issuedAt);
}
