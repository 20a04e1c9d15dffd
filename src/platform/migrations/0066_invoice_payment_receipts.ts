import { sql, type Kysely } from 'kysely';

/**
 * The receipt number of the Finance payment that paid (part of) an invoice, on its `invoice_payments` row (source
 * `allocation`): the invoice's screen and PDF name the receipt the customer was sent (`RCT-2026-000015`), not the
 * payment's internal id. Receipt numbers never change once given, so the copy cannot go stale; rows written before are
 * filled from their payments. Portal requests cannot read `payments` (partner rows only), hence the copy.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table invoice_payments add column receipt_number text;
    update invoice_payments ip set receipt_number = p.receipt_number
      from payments p where p.partner_id = ip.partner_id and p.id = ip.payment_id and ip.payment_id is not null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table invoice_payments drop column receipt_number`.execute(db);
}
